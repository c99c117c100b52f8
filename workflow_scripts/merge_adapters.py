"""Merge LoRA adapters into one with given weights (Rewarded Soups' soups, interpolated
preferences)."""

from pathlib import Path

from paretohqd.runtime import start
from paretohqd.policy.merging import soup_adapter

log = start(snakemake)
soup_adapter(snakemake.params.model, list(snakemake.input.adapters), snakemake.params.weights,
             Path(snakemake.output[0]))
log.info("merged %s with weights %s", list(snakemake.input.adapters), snakemake.params.weights)
