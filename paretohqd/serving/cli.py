"""``paretohqd``: a finished run's models for any preference, from the terminal (and the hub
assets a run needs, fetched ahead of it).

    paretohqd generate --results results --preference 0.3,0.7 "How do I boil an egg?"
    paretohqd front --results results
    paretohqd export --results results --preference 0.3,0.7 --merged my-model
    paretohqd serve --results results --port 8000
    paretohqd export-lora --results results --grid 11 --interpolate --out front-lora
    paretohqd prefetch --configfile config/hh_rlhf.yaml

Everything but ``prefetch`` (which reads the configs) comes from ``results/models/index.json``
(written by the workflow's ``model_index`` rule) and ``results/summary/``; the workflow itself
is never read. torch and transformers are imported inside the commands that need them, so
``--help`` is fast.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Sequence, TextIO

import pandas as pd

from paretohqd.assets import ModelSourceError
from paretohqd.serving.interpolation import PreferenceError, parse_preference, realised
from paretohqd.io import DataError, read_json, read_table
from paretohqd.serving.model_index import Served

Z95 = 1.96  # a mean's 95% interval: mean +- 1.96 standard errors
DTYPES = ("float32", "bfloat16", "float16")


class UsageError(ValueError):
    """A command-line input is unusable; the message names it."""


def read_prompts(prompts: Sequence[str], prompts_file: str | None, stdin: TextIO) -> list[str]:
    """The prompts: the arguments, else the file's lines, else stdin's lines (blank lines
    skipped)."""
    if prompts and prompts_file:
        raise UsageError("give prompts as arguments or with --prompts-file, not both")
    if prompts:
        lines = list(prompts)
    elif prompts_file:
        path = Path(prompts_file)
        if not path.is_file():
            raise UsageError(f"--prompts-file {prompts_file}: file not found")
        lines = path.read_text(encoding="utf-8").splitlines()
    else:
        if stdin.isatty():
            print("reading prompts from stdin, one per line (end with Ctrl-D)", file=sys.stderr)
        lines = stdin.read().splitlines()
    lines = [line.strip() for line in lines if line.strip()]
    if not lines:
        raise UsageError("no prompts: give them as arguments, with --prompts-file, or on stdin")
    return lines


def _preference_text(weights: Sequence[float]) -> str:
    return ",".join(f"{w:g}" for w in weights)


def front_report(front: pd.DataFrame, metrics: dict) -> str:
    """The front (method, preference, each objective's mean reward with its 95% interval,
    mean +- 1.96 se) and each method's hypervolume with its bootstrap interval, as text."""
    objectives = metrics["objectives"]
    points = pd.DataFrame({"method": front["method"]})
    points["preference"] = [
        "none" if pid == "none" else _preference_text(row)
        for pid, row in zip(front["pref_id"], front[[f"w_{o}" for o in objectives]].to_numpy())]
    for o in objectives:
        points[f"{o} (95% CI)"] = [
            f"{m:.3f} [{m - Z95 * se:.3f}, {m + Z95 * se:.3f}]"
            for m, se in zip(front[o], front[f"se_{o}"])]
    level = metrics["bootstrap"]["level"]
    volumes = pd.DataFrame(
        [{"method": name, "hypervolume": f"{entry['hypervolume']:.4f}",
          f"{level:.0%} CI": "[{:.4f}, {:.4f}]".format(*entry["hypervolume_ci"])}
         for name, entry in metrics["methods"].items()])
    return (points.to_string(index=False) + "\n\n" + volumes.to_string(index=False) + "\n")


def _summary_file(results: Path, name: str) -> Path:
    path = results / "summary" / name
    if not path.is_file():
        raise UsageError(f"{path}: not found; run the workflow first (`make run`), or pass "
                         "--results the folder of a finished run")
    return path


def cmd_front(args: argparse.Namespace) -> None:
    results = Path(args.results)
    front = read_table(_summary_file(results, "front.csv"), required=["method", "pref_id"])
    metrics = read_json(_summary_file(results, "metrics.json"))
    sys.stdout.write(front_report(front, metrics))


def _choice(args: argparse.Namespace) -> tuple[Served, tuple[float, ...], int, list[dict]]:
    """The run, the asked preference, the seed and the adapters serving it."""
    served = Served.load(args.results)
    preference = parse_preference(args.preference, served.objectives)
    seed, chosen = served.choose(preference, args.method, args.seed, args.interpolate)
    reached = realised([(a["pref_id"], a["merge_weight"]) for a in chosen],
                       {a["pref_id"]: a["weights"] for a in chosen})
    if max(abs(a - b) for a, b in zip(reached, preference)) > 1e-6:
        how = "merge" if args.interpolate else "nearest trained preference"
        print(f"note: preference {_preference_text(preference)} is served by the {how} "
              f"{_preference_text(reached)}", file=sys.stderr)
    return served, preference, seed, chosen


def _adapters_used(chosen: Sequence[dict]) -> list[dict]:
    return [{key: a[key] for key in ("pref_id", "weights", "merge_weight", "path")}
            for a in chosen]


def check_sampling(args: argparse.Namespace) -> None:
    """The sampling options within the config schema's bounds (checked before any model
    loads), else ``UsageError`` naming the option."""
    if not args.temperature > 0:
        raise UsageError(f"--temperature {args.temperature:g}: must be > 0")
    if not 0 < args.top_p <= 1:
        raise UsageError(f"--top-p {args.top_p:g}: must be > 0 and <= 1")
    for flag, value in (("--max-new-tokens", args.max_new_tokens),
                        ("--batch-size", args.batch_size)):
        if value < 1:
            raise UsageError(f"{flag} {value}: must be >= 1")


def cmd_generate(args: argparse.Namespace) -> None:
    check_sampling(args)
    served, preference, seed, chosen = _choice(args)
    prompts = read_prompts(args.prompts, args.prompts_file, sys.stdin)
    from paretohqd.devices import resolve_device, resolve_dtype
    from paretohqd.policy.generation import SamplingSettings
    from paretohqd.serving.models import answer

    device = resolve_device(args.device)
    settings = SamplingSettings(temperature=args.temperature, top_p=args.top_p,
                                max_new_tokens=args.max_new_tokens,
                                batch_size=args.batch_size, seed=args.sampling_seed)
    answers = answer(served.base_model, chosen, prompts, settings, served.prompt_format,
                     device, resolve_dtype(args.dtype, device))
    for prompt, text in zip(prompts, answers):
        if args.format == "jsonl":
            record = {"prompt": prompt, "answer": text, "preference": list(preference),
                      "method": args.method, "seed": seed, "adapters": _adapters_used(chosen)}
            print(json.dumps(record, ensure_ascii=False))
        else:
            print(text)


def cmd_export(args: argparse.Namespace) -> None:
    output = Path(args.merged)
    if output.exists() and not (output.is_dir() and not any(output.iterdir())):
        raise UsageError(f"--merged {output}: exists and is not an empty folder; "
                         "choose a new path")
    served, preference, seed, chosen = _choice(args)
    import torch

    from paretohqd.serving.models import export_merged

    info = {"base_model": served.base_model, "preference": list(preference),
            "method": args.method, "seed": seed, "adapters": _adapters_used(chosen)}
    export_merged(served.base_model, chosen, output, getattr(torch, args.dtype), info)
    print(f"wrote {output}", file=sys.stderr)


def cmd_export_lora(args: argparse.Namespace) -> None:
    served = Served.load(args.results)
    if args.grid is not None and args.grid < 2:
        raise UsageError(f"--grid {args.grid}: must be >= 2 (points per edge of the "
                         "preference simplex, both ends included)")
    from paretohqd.serving.lora_export import (VLLM_ARGUMENT, LoraExportError, export_lora,
                                               simplex_grid)

    preferences = (simplex_grid(len(served.objectives), args.grid) if args.grid is not None
                   else [parse_preference(text, served.objectives) for text in args.preference])
    try:
        manifest = export_lora(served, args.method, args.seed, preferences, args.interpolate,
                               Path(args.out))
    except LoraExportError as err:
        raise UsageError(str(err)) from err
    for entry in manifest["adapters"]:
        asked, reached = entry["preference"], entry["realised_preference"]
        if max(abs(a - b) for a, b in zip(asked, reached)) > 1e-6:
            how = "merge" if args.interpolate else "nearest trained preference"
            print(f"note: {entry['name']} ({_preference_text(asked)}) is served by the {how} "
                  f"{_preference_text(reached)}", file=sys.stderr)
    print(f"wrote {len(manifest['adapters'])} adapters (largest rank {manifest['max_rank']}) "
          f"to {args.out}; serve them with `vllm serve {manifest['base_model']} --enable-lora "
          f"--max-lora-rank {manifest['vllm_max_lora_rank']}` and the --lora-modules argument "
          f"in {Path(args.out) / VLLM_ARGUMENT}", file=sys.stderr)


LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def serve_limits(args: argparse.Namespace):
    """The request limits of ``serve``'s options, checked."""
    from paretohqd.serving.server import Limits

    for flag, value in (("--adapters", args.adapters), ("--max-batch-rows", args.max_batch_rows),
                        ("--limit-max-tokens", args.limit_max_tokens),
                        ("--limit-n", args.limit_n), ("--max-body-bytes", args.max_body_bytes),
                        ("--max-queue", args.max_queue)):
        if value < 1:
            raise UsageError(f"{flag} {value}: must be >= 1")
    if args.limit_prompt_tokens is not None and args.limit_prompt_tokens < 1:
        raise UsageError(f"--limit-prompt-tokens {args.limit_prompt_tokens}: must be >= 1")
    if args.max_new_tokens > args.limit_max_tokens:
        raise UsageError(f"--max-new-tokens {args.max_new_tokens}: above --limit-max-tokens "
                         f"{args.limit_max_tokens}")
    return Limits(max_tokens=args.limit_max_tokens, max_n=args.limit_n,
                  max_prompt_tokens=args.limit_prompt_tokens,
                  max_body_bytes=args.max_body_bytes, max_queue=args.max_queue)


def cmd_serve(args: argparse.Namespace) -> None:
    check_sampling(args)
    limits = serve_limits(args)
    served = Served.load(args.results)
    methods = args.method or sorted(served.index["methods"])
    if not methods:
        raise UsageError(f"{served.results}: the run has no per-preference method to serve")
    if args.host not in LOOPBACK and not args.api_key:
        print(f"warning: serving on {args.host} without an API key: anyone who can reach this "
              "machine may use it (set --api-key or PARETOHQD_API_KEY)", file=sys.stderr)
    import uvicorn

    from paretohqd.devices import resolve_device, resolve_dtype
    from paretohqd.policy.generation import SamplingSettings
    from paretohqd.serving.model_pool import ModelPool
    from paretohqd.serving.server import Server, create_app

    device = resolve_device(args.device)
    defaults = SamplingSettings(temperature=args.temperature, top_p=args.top_p,
                                max_new_tokens=args.max_new_tokens, batch_size=1,
                                seed=args.sampling_seed)
    pool = ModelPool(served, device, resolve_dtype(args.dtype, device), args.adapters,
                     args.max_batch_rows, args.max_queue)
    server = Server(pool, methods, args.seed, args.interpolate, defaults, limits, args.api_key)
    print(f"serving {methods} (training seed {server.seed}) on http://{args.host}:{args.port}/",
          file=sys.stderr)
    uvicorn.run(create_app(server), host=args.host, port=args.port, log_level="info")


def _sampling_options(parser: argparse.ArgumentParser) -> None:
    """How answers are sampled, on this machine (generate; serve's defaults per request)."""
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--top-p", type=float, default=0.9)
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--sampling-seed", type=int, default=0,
                        help="seed of the sampling (default: 0)")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (default: auto)")
    parser.add_argument("--dtype", default="auto", choices=("auto", *DTYPES),
                        help="default: auto (bf16 where fast, else float32)")


def _run_options(parser: argparse.ArgumentParser) -> None:
    """Which run, preference, method and seed (generate, export)."""
    parser.add_argument("--results", default="results",
                        help="the results folder of a finished run (default: results)")
    parser.add_argument("--preference", required=True,
                        help="comma-separated weights, one per objective, >= 0, summing to 1 "
                             "(e.g. 0.3,0.7)")
    parser.add_argument("--method", default="paretohqd",
                        help="a per-preference method of the run (default: paretohqd)")
    parser.add_argument("--seed", type=int, default=None,
                        help="the training seed whose adapters to use (default: the first)")
    parser.add_argument("--interpolate", action="store_true",
                        help="merge the neighbouring trained adapters in proportion instead of "
                             "taking the nearest one")


def cmd_prefetch(args: argparse.Namespace) -> None:
    from paretohqd.config import load_config
    from paretohqd.data.prefetch import (DATASET, MODEL, PrefetchError, fetch, hub_assets,
                                         verify_offline)

    workflow = Path(args.workflow_dir)
    base, schema = workflow / "config/config.yaml", workflow / "schemas/config.schema.yaml"
    for path in (base, schema, *map(Path, args.configfile)):
        if not path.is_file():
            raise UsageError(f"{path}: not found (run from the workflow's folder, or give "
                             "--workflow-dir)")
    assets = hub_assets(load_config([base, *args.configfile], schema))
    if not assets:
        print("the config names no hub models or datasets: nothing to fetch", file=sys.stderr)
        return
    try:
        if not args.verify_only:
            records = fetch(assets, log=lambda line: print(line, file=sys.stderr))
            record = Path(args.record)
            record.parent.mkdir(parents=True, exist_ok=True)
            record.write_text(json.dumps({"configfiles": [str(base), *args.configfile],
                                          "assets": records}, indent=2) + "\n")
            print(f"revisions recorded in {record}", file=sys.stderr)
        problems = verify_offline(assets)
    except PrefetchError as err:
        raise UsageError(str(err)) from err
    if problems:
        raise UsageError("\n".join(problems))
    kinds = [a.kind for a in assets]
    print(f"{kinds.count(MODEL)} models and {kinds.count(DATASET)} datasets load with the hub "
          "unreachable (HF_HUB_OFFLINE=1)", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paretohqd", description="A finished ParetoHqD run's models for any preference.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    generate = commands.add_parser(
        "generate", help="answer prompts with the model for a preference",
        description="Answer prompts (arguments, --prompts-file, or stdin lines) with the "
                    "adapter trained for the nearest preference, or with --interpolate the "
                    "neighbouring adapters merged in proportion.")
    _run_options(generate)
    generate.add_argument("prompts", nargs="*", metavar="PROMPT", help="prompts to answer")
    generate.add_argument("--prompts-file", help="a file with one prompt per line")
    generate.add_argument("--format", choices=("text", "jsonl"), default="text",
                          help="text: one answer per prompt; jsonl: prompt, answer, "
                               "preference and adapters per line (default: text)")
    _sampling_options(generate)
    generate.add_argument("--batch-size", type=int, default=8)
    generate.set_defaults(run=cmd_generate)

    serve = commands.add_parser(
        "serve", help="serve the run's models over an OpenAI-compatible HTTP API",
        description="Serve the run's per-preference models behind OpenAI's chat completions "
                    "API, the preference chosen per request (field `preference`, by objective "
                    "name or as a list; `interpolate`; `score` for the run's rewards), with a "
                    "page at / to try them. The sampling options are each request's defaults.")
    serve.add_argument("--results", default="results",
                       help="the results folder of a finished run (default: results)")
    serve.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1")
    serve.add_argument("--port", type=int, default=8000, help="default: 8000")
    serve.add_argument("--method", action="append",
                       help="a method to serve (repeatable; default: every per-preference "
                            "method of the run)")
    serve.add_argument("--seed", type=int, default=None,
                       help="the training seed whose adapters to serve (default: the first)")
    serve.add_argument("--interpolate", action="store_true",
                       help="merge neighbouring trained adapters by default (a request's "
                            "`interpolate` overrides it)")
    serve.add_argument("--adapters", type=int, default=16,
                       help="trained adapters kept loaded (an interpolated preference blends its "
                            "neighbours'), least recently used out first (default: 16)")
    serve.add_argument("--max-batch-rows", type=int, default=32,
                       help="answers drawn together in one batch (default: 32)")
    serve.add_argument("--max-queue", type=int, default=64,
                       help="requests that may wait for a batch; beyond, a 429 (default: 64)")
    serve.add_argument("--limit-max-tokens", type=int, default=1024,
                       help="the largest max_tokens a request may ask (default: 1024)")
    serve.add_argument("--limit-n", type=int, default=16,
                       help="the most answers (n) per request (default: 16)")
    serve.add_argument("--limit-prompt-tokens", type=int, default=None,
                       help="the longest prompt in tokens (default: the model's context less "
                            "max_tokens)")
    serve.add_argument("--max-body-bytes", type=int, default=1 << 20,
                       help="the largest request body; beyond, a 413 (default: 1 MiB)")
    serve.add_argument("--api-key", default=os.environ.get("PARETOHQD_API_KEY"),
                       help="require 'Authorization: Bearer KEY' on /v1 and /metrics "
                            "(default: $PARETOHQD_API_KEY; none: open)")
    _sampling_options(serve)
    serve.set_defaults(run=cmd_serve, batch_size=1)

    front = commands.add_parser(
        "front", help="print the achieved front and hypervolumes",
        description="Print every method's mean rewards per preference with 95% intervals "
                    "(+- 1.96 standard errors) and each method's hypervolume with its "
                    "bootstrap interval, from results/summary/.")
    front.add_argument("--results", default="results",
                       help="the results folder of a finished run (default: results)")
    front.set_defaults(run=cmd_front)

    export = commands.add_parser(
        "export", help="write a stand-alone model for a preference",
        description="Merge the adapter(s) for a preference into the base model and write it "
                    "with its tokenizer to a new folder that "
                    "AutoModelForCausalLM.from_pretrained loads.")
    _run_options(export)
    export.add_argument("--merged", required=True, metavar="OUT",
                        help="the folder to write (must not exist, or be empty)")
    export.add_argument("--dtype", default="float32", choices=DTYPES,
                        help="dtype of the written weights (default: float32)")
    export.set_defaults(run=cmd_export)

    export_lora = commands.add_parser(
        "export-lora", help="write preferences as LoRA adapters that vLLM or TGI serve",
        description="Write one plain LoRA adapter per preference (the trained adapter serving "
                    "it, or with --interpolate the exact merge of its neighbours as one adapter "
                    "of summed rank), each with its tokenizer, a manifest.json and the "
                    "`--lora-modules name=path ...` argument of `vllm serve` "
                    "(vllm_lora_modules.txt). Names: METHOD-pXXX_YYY, the weights in "
                    "hundredths (paretohqd-p030_070).")
    export_lora.add_argument("--results", default="results",
                             help="the results folder of a finished run (default: results)")
    which = export_lora.add_mutually_exclusive_group(required=True)
    which.add_argument("--grid", type=int, metavar="N",
                       help="an even grid over the preference simplex, N points per edge "
                            "(11: every weight in steps of 0.1; 11 preferences for two "
                            "objectives, 66 for three)")
    which.add_argument("--preference", action="append",
                       help="comma-separated weights, one per objective, >= 0, summing to 1 "
                            "(repeatable)")
    export_lora.add_argument("--method", default="paretohqd",
                             help="a per-preference method of the run (default: paretohqd)")
    export_lora.add_argument("--seed", type=int, default=None,
                             help="the training seed whose adapters to use (default: the "
                                  "first)")
    export_lora.add_argument("--interpolate", action="store_true",
                             help="merge the neighbouring trained adapters in proportion "
                                  "instead of taking the nearest one")
    export_lora.add_argument("--out", required=True,
                             help="the folder to write (must not exist, or be empty)")
    export_lora.set_defaults(run=cmd_export_lora)

    prefetch = commands.add_parser(
        "prefetch", help="download what a config needs from the hub, then check it offline",
        description="Download every hub model (base, reward models, judges, the reward-"
                    "training checkpoint when one is trained) and hub dataset (prompts, "
                    "held-out sets) that config/config.yaml with the --configfile overlays "
                    "names, into the Hugging Face cache (HF_HOME / HF_HUB_CACHE: point them "
                    "where the compute nodes read), record their revisions, then load each one "
                    "in a fresh process with HF_HUB_OFFLINE=1. Runs on a login node: no "
                    "Snakemake, no GPU.")
    prefetch.add_argument("--configfile", nargs="+", default=[],
                          help="the overlays the run will use, as snakemake's --configfile")
    prefetch.add_argument("--workflow-dir", default=".",
                          help="the workflow's folder (config/, schemas/; default: .)")
    prefetch.add_argument("--record", default="results/prefetch.json",
                          help="where to record what was fetched and its revisions (default: "
                               "results/prefetch.json)")
    prefetch.add_argument("--verify-only", action="store_true",
                          help="only check that everything loads offline (nothing fetched)")
    prefetch.set_defaults(run=cmd_prefetch)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except (UsageError, PreferenceError, DataError, ModelSourceError) as err:
        print(f"paretohqd {args.command}: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
