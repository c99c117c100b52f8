"""Sample responses for a set of prompts from the base model, optionally with a LoRA adapter.

The rule's ``prompts`` param picks the prompts: a shard of the train split, or a seeded sample
of a split. Serves offline data, stage-2 data and evaluation alike. With ``conditioning`` (RiC)
the model sees each prompt followed by the desired rewards of the preference (or of a random
one per prompt, for RiC's online stage); the rows keep the plain prompt, which is what the
reward models score.
"""

import json
from pathlib import Path

from paretohqd.devices import resolve_device, resolve_dtype
from paretohqd.generation import SamplingSettings, load_policy, sample_responses
from paretohqd.io import read_table, write_table
from paretohqd.offline import drop_empty_responses, response_rows, sample_prompts, shard_prompts
from paretohqd.ric import conditioned_prompt, desired_scores, sample_goals
from paretohqd.runtime import phase, start

log = start(snakemake)
p = snakemake.params
pick = p.prompts
table = read_table(snakemake.input.prompts, required=["prompt_id", "prompt", "split"],
                   unique=["prompt_id"])
if "shard" in pick:
    prompts = shard_prompts(table, pick["shard"], pick["n_shards"], pick["split"])
else:
    prompts = sample_prompts(table, pick["n"], p.seed, pick["split"])
samples = [[] for _ in range(len(prompts))]
if p.samples_per_prompt > 0:
    device = resolve_device(p.device)
    adapter = snakemake.input.get("adapter")
    with phase(log, "load"):
        policy, tokenizer = load_policy(p.model, device, resolve_dtype(p.dtype, device), adapter)
    texts = prompts["prompt"].tolist()
    conditioning = p.get("conditioning")
    if conditioning:
        stats = json.loads(Path(snakemake.input.ric_stats).read_text())
        objectives = conditioning["objectives"]
        if conditioning.get("random"):  # RiC's online stage: its random goals
            goals = sample_goals(len(texts), objectives, stats, p.seed)
        else:
            goals = [desired_scores(conditioning["weights"], objectives, stats,
                                    conditioning["map"])] * len(texts)
            log.info("RiC targets (%s map) %s", conditioning["map"], goals[0])
        texts = [conditioned_prompt(text, goal) for text, goal in zip(texts, goals, strict=True)]
    settings = SamplingSettings(seed=p.seed, **p.sampling)
    with phase(log, "work"):
        samples = sample_responses(policy, tokenizer, texts, p.samples_per_prompt, settings,
                                   p.prompt_format)
rows = response_rows(prompts, samples, p.source, include_references=p.include_references)
if not p.keep_empty:
    rows = drop_empty_responses(rows, snakemake.output[0])
log.info("%d prompts, %d responses", len(prompts), len(rows))
write_table(rows, snakemake.output[0])
