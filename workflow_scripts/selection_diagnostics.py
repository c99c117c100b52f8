"""The selected training sets' diagnostics and the hypervolume of their means beside the trained
models' (paretohqd.evaluation.selection_diagnostics)."""

from paretohqd.evaluation.selection_diagnostics import (diagnostics_markdown, diagnostics_table,
                                                        set_hypervolumes)
from paretohqd.io import atomic_path, read_json
from paretohqd.runtime import start

log = start(snakemake)
p = snakemake.params
rewards = read_json(snakemake.input.stats)["rewards"]
low = [rewards[o]["min"] for o in p.objectives]
high = [rewards[o]["max"] for o in p.objectives]
sets = diagnostics_table(p.sets, p.objectives, low, high)
hypervolumes = set_hypervolumes(sets, p.objectives, [float(p.reference_point)] * len(p.objectives),
                                read_json(snakemake.input.metrics))
log.info("%d selected sets; hypervolumes:\n%s", len(sets), hypervolumes.to_string())
with atomic_path(snakemake.output.csv) as tmp:
    sets.to_csv(tmp, index=False, float_format="%.6g")
with atomic_path(snakemake.output.hypervolume) as tmp:
    hypervolumes.to_csv(tmp, index=False, float_format="%.6g")
with atomic_path(snakemake.output.md) as tmp:
    tmp.write_text(diagnostics_markdown(sets, hypervolumes, p.objectives), encoding="utf-8")
