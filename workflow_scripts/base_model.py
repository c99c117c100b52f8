"""Convert the GGUF base model into a plain Hugging Face folder."""

from pathlib import Path

from paretohqd.base_model import convert_gguf
from paretohqd.runtime import start

start(snakemake)
convert_gguf(snakemake.params.source, snakemake.params.gguf_file, Path(snakemake.output[0]))
