"""The front table (means over training seeds and test prompts), per-method metrics
(hypervolume, collapse, compute per seed), the same graded by the independent judges (when
there are any), the comparison and the front plots."""

import json

from paretohqd.evaluation.comparison import (comparison_html, comparison_markdown,
                                             comparison_table)
from paretohqd.evaluation.conditioning import desired_rewards
from paretohqd.evaluation.front import build_front
from paretohqd.evaluation.judging import judged_grading
from paretohqd.io import atomic_path, read_json, write_json
from paretohqd.evaluation.metrics import Bootstrap, build_metrics, standard_errors
from paretohqd.evaluation.plots import plot_front, save_figure
from paretohqd.runtime import start

log = start(snakemake)
p = snakemake.params
front, per_prompt = build_front(p.points, p.objectives, snakemake.input.responses,
                                snakemake.input.scores, p.collapse)
bootstrap = Bootstrap(**p.bootstrap)
resamples = bootstrap.draw(per_prompt)
front = standard_errors(front, resamples, p.objectives)
metrics = build_metrics(front, resamples, p.objectives, read_json(snakemake.input.stats),
                        p.reference_point, p.costs, p.compute_reference, bootstrap, p.seeds,
                        per_prompt, desired_rewards(front, p.objectives, p.conditioning_targets))
if p.judges:
    judged_front, metrics["judged"] = judged_grading(
        p.points, p.objectives, snakemake.input.responses, snakemake.input.scores,
        snakemake.input.judged, snakemake.input.judge_offline, p.judges,
        read_json(snakemake.input.stats), p.collapse, bootstrap, p.reference_point,
        p.compute_reference, p.seeds, metrics, resamples)
else:
    judged_front = front.iloc[0:0]
log.info("methods: %s", json.dumps(metrics["methods"], indent=1))
with atomic_path(snakemake.output.front) as tmp:
    front.to_csv(tmp, index=False, float_format="%.6g")
with atomic_path(snakemake.output.front_judged) as tmp:
    judged_front.to_csv(tmp, index=False, float_format="%.6g")
write_json(metrics, snakemake.output.metrics)
comparison = comparison_table(metrics, p.compute_reference)
with atomic_path(snakemake.output.comparison_csv) as tmp:
    comparison.to_csv(tmp, index=False, float_format="%.6g")
with atomic_path(snakemake.output.comparison_md) as tmp:
    tmp.write_text(comparison_markdown(comparison, metrics, p.compute_reference),
                   encoding="utf-8")
with atomic_path(snakemake.output.comparison_html) as tmp:
    tmp.write_text(comparison_html(comparison, metrics, p.compute_reference), encoding="utf-8")
save_figure(plot_front(front, p.objectives), [snakemake.output.png, snakemake.output.svg])
