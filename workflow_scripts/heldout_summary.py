"""One held-out prompt set graded as the test set is (front, metrics, comparison, plot) in the
test set's frame, and each method's drop from the test prompts to it."""

from paretohqd.evaluation.comparison import (comparison_html, comparison_markdown,
                                             comparison_table)
from paretohqd.evaluation.grading import grade
from paretohqd.evaluation.heldout import hypervolume_drops, prompt_stream
from paretohqd.evaluation.plots import plot_front, save_figure
from paretohqd.io import atomic_path, read_json, write_json
from paretohqd.runtime import start

log = start(snakemake)
p = snakemake.params
inputs = snakemake.input
stats = read_json(inputs.stats)
test = grade(p, inputs.test_responses, inputs.test_scores, inputs.test_judged,
             inputs.judge_offline, stats)
heldout = grade(p, inputs.responses, inputs.scores, inputs.judged, inputs.judge_offline, stats,
                prompt_stream=prompt_stream(p.name))
drops = hypervolume_drops(test, heldout, p.objectives, p.bootstrap["level"])
drops.insert(0, "set", p.name)
log.info("%s: drops\n%s", p.name, drops.to_string(index=False))
with atomic_path(snakemake.output.front) as tmp:
    heldout.front.to_csv(tmp, index=False, float_format="%.6g")
with atomic_path(snakemake.output.front_judged) as tmp:
    heldout.judged_front.to_csv(tmp, index=False, float_format="%.6g")
with atomic_path(snakemake.output.drops) as tmp:
    drops.to_csv(tmp, index=False, float_format="%.6g")
metrics = {**heldout.metrics, "set": p.name}
write_json(metrics, snakemake.output.metrics)
comparison = comparison_table(metrics, p.compute_reference)
with atomic_path(snakemake.output.comparison_md) as tmp:
    tmp.write_text(comparison_markdown(comparison, metrics, p.compute_reference),
                   encoding="utf-8")
with atomic_path(snakemake.output.comparison_html) as tmp:
    tmp.write_text(comparison_html(comparison, metrics, p.compute_reference), encoding="utf-8")
save_figure(plot_front(heldout.front, p.objectives, f"held-out set {p.name}"),
            [snakemake.output.png])
