"""Load on ``paretohqd serve``: requests per second and latency percentiles with 1, 4 and 16
concurrent clients, and a merged-model cache hit against a miss, as Markdown for
docs/BENCHMARKS.md.

Starts ``paretohqd serve`` on a finished run (default: results/) as a user would, waits for it,
then, with the official ``openai`` client:
- cache: ``--misses`` requests each for a new interpolated preference (the server merges a new
  model: a miss) and the same number for a preference already merged (a hit), one at a time;
- load: for each concurrency c, c client threads send ``--requests`` requests in all, each for a
  trained preference drawn at random (hits after the first), one answer of ``--max-tokens``.
Generation is serialised in the server (paretohqd/serving/model_pool.py), so more clients
raise latency, not throughput: the numbers show by how much.

Usage: .venv/bin/python bench/serve_load.py --results results [--max-tokens 64]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import openai

ROOT = Path(__file__).resolve().parents[1]
PROMPT = "What should I do if my neighbour's dog barks all night?"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_name() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    except OSError:
        return platform.processor()
    name = next((line.split(":", 1)[1].strip() for line in out.splitlines()
                 if line.startswith("Model name")), platform.processor())
    flags = next((line for line in out.splitlines() if line.startswith("Flags")), "")
    native = [f for f in ("avx512_bf16", "amx_bf16") if f in flags.split()]
    return f"{name} ({', '.join(native) or 'no native bf16'}), {os.cpu_count()} cores"


def start_server(args: argparse.Namespace) -> tuple[subprocess.Popen, openai.OpenAI]:
    port = free_port()
    command = [sys.executable, "-m", "paretohqd.serving.cli", "serve", "--results",
               str(args.results), "--port", str(port), "--dtype", args.dtype,
               "--cache-size", str(args.cache_size)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL,
                               env={**os.environ, "HF_HUB_OFFLINE": "1"})
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused",
                           max_retries=0, timeout=600)
    while True:
        try:
            client.models.list()
            return process, client
        except openai.APIConnectionError:
            if process.poll() is not None:
                raise SystemExit(f"the server exited: {' '.join(command)}")
            time.sleep(0.5)


def timed(client: openai.OpenAI, preference: list[float], max_tokens: int, seed: int,
          interpolate: bool) -> tuple[float, int]:
    """One request's latency (s) and the tokens it drew."""
    start = time.perf_counter()
    response = client.chat.completions.create(
        model="paretohqd", messages=[{"role": "user", "content": PROMPT}], seed=seed,
        max_tokens=max_tokens, extra_body={"preference": preference,
                                           "interpolate": interpolate})
    return time.perf_counter() - start, response.usage.completion_tokens


def cache_rows(client: openai.OpenAI, args: argparse.Namespace) -> list[str]:
    """A miss (a preference never merged) against a hit (the same preference again)."""
    misses, hits = [], []
    for i in range(args.misses):
        harmless = round(0.05 + 0.9 * (i + 0.5) / args.misses, 4)
        preference = [harmless, 1 - harmless]
        misses.append(timed(client, preference, args.max_tokens, i, True)[0])
        hits.append(timed(client, preference, args.max_tokens, i, True)[0])
    return [f"| cache miss (merge a new preference) | {args.misses} | "
            f"{statistics.median(misses):.3f} |",
            f"| cache hit (the same preference again) | {args.misses} | "
            f"{statistics.median(hits):.3f} |"]


def load_rows(client: openai.OpenAI, trained: list[list[float]],
              args: argparse.Namespace) -> list[str]:
    rows = []
    rng = random.Random(0)
    for clients in args.concurrency:
        jobs = [(rng.choice(trained), seed) for seed in range(args.requests)]
        start = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            done = list(pool.map(lambda job: timed(client, job[0], args.max_tokens, job[1],
                                                   False), jobs))
        wall = time.perf_counter() - start
        latency = np.array([d[0] for d in done])
        tokens = sum(d[1] for d in done)
        p50, p90, p99 = np.percentile(latency, [50, 90, 99])
        rows.append(f"| {clients} | {len(jobs)} | {len(jobs) / wall:.2f} | {tokens / wall:.1f} "
                    f"| {p50:.3f} | {p90:.3f} | {p99:.3f} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=ROOT / "results")
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--requests", type=int, default=32, help="per concurrency level")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--misses", type=int, default=5)
    parser.add_argument("--cache-size", type=int, default=8)
    args = parser.parse_args()
    process, client = start_server(args)
    try:
        model = next(m for m in client.models.list().data if m.id == "paretohqd")
        trained = model.model_extra["preferences"]
        timed(client, trained[0], args.max_tokens, 0, False)  # warm-up: first merge, scorers
        print(f"CPU: {cpu_name()}; dtype {args.dtype}; {args.max_tokens} new tokens at most\n")
        print("| request | n | median latency (s) |\n| --- | ---: | ---: |")
        print("\n".join(cache_rows(client, args)))
        print("\n| clients | requests | requests/s | tokens/s | p50 (s) | p90 (s) | p99 (s) |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        print("\n".join(load_rows(client, trained, args)))
    finally:
        process.terminate()
        process.wait(timeout=30)


if __name__ == "__main__":
    main()
