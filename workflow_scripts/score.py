"""Score one responses table with one or several objectives' reward scorers (one output file
per objective, named by it: its folder or file name)."""

from paretohqd.devices import resolve_device
from paretohqd.io import read_table
from paretohqd.runtime import start
from paretohqd.rewards.scoring import write_scores

log = start(snakemake)
p = snakemake.params
rows = read_table(snakemake.input.responses, required=["row_id", "prompt", "response"],
                  unique=["row_id"])
write_scores(rows, p.scorers, list(snakemake.output), resolve_device(p.device),
             p.max_length, p.batch_size, log)
