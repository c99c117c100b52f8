"""Paired bootstrap of one method's hypervolume in two finished runs (an A/B of a setting).

Both runs must have answered the same test prompts with the same seeds (a setting that leaves
the prompts and evaluation alone, e.g. `stage2.frame`); the hypervolume uses run A's offline
normalisation and the summary's reference point, as each run's own summary does.

Usage: .venv/bin/python bench/paired_runs.py RUN_A RUN_B [--method paretohqd] [--resamples 1000]
"""

import argparse
import json
from pathlib import Path

import numpy as np

from paretohqd.evaluation.front import build_front
from paretohqd.evaluation.metrics import Bootstrap, frame_hypervolume
from paretohqd.evaluation.uncertainty import hypervolume_samples, summarise


def run_points(run: Path, method: str, label: str, objectives: list[str]):
    """Points, answer files and score files of ``method`` in a finished run, as build_front
    takes them, with the method renamed ``label``."""
    points, responses, scores = [], [], []
    for path in sorted((run / "results/eval" / method).glob("seed*/responses/*.parquet")):
        seed, pref = int(path.parent.parent.name.removeprefix("seed")), path.stem
        weights = [int(x) / 100 for x in pref.removeprefix("p").split("_")]
        points.append((label, pref, seed, weights))
        responses.append(str(path))
        scores += [str(path.parent.parent / "scores" / o / path.name) for o in objectives]
    if not points:
        raise SystemExit(f"{run}: no evaluation answers of {method!r} under results/eval")
    return points, responses, scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_a", type=Path)
    parser.add_argument("run_b", type=Path)
    parser.add_argument("--method", default="paretohqd")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    metrics = json.loads((args.run_a / "results/summary/metrics.json").read_text())
    objectives = metrics["objectives"]
    low, high = metrics["normalisation"]["min"], metrics["normalisation"]["max"]
    reference = metrics["reference_point"]
    parts = [run_points(run, args.method, label, objectives)
             for run, label in ((args.run_a, "A"), (args.run_b, "B"))]
    points, responses, scores = (sum((p[i] for p in parts), []) for i in range(3))
    front, per_prompt = build_front(points, objectives, responses, scores,
                                    {"min_words": 1, "max_repeated_share": 1.0})
    resamples = Bootstrap(args.resamples, args.seed, 0.95).draw(per_prompt)
    volume = frame_hypervolume(low, high, reference)
    keys = [(m, p) for m, p in zip(front["method"], front["pref_id"])]
    samples = hypervolume_samples(resamples, keys, volume)
    estimate = {label: volume(front[front["method"] == label][objectives].to_numpy())
                for label in ("A", "B")}
    print(front[["method", "pref_id", *objectives]].round(4).to_string(index=False))
    for label in ("A", "B"):
        print(label, json.dumps(summarise(estimate[label], samples[label])))
    diff = summarise(estimate["A"] - estimate["B"], samples["A"] - samples["B"])
    print("HV(A) - HV(B)", json.dumps(diff),
          f"resamples with A ahead {float(np.mean(samples['A'] > samples['B'])):.3f}",
          f"({resamples.n_prompts} prompts, {resamples.n_seeds} seed(s))")


if __name__ == "__main__":
    main()
