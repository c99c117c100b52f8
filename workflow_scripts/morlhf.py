"""Train one preference's MORLHF adapter: GRPO on w . r with the reward models as rewards."""

import json
from pathlib import Path

from paretohqd.devices import resolve_device
from paretohqd.io import read_table
from paretohqd.morlhf import MORLHFSettings, reward_function, train_morlhf
from paretohqd.offline import sample_prompts
from paretohqd.rewards import build_scorer
from paretohqd.runtime import start
from paretohqd.training import SFTSettings

log = start(snakemake)
p = snakemake.params
morlhf = MORLHFSettings(**p.morlhf)
settings = SFTSettings(**p.sft, seed=p.seed, device=p.device, dtype=p.dtype)
ranges = json.loads(Path(snakemake.input.stats).read_text())["rewards"]
device = resolve_device(p.device)
rewards = [reward_function(name, build_scorer(spec, device, p.scoring["max_length"]),
                           ranges[name]["min"], ranges[name]["max"], p.scoring["batch_size"])
           for name, spec in p.scorers.items()]
table = read_table(snakemake.input.prompts, required=["prompt_id", "prompt", "split"],
                   unique=["prompt_id"])
prompts = sample_prompts(table, settings.steps * morlhf.prompts_per_step, p.seed, "train")
log.info("GRPO on %d train prompts, %d completions per step", len(prompts),
         morlhf.prompts_per_step * morlhf.num_generations)
metrics = train_morlhf(p.model, prompts, p.weights, rewards, Path(snakemake.output[0]),
                       Path(p.checkpoints), settings, morlhf, p.prompt_format)
log.info("trained: %s", metrics)
