"""The training budget and compute of every method and of the shared costs, counted from the
jobs' benchmark files and logs (paretohqd.evaluation.compute), and hypervolume against FLOPs."""

from paretohqd.evaluation.compute import (compute_html, compute_markdown, compute_table,
                                          with_hypervolume)
from paretohqd.evaluation.plots import plot_hypervolume_vs_compute, save_figure
from paretohqd.io import atomic_path, read_json
from paretohqd.runtime import start

log = start(snakemake)
p = snakemake.params
table = compute_table(p.costs, p.shared, len(p.seeds))
table = with_hypervolume(table, read_json(snakemake.input.metrics), p.compute_reference)
log.info("compute:\n%s", table.to_string())
with atomic_path(snakemake.output.csv) as tmp:
    table.to_csv(tmp, index=False, float_format="%.6g")
with atomic_path(snakemake.output.md) as tmp:
    tmp.write_text(compute_markdown(table, p.compute_reference), encoding="utf-8")
with atomic_path(snakemake.output.html) as tmp:
    tmp.write_text(compute_html(table, p.compute_reference), encoding="utf-8")
save_figure(plot_hypervolume_vs_compute(table), [snakemake.output.png])
