"""Fine-tune one LoRA adapter (stage 1 from scratch, stage 2 from stage 1, or a baseline's),
in this process or in several data-parallel processes with accelerate."""

from pathlib import Path

from paretohqd.policy.launch import job_spec, run_sft
from paretohqd.runtime import start
from paretohqd.policy.config import SFTSettings

log = start(snakemake)
p = snakemake.params
settings = SFTSettings(**p.settings)
spec = job_spec(p.model, snakemake.input.data, Path(snakemake.output[0]), Path(p.checkpoints),
                settings, p.prompt_format, snakemake.input.get("adapter"))
metrics = run_sft(spec, p.launch["num_processes"], snakemake.threads)
log.info("trained: %s", metrics)
