"""Load, clean, deduplicate and split the prompts."""

from paretohqd.io import write_table
from paretohqd.data.prompts import LOADERS, build_prompt_table
from paretohqd.runtime import start

log = start(snakemake)
p = snakemake.params
table = build_prompt_table(LOADERS[p.source](), p.test_fraction, p.max_train, p.max_test, p.seed,
                           p.reward_fraction)
log.info("prompts: %s", table["split"].value_counts().to_dict())
write_table(table, snakemake.output[0])
