"""The front table, per-method metrics (hypervolume, collapse, compute) and the front plots."""

import json
from pathlib import Path

from paretohqd.io import atomic_path, write_json
from paretohqd.runtime import start
from paretohqd.summary import (
    build_front,
    build_metrics,
    comparison_markdown,
    comparison_table,
    plot_front,
    save_figure,
)

log = start(snakemake)
p = snakemake.params
stats = json.loads(Path(snakemake.input.stats).read_text())
front = build_front(p.points, p.objectives, snakemake.input.responses, snakemake.input.scores,
                    p.collapse)
metrics = build_metrics(front, p.objectives, stats, p.reference_point, p.costs)
log.info("methods: %s", json.dumps(metrics["methods"], indent=1))
with atomic_path(snakemake.output.front) as tmp:
    front.to_csv(tmp, index=False, float_format="%.6g")
write_json(metrics, snakemake.output.metrics)
comparison = comparison_table(metrics)
with atomic_path(snakemake.output.comparison_csv) as tmp:
    comparison.to_csv(tmp, index=False, float_format="%.6g")
with atomic_path(snakemake.output.comparison_md) as tmp:
    tmp.write_text(comparison_markdown(comparison, metrics), encoding="utf-8")
save_figure(plot_front(front, p.objectives), [snakemake.output.png, snakemake.output.svg])
