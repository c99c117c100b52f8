"""How much the data seed moves the hypervolume: runs of one config that differ only in `seed`
(the prompt split, offline samples, reward models and judges, selections), each from its own
metrics.json (rule summary), as Markdown for docs/RESULTS.md.

Per grading (reward models, judges) and method: each data seed's hypervolume with its own
prompt-bootstrap interval, then the mean over data seeds with Student's t interval and where
one more data seed would land (paretohqd.evaluation.seeds.across_seeds, the same code as the
training-seed intervals); and each method's gain over the base model per data seed (paired
prompt bootstrap within the run), with the same spread over data seeds. Each run
grades in its own frame (its scorers' offline min and max), so the gain over base, measured
inside one frame, is the comparable number.

Usage: .venv/bin/python bench/data_seeds.py 42=runs/a/results/summary/metrics.json 7=...
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from paretohqd.evaluation.seeds import across_seeds


def gradings(metrics: dict) -> dict[str, dict]:
    """{grading: {method: entry}} for the reward models and, when present, the judges."""
    out = {"reward models": metrics["methods"]}
    if metrics.get("judged"):
        out["judges"] = metrics["judged"]["methods"]
    return out


def spread(values: list[float]) -> str:
    stats = across_seeds(values)
    return (f"{stats['mean']:.4f} [{stats['ci_low']:.4f}, {stats['ci_high']:.4f}] | "
            f"[{stats['re_run_low']:.4f}, {stats['re_run_high']:.4f}]")


def tables(runs: dict[str, dict], base: str = "base") -> list[str]:
    """The hypervolume and the gain-over-base tables of ``runs`` ({data seed: metrics})."""
    seeds = list(runs)
    lines = ["| grading | method | " + " | ".join(f"HV, data seed {s} [95%, prompts]"
                                                   for s in seeds)
             + " | mean over data seeds [95% t] | one more data seed [95%] |",
             "| --- | --- |" + " ---: |" * (len(seeds) + 2)]
    gains = ["| grading | method | " + " | ".join(f"HV - HV(base), data seed {s} [95%, prompts]"
                                                   for s in seeds)
             + " | mean [95% t] | one more data seed [95%] |",
             "| --- | --- |" + " ---: |" * (len(seeds) + 2)]
    by_seed = {seed: gradings(metrics) for seed, metrics in runs.items()}
    for grading in by_seed[seeds[0]]:
        for method in by_seed[seeds[0]][grading]:
            entries = [by_seed[seed][grading][method] for seed in seeds]
            hv = [entry["hypervolume"] for entry in entries]
            lines.append(f"| {grading} | {method} | " + " | ".join(
                f"{e['hypervolume']:.4f} [{e['hypervolume_ci'][0]:.4f}, "
                f"{e['hypervolume_ci'][1]:.4f}]" for e in entries) + f" | {spread(hv)} |")
            if method == base:
                continue
            # the base model's entry holds the paired prompt bootstrap of HV(method) - HV(base)
            paired = [by_seed[seed][grading][base][f"vs_{method}"] for seed in seeds]
            gain = [entry["estimate"] for entry in paired]
            gains.append(f"| {grading} | {method} | " + " | ".join(
                f"{e['estimate']:+.4f} [{e['ci_low']:+.4f}, {e['ci_high']:+.4f}]"
                for e in paired) + f" | {spread(gain)} |")
    return lines + [""] + gains


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", metavar="SEED=METRICS_JSON")
    args = parser.parse_args()
    runs = {}
    for item in args.runs:
        seed, _, path = item.partition("=")
        if not path:
            parser.error(f"{item!r}: expected SEED=path/to/metrics.json")
        runs[seed] = json.loads(Path(path).read_text())
    print("\n".join(tables(runs)))


if __name__ == "__main__":
    main()
