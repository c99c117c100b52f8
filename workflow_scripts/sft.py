"""Fine-tune one preference's LoRA adapter (stage 1 from scratch, stage 2 from stage 1)."""

from pathlib import Path

from paretohqd.io import read_table
from paretohqd.runtime import start
from paretohqd.training import SFTSettings, train_adapter

log = start(snakemake)
p = snakemake.params
rows = read_table(snakemake.input.data, required=["prompt", "response"],
                  nonempty_text=["prompt", "response"])
settings = SFTSettings(**p.sft, seed=p.seed, device=p.device, dtype=p.dtype)
metrics = train_adapter(p.model, rows, Path(snakemake.output[0]), Path(p.checkpoints), settings,
                        p.prompt_format, init_adapter=snakemake.input.get("adapter"))
log.info("trained: %s", metrics)
