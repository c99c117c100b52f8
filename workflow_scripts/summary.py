"""The front table (means over training seeds and test prompts), per-method metrics
(hypervolume, collapse, compute per seed), the same graded by the independent judges (when
there are any), the comparison and the front plots."""

import json

from paretohqd.evaluation.comparison import (comparison_html, comparison_markdown,
                                             comparison_table)
from paretohqd.evaluation.grading import grade
from paretohqd.evaluation.plots import plot_front, save_figure
from paretohqd.io import atomic_path, read_json, write_json
from paretohqd.runtime import start

log = start(snakemake)
p = snakemake.params
inputs = snakemake.input
graded = grade(p, inputs.responses, inputs.scores, inputs.judged, inputs.judge_offline,
               read_json(inputs.stats))
metrics = graded.metrics
log.info("methods: %s", json.dumps(metrics["methods"], indent=1))
with atomic_path(snakemake.output.front) as tmp:
    graded.front.to_csv(tmp, index=False, float_format="%.6g")
with atomic_path(snakemake.output.front_judged) as tmp:
    graded.judged_front.to_csv(tmp, index=False, float_format="%.6g")
write_json(metrics, snakemake.output.metrics)
comparison = comparison_table(metrics, p.compute_reference)
with atomic_path(snakemake.output.comparison_csv) as tmp:
    comparison.to_csv(tmp, index=False, float_format="%.6g")
with atomic_path(snakemake.output.comparison_md) as tmp:
    tmp.write_text(comparison_markdown(comparison, metrics, p.compute_reference),
                   encoding="utf-8")
with atomic_path(snakemake.output.comparison_html) as tmp:
    tmp.write_text(comparison_html(comparison, metrics, p.compute_reference), encoding="utf-8")
save_figure(plot_front(graded.front, p.objectives), [snakemake.output.png, snakemake.output.svg])
