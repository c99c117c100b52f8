"""Load on ``paretohqd serve``: throughput (requests and tokens per second) and latency (p50,
p99) with 1, 4, 16 and 32 concurrent clients asking mixed preferences, and the memory each
cached preference costs, as Markdown for docs/BENCHMARKS.md.

Starts ``paretohqd serve`` on a finished run (default: results/) from a checkout of the code
(``--code``, default this one: give an older checkout to measure before and after on the same
CPU), waits for it, sends one request per preference (warm-up), then for each concurrency c, c
client threads send ``--requests-per-client`` requests each (at least ``--min-requests`` in
all), with the official ``openai`` client. Each request asks one of ``PREFERENCES`` in turn,
interpolated between the trained ones (``interpolate``), seeded, one answer of at most
``--max-tokens`` tokens.

The memory of a cached preference, from the shapes (PEFT on the meta device, nothing loaded):
a merged copy of the model (what the server cached before batching) against a LoRA adapter
(what it caches now: a trained adapter; an interpolated preference blends its neighbours' and
holds no weights of its own), for the
run's base model and LoRA settings and for Llama-2-7B at the paper configs' (r 64, q_proj and
v_proj; config/hh_rlhf.yaml).

Usage: .venv/bin/python bench/serve_load.py --results results [--code ../old-checkout]
           [--server-args "--cache-size 4"]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import openai

ROOT = Path(__file__).resolve().parents[1]

PROMPT = "What should I do if my neighbour's dog barks all night?"
# two objectives: the trained ends and middle, and five preferences between them
PREFERENCES = [[0.0, 1.0], [0.1, 0.9], [0.3, 0.7], [0.45, 0.55], [0.5, 0.5], [0.6, 0.4],
               [0.8, 0.2], [1.0, 0.0]]
# Llama-2-7B's shapes (its config.json on the hub)
LLAMA_2_7B = {"hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32,
              "num_attention_heads": 32, "num_key_value_heads": 32, "vocab_size": 32000}
PAPER_LORA = {"r": 64, "target_modules": ["q_proj", "v_proj"]}  # config/hh_rlhf.yaml


def cpu_name() -> str:
    """The CPU's model name, whether it has native bf16, and the cores."""
    out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    name = next((line.split(":", 1)[1].strip() for line in out.splitlines()
                 if line.startswith("Model name")), platform.processor())
    flags = next((line for line in out.splitlines() if line.startswith("Flags")), "").split()
    native = [f for f in ("avx512_bf16", "amx_bf16") if f in flags]
    return f"{name} ({', '.join(native) or 'no native bf16'}), {os.cpu_count()} cores"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(args: argparse.Namespace) -> tuple[subprocess.Popen, openai.OpenAI]:
    port = free_port()
    command = [sys.executable, "-m", "paretohqd.serving.cli", "serve", "--results",
               str(args.results.resolve()), "--port", str(port), "--dtype", args.dtype,
               *shlex.split(args.server_args)]
    code = args.code.resolve()
    process = subprocess.Popen(command, cwd=code, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL,
                               env={**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(code)})
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused",
                           max_retries=0, timeout=1800)
    while True:
        try:
            client.models.list()
            return process, client
        except openai.APIConnectionError:
            if process.poll() is not None:
                raise SystemExit(f"the server exited: {' '.join(command)}")
            time.sleep(0.5)


def timed(client: openai.OpenAI, preference: list[float], max_tokens: int,
          seed: int) -> tuple[float, int]:
    """One request's latency (s) and the tokens it drew."""
    start = time.perf_counter()
    response = client.chat.completions.create(
        model="paretohqd", messages=[{"role": "user", "content": PROMPT}], seed=seed,
        max_tokens=max_tokens, extra_body={"preference": preference, "interpolate": True})
    return time.perf_counter() - start, response.usage.completion_tokens


def load(client: openai.OpenAI, clients: int, args: argparse.Namespace) -> dict:
    """``clients`` threads, each sending its requests one after another."""
    total = max(clients * args.requests_per_client, args.min_requests)
    asks = [(PREFERENCES[i % len(PREFERENCES)], i) for i in range(total)]
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        done = list(pool.map(lambda ask: timed(client, ask[0], args.max_tokens, ask[1]), asks))
    wall = time.perf_counter() - start
    latency = np.array([d[0] for d in done])
    return {"clients": clients, "requests": total, "seconds": wall,
            "requests_per_s": total / wall, "tokens_per_s": sum(d[1] for d in done) / wall,
            "p50_s": float(np.percentile(latency, 50)), "p99_s": float(np.percentile(latency, 99))}


def preference_memory(model_config, lora: dict, dtype_bytes: int = 2) -> dict[str, float]:
    """MB per cached preference: a merged model copy in ``dtype_bytes`` per weight, and a LoRA
    adapter (float32, as PEFT keeps one beside a half-precision model)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(model_config)
        weights = sum(p.numel() for p in model.parameters())
        peft = get_peft_model(model, LoraConfig(r=lora["r"],
                                                target_modules=lora["target_modules"]))
    adapter = sum(p.numel() for name, p in peft.named_parameters() if "lora_" in name)
    return {"model_copy_mb": weights * dtype_bytes / 1e6, "adapter_mb": adapter * 4 / 1e6}


def memory_rows(results: Path) -> list[str]:
    from transformers import AutoConfig, LlamaConfig

    index = json.loads((results / "models/index.json").read_text())
    base = index["base_model"]
    base_path = str(results / base["path"]) if base["in_results"] else base["path"]
    adapter = next(a for a in next(iter(index["methods"].values())))
    settings = json.loads((results / adapter["adapter"] / "adapter_config.json").read_text())
    rows = []
    for label, config, lora in (
            (f"the run's base ({Path(base_path).name}), LoRA r {settings['r']} on "
             f"{len(settings['target_modules'])} modules", AutoConfig.from_pretrained(base_path),
             {"r": settings["r"], "target_modules": settings["target_modules"]}),
            ("Llama-2-7B, LoRA r 64 on q_proj, v_proj (paper configs)",
             LlamaConfig(**LLAMA_2_7B), PAPER_LORA)):
        mb = preference_memory(config, lora)
        rows.append(f"| {label} | {mb['model_copy_mb']:,.0f} | {mb['adapter_mb']:,.1f} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=ROOT / "results")
    parser.add_argument("--code", type=Path, default=ROOT,
                        help="the checkout whose server to start (default: this one)")
    parser.add_argument("--server-args", default="", help="more options for `paretohqd serve`")
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--requests-per-client", type=int, default=2)
    parser.add_argument("--min-requests", type=int, default=8)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16, 32])
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=args.code,
                            capture_output=True, text=True).stdout.strip()
    process, client = start_server(args)
    try:
        for i, preference in enumerate(PREFERENCES):  # warm-up: every preference once
            timed(client, preference, 4, i)
        rows = [load(client, clients, args) for clients in args.concurrency]
    finally:
        process.terminate()
        process.wait(timeout=30)
    print(f"code {commit}; CPU: {cpu_name()}; dtype {args.dtype}; at most {args.max_tokens} "
          f"new tokens; {len(PREFERENCES)} preferences in turn, interpolated\n")
    print("| clients | requests | requests/s | tokens/s | p50 (s) | p99 (s) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        print(f"| {row['clients']} | {row['requests']} | {row['requests_per_s']:.2f} | "
              f"{row['tokens_per_s']:.1f} | {row['p50_s']:.2f} | {row['p99_s']:.2f} |")
    print("\nMemory per cached preference (MB; a model copy in bf16, adapters in float32):\n")
    print("| model | merged model copy | trained LoRA adapter |")
    print("| --- | ---: | ---: |")
    print("\n".join(memory_rows(args.results)))
    if args.json:
        args.json.write_text(json.dumps({"commit": commit, "cpu": cpu_name(), "rows": rows},
                                        indent=2) + "\n")


if __name__ == "__main__":
    main()
