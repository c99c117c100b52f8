"""Write the model index: the base model and every per-preference adapter of the run."""

from paretohqd.io import write_json
from paretohqd.serving.model_index import build_index
from paretohqd.runtime import start

log = start(snakemake)
index = build_index(**snakemake.params.index)
write_json(index, snakemake.output[0])
log.info("%d methods: %s", len(index["methods"]), sorted(index["methods"]))
