"""Score one responses table with one objective's reward scorer."""

import pandas as pd

from paretohqd.devices import resolve_device
from paretohqd.io import read_table, write_table
from paretohqd.rewards import build_scorer, check_finite
from paretohqd.runtime import start

log = start(snakemake)
p = snakemake.params
rows = read_table(snakemake.input.responses, required=["row_id", "prompt", "response"],
                  unique=["row_id"])
scorer = build_scorer(p.scorer, resolve_device(p.device), p.max_length)
scores = scorer.score(rows["prompt"].tolist(), rows["response"].tolist(), p.batch_size)
check_finite(scores, rows["row_id"].tolist(), snakemake.wildcards.objective)
log.info("%d rows scored, mean %.4f", len(rows), float(scores.mean()))
write_table(pd.DataFrame({"row_id": rows["row_id"], "score": scores}), snakemake.output[0])
