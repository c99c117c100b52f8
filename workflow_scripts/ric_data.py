"""RiC training rows: every scored offline row with its z-scored rewards in the prompt."""

from paretohqd.io import read_table, write_json, write_table
from paretohqd.methods.ric.conditioning import reward_stats, training_rows
from paretohqd.runtime import start

log = start(snakemake)
objectives = snakemake.params.objectives
table = read_table(snakemake.input.table, required=["row_id", "prompt", "response", *objectives],
                   unique=["row_id"])
stats = reward_stats(table, objectives, snakemake.params.reference, snakemake.params.seed)
rows = training_rows(table, objectives, stats)
log.info("%d RiC rows; reward stats %s", len(rows), stats)
write_table(rows, snakemake.output.data)
write_json(stats, snakemake.output.stats)
