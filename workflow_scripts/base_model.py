"""Convert the GGUF base model into a plain Hugging Face folder."""

from pathlib import Path

from paretohqd.policy.base_model import convert_gguf
from paretohqd.runtime import phase, start

log = start(snakemake)
with phase(log, "load"):  # a one-off conversion: fixed cost, no work that scales with data
    convert_gguf(snakemake.params.source, snakemake.params.gguf_file, Path(snakemake.output[0]))
