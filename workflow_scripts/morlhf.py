"""Train one preference's MORLHF adapter: GRPO on w . r with the reward models as rewards."""

import json
from pathlib import Path

from paretohqd.devices import resolve_device
from paretohqd.io import read_json, read_table
from paretohqd.methods.morlhf.training import reward_function, train_morlhf
from paretohqd.data.offline import sample_prompts
from paretohqd.rewards.scorers import build_scorer
from paretohqd.rewards.scoring import log_scored
from paretohqd.runtime import start
from paretohqd.methods.morlhf.config import MORLHFSettings

log = start(snakemake)
p = snakemake.params
settings = MORLHFSettings(**p.settings)
ranges = read_json(snakemake.input.stats)["rewards"]
device = resolve_device(settings.device)
scorers = {name: build_scorer(spec, device, p.scoring["max_length"])
           for name, spec in p.scorers.items()}
rewards = [reward_function(name, scorer, ranges[name]["min"], ranges[name]["max"],
                           p.scoring["batch_size"]) for name, scorer in scorers.items()]
table = read_table(snakemake.input.prompts, required=["prompt_id", "prompt", "split"],
                   unique=["prompt_id"])
prompts = sample_prompts(table, settings.steps * settings.prompts_per_step, settings.seed, "train")
log.info("GRPO on %d train prompts, %d completions per step", len(prompts), settings.batch_size)
log.info("reward_weights %s for the rewards of %s", json.dumps(list(p.weights)), list(p.scorers))
metrics = train_morlhf(p.model, prompts, p.weights, rewards, Path(snakemake.output[0]),
                       Path(p.checkpoints), settings, p.prompt_format)
for scorer in scorers.values():
    log_scored(log, scorer)
log.info("trained: %s", metrics)
