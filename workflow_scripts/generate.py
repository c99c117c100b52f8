"""Sample responses for a set of prompts from the base model, optionally with a LoRA adapter.

The rule's ``prompts`` param picks the prompts: a shard of the train split, or a seeded sample
of a split. Serves offline data, stage-2 data and evaluation alike. With ``conditioning`` (a
method's ``paretohqd.registry.Conditioning``, e.g. RiC's) the model sees each prompt as the
method's function rewrites it for the preference (or for a random one per prompt); the rows
keep the plain prompt, which is what the reward models score. With ``scorers`` the job also
scores its answers (output ``scores``, one table per objective; with ``judges`` also output
``judged``, one per independent judge): for small tables, a separate scoring job would spend
most of its time starting up.
"""

from paretohqd.devices import resolve_device, resolve_dtype
from paretohqd.policy.generation import (SamplingSettings, TokenCount, answers_provenance,
                                         load_policy, sample_responses)
from paretohqd.io import read_table, write_table
from paretohqd.data.offline import drop_empty_responses, response_rows, sample_prompts, shard_prompts
from paretohqd.registry import apply_conditioning
from paretohqd.runtime import log_count, phase, start
from paretohqd.rewards.scoring import write_scores

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
adapter = snakemake.input.get("adapter")
conditioning = p.get("conditioning")
if p.samples_per_prompt > 0:
    device = resolve_device(p.device)
    with phase(log, "load"):
        policy, tokenizer = load_policy(p.model, device, resolve_dtype(p.dtype, device), adapter)
    texts = prompts["prompt"].tolist()
    if conditioning:
        texts = apply_conditioning(texts, conditioning, snakemake.input.conditioning, p.seed)
    settings = SamplingSettings(seed=p.seed, **p.sampling)
    tokens = TokenCount()
    with phase(log, "work"):
        samples = sample_responses(policy, tokenizer, texts, p.samples_per_prompt, settings,
                                   p.prompt_format, tokens=tokens)
    log_count(log, "forward_tokens", tokens.prompt + tokens.generated)
    log_count(log, "forward_param_tokens",
              policy.num_parameters() * (tokens.prompt + tokens.generated))
    log_count(log, "generated_tokens", tokens.generated)
    del policy
rows = response_rows(prompts, samples, p.source, include_references=p.include_references)
if not p.keep_empty:
    rows = drop_empty_responses(rows, snakemake.output[0])
log.info("%d prompts, %d responses", len(prompts), len(rows))
write_table(rows, snakemake.output[0],
            provenance=answers_provenance(p.model, adapter, p.seed, conditioning))
if p.get("scorers"):
    write_scores(rows, p.scorers, snakemake.output.scores, resolve_device(p.device),
                 p.scoring["max_length"], p.scoring["batch_size"], log)
if p.get("judges"):
    write_scores(rows, p.judges, snakemake.output.judged, resolve_device(p.device),
                 p.scoring["max_length"], p.scoring["batch_size"], log)
