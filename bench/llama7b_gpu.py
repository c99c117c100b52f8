"""Llama-2-7B on one GPU, measured with the workflow's own code, and the paper's regime projected.

Builds on the device, with no download, a randomly initialised model with Llama-2-7B's exact
configuration (tokenizer: Llama-2's layout, tests/hub_standins.py, its vocabulary filled to
32,000) and a GPT-2-large-sized reward model, saves both to a scratch folder, then times:
- LoRA SFT (paretohqd.policy.training.train_adapter) at config/hh_rlhf.yaml's settings: batch 8,
  512 tokens, r 64, bf16 autocast (``dtype: auto`` on a GPU);
- generation (paretohqd.policy.generation.sample_responses) at batch 32, 128 new tokens;
- reward scoring (paretohqd.rewards.scorers.ClassifierScorer) at batch 64, pair input;
each with its peak GPU memory, and each model's load time from disk (a job's fixed cost).
From these it projects config/hh_rlhf.yaml's run (about 160,800 scored pairs, 11 preferences,
stage 1 and stage 2 steps, 10,000 stage-2 prompts x (M + 1) models, ~2,100 test prompts) in
GPU-hours per stage, next to the paper's 55.87 GPU-hours for ParetoHqD.

Usage: python bench/llama7b_gpu.py --out 7b.json          (on a GPU machine)
       python bench/llama7b_gpu.py --scale tiny --out t.json  (the same code on a CPU, shrunk)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch
from transformers import GPT2Config, GPT2ForSequenceClassification, LlamaConfig, LlamaForCausalLM

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from hub_standins import _corpus, _gpt2_tokenizer, _llama_tokenizer  # noqa: E402

from paretohqd.config import load_config  # noqa: E402
from paretohqd.devices import resolve_device, resolve_dtype  # noqa: E402
from paretohqd.policy.generation import (SamplingSettings, load_policy,  # noqa: E402
                                         sample_responses)
from paretohqd.policy.training import train_adapter  # noqa: E402
from paretohqd.rewards.scorers import ClassifierScorer  # noqa: E402
from paretohqd.policy.config import SFTSettings  # noqa: E402

PAPER_GPU_HOURS = 55.87  # ParetoHqD, the paper's Table (METHOD.md)
HH_RLHF_TRAIN_PAIRS = 160_800
TEST_PROMPTS = 2_100
SCALES = {
    # Llama-2-7B (meta-llama/Llama-2-7b-hf config.json); GPT-2 large (gpt2-large config.json)
    "7b": {"llama": dict(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32,
                         num_attention_heads=32, num_key_value_heads=32),
           "gpt2": dict(n_embd=1280, n_layer=36, n_head=20), "vocab": 32000},
    "tiny": {"llama": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                           num_attention_heads=4, num_key_value_heads=4),
             "gpt2": dict(n_embd=64, n_layer=2, n_head=4), "vocab": 1000},
}


def peak_memory_gb(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    return torch.cuda.max_memory_allocated(device) / 2**30


def reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def build_models(scale: dict, folder: Path, device: torch.device) -> tuple[Path, Path]:
    """The random policy and reward model, built on ``device`` in bf16 and saved."""
    corpus = _corpus()
    tokenizer = _llama_tokenizer(corpus, vocab_size=scale["vocab"])
    config = LlamaConfig(vocab_size=len(tokenizer), max_position_embeddings=4096,
                         rms_norm_eps=1e-5, rope_theta=10000.0, bos_token_id=1, eos_token_id=2,
                         tie_word_embeddings=False, **scale["llama"])
    torch.manual_seed(0)
    with torch.device(device):
        policy = LlamaForCausalLM(config).to(torch.bfloat16)
    policy_dir, reward_dir = folder / "llama", folder / "reward"
    policy.save_pretrained(policy_dir)
    tokenizer.save_pretrained(policy_dir)
    del policy
    rm_tokenizer = _gpt2_tokenizer(corpus)
    with torch.device(device):
        reward = GPT2ForSequenceClassification(GPT2Config(
            vocab_size=len(rm_tokenizer), n_positions=1024, id2label={0: "reward"},
            pad_token_id=rm_tokenizer.eos_token_id, **scale["gpt2"])).to(torch.bfloat16)
    reward.save_pretrained(reward_dir)
    rm_tokenizer.save_pretrained(reward_dir)
    del reward
    return policy_dir, reward_dir


def texts(n: int, words: int, start: int = 0) -> list[str]:
    corpus = _corpus()
    return [" ".join(corpus[(start + i + k) % len(corpus)] for k in range(words))
            for i in range(n)]


def measure(config: dict, policy_dir: Path, reward_dir: Path, device: torch.device,
            steps: int, batches: int) -> dict:
    """Timings and peak memory of SFT, generation and scoring with the workflow's code."""
    dtype = resolve_dtype("auto", device)
    out: dict = {"device": torch.cuda.get_device_name(device) if device.type == "cuda"
                 else "cpu", "dtype": str(dtype)}
    sft = SFTSettings.from_config({**config, "device": str(device), "dtype": "auto"},
                                  steps=steps, seed=0)
    sft = SFTSettings(**{**sft.__dict__, "save_steps": steps})
    rows = pd.DataFrame({"prompt": texts(sft.batch_size * steps, 40),
                         "response": texts(sft.batch_size * steps, 40, start=7)})
    reset_peak(device)
    with tempfile.TemporaryDirectory() as scratch:
        start = time.perf_counter()
        metrics = train_adapter(str(policy_dir), rows, Path(scratch) / "adapter",
                                Path(scratch) / "ckpt", sft, "raw")
        out["sft"] = {"steps": steps, "batch": sft.batch_size, "max_length": sft.max_length,
                      "lora_r": sft.lora_r, "wall_s": time.perf_counter() - start,
                      "train_s": metrics["seconds"],
                      "tokens": metrics.get("train_tokens"),
                      "peak_gb": peak_memory_gb(device)}
    gen = config["generation"]
    settings = SamplingSettings(temperature=gen["temperature"], top_p=gen["top_p"],
                                max_new_tokens=gen["max_new_tokens"],
                                batch_size=gen["batch_size"], seed=0)
    reset_peak(device)
    start = time.perf_counter()
    policy, tokenizer = load_policy(str(policy_dir), device, dtype)
    load_s = time.perf_counter() - start
    prompts = texts(settings.batch_size * batches, 30)
    start = time.perf_counter()
    answers = sample_responses(policy, tokenizer, prompts, 1, settings, "raw")
    wall = time.perf_counter() - start
    out["generation"] = {"load_s": load_s, "sequences": len(prompts),
                         "batch": settings.batch_size, "max_new_tokens": settings.max_new_tokens,
                         "wall_s": wall, "sequences_per_s": len(prompts) / wall,
                         "peak_gb": peak_memory_gb(device)}
    del policy
    reset_peak(device)
    batch = config["scoring"]["batch_size"]
    start = time.perf_counter()
    scorer = ClassifierScorer(str(reward_dir), device, input_format="pair",
                              max_length=config["scoring"]["max_length"], dtype=dtype)
    load_s = time.perf_counter() - start
    n = batch * batches
    repeat = -(-n // len(prompts))
    pair_prompts = (prompts * repeat)[:n]
    pair_responses = ([a[0] for a in answers] * repeat)[:n]
    start = time.perf_counter()
    scorer.score(pair_prompts, pair_responses, batch_size=batch)
    wall = time.perf_counter() - start
    out["scoring"] = {"load_s": load_s, "pairs": n, "batch": batch, "wall_s": wall,
                      "pairs_per_s": n / wall, "peak_gb": peak_memory_gb(device)}
    return out


def project(config: dict, measured: dict) -> dict:
    """GPU-hours per stage of ``config``'s run at the measured rates (fixed job costs: one model
    load per job)."""
    m = len(config["objectives"])
    prefs = len(config["preferences"])
    step_s = measured["sft"]["train_s"] / measured["sft"]["steps"]
    gen_rate = measured["generation"]["sequences_per_s"]
    score_rate = measured["scoring"]["pairs_per_s"]
    load = measured["generation"]["load_s"]
    stage2 = config["stage2"]
    hours = {
        "score offline (2 responses per pair, M models)":
            2 * HH_RLHF_TRAIN_PAIRS * m / score_rate,
        "stage 1 SFT": prefs * (config["sft"]["steps"] * step_s + load),
        "stage 2 generation ((M + 1) models)":
            (m + 1) * (stage2["prompts"] * stage2["samples_per_prompt"] / gen_rate + load),
        "stage 2 scoring": (m + 1) * stage2["prompts"] * m / score_rate,
        "stage 2 SFT": prefs * (stage2["steps"] * step_s + load),
        "evaluation (generation + scoring)":
            prefs * (TEST_PROMPTS / gen_rate + load + TEST_PROMPTS * m / score_rate),
    }
    hours = {stage: seconds / 3600 for stage, seconds in hours.items()}
    return {"gpu_hours": hours, "total": sum(hours.values()), "paper_total": PAPER_GPU_HOURS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="7b")
    parser.add_argument("--configfile", default=str(ROOT / "config/hh_rlhf.yaml"))
    parser.add_argument("--steps", type=int, default=10, help="SFT steps to time")
    parser.add_argument("--batches", type=int, default=4, help="generation batches to time")
    parser.add_argument("--folder", help="scratch folder for the saved models")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    config = load_config([ROOT / "config/config.yaml", args.configfile],
                         ROOT / "schemas/config.schema.yaml")
    device = resolve_device("auto")
    with tempfile.TemporaryDirectory(dir=args.folder) as folder:
        start = time.perf_counter()
        policy_dir, reward_dir = build_models(SCALES[args.scale], Path(folder), device)
        build_s = time.perf_counter() - start
        measured = measure(config, policy_dir, reward_dir, device, args.steps, args.batches)
    result = {"scale": args.scale, "build_and_save_s": build_s, **measured,
              "projection": project(config, measured)}
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
