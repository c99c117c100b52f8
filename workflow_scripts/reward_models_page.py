"""The report's reward-model page: every trained reward model's held-out metrics in one table."""

from paretohqd.io import atomic_path, read_json
from paretohqd.rewards.metrics_page import reward_models_html
from paretohqd.runtime import start

log = start(snakemake)
metrics = [read_json(path) for path in snakemake.input]
log.info("%d reward models: %s", len(metrics), [m.get("objective") for m in metrics])
with atomic_path(snakemake.output[0]) as tmp:
    tmp.write_text(reward_models_html(metrics, snakemake.params.base), encoding="utf-8")
