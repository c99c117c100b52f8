"""Every held-out set's drops in one table (CSV, Markdown, the report's HTML page)."""

import pandas as pd

from paretohqd.evaluation.heldout import drops_html, drops_markdown
from paretohqd.io import atomic_path
from paretohqd.runtime import start

log = start(snakemake)
level = snakemake.params.level
drops = pd.concat([pd.read_csv(path) for path in snakemake.input], ignore_index=True)
with atomic_path(snakemake.output.csv) as tmp:
    drops.to_csv(tmp, index=False, float_format="%.6g")
with atomic_path(snakemake.output.md) as tmp:
    tmp.write_text(drops_markdown(drops, level), encoding="utf-8")
with atomic_path(snakemake.output.html) as tmp:
    tmp.write_text(drops_html(drops, level), encoding="utf-8")
log.info("%d rows from %d sets", len(drops), len(snakemake.input))
