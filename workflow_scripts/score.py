"""Score one responses table with one or several objectives' reward scorers (one output file
per objective, in the order of the ``scorers`` param)."""

import pandas as pd

from paretohqd.devices import resolve_device
from paretohqd.io import read_table, write_table
from paretohqd.rewards import build_scorer, check_finite
from paretohqd.runtime import phase, start

log = start(snakemake)
p = snakemake.params
rows = read_table(snakemake.input.responses, required=["row_id", "prompt", "response"],
                  unique=["row_id"])
device = resolve_device(p.device)
for (objective, spec), output in zip(p.scorers.items(), snakemake.output, strict=True):
    with phase(log, "load"):
        scorer = build_scorer(spec, device, p.max_length)
    with phase(log, "work"):
        scores = scorer.score(rows["prompt"].tolist(), rows["response"].tolist(), p.batch_size)
    check_finite(scores, rows["row_id"].tolist(), objective)
    log.info("%s: %d rows scored, mean %.4f", objective, len(rows), float(scores.mean()))
    write_table(pd.DataFrame({"row_id": rows["row_id"], "score": scores}), output)
