"""Sample the base model's responses for one shard of the train prompts (+ human references)."""

from paretohqd.devices import resolve_device, resolve_dtype
from paretohqd.generation import SamplingSettings, load_policy, sample_responses
from paretohqd.io import read_table, write_table
from paretohqd.offline import BASE_MODEL, response_rows, shard_prompts
from paretohqd.runtime import start

log = start(snakemake)
p = snakemake.params
shard = int(snakemake.wildcards.shard)
prompts = shard_prompts(read_table(snakemake.input.prompts, required=["prompt_id", "prompt"]),
                        shard, p.n_shards)
samples = [[] for _ in range(len(prompts))]
if p.samples_per_prompt > 0:
    device = resolve_device(p.device)
    policy, tokenizer = load_policy(p.model, device, resolve_dtype(p.dtype, device))
    settings = SamplingSettings(seed=p.seed + shard, **p.sampling)
    samples = sample_responses(policy, tokenizer, prompts["prompt"].tolist(),
                               p.samples_per_prompt, settings, p.prompt_format)
rows = response_rows(prompts, samples, BASE_MODEL, include_references=p.include_references)
rows = rows[rows["response"].str.strip() != ""]
log.info("shard %d: %d prompts, %d responses", shard, len(prompts), len(rows))
write_table(rows, snakemake.output[0])
