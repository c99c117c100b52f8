"""Selection's pool size against what the data and the models reach: the embedded default (or
any config) run once per ``selection.pool_factor``, with ParetoHqD (direction) and its
linear-key ablation (``paretohqd_linear``: w . r inside the same pool), each in its own
working folder that starts from the first one's offline stage (hard links), so only the
selections, training and evaluation run again. Prints a Markdown table: per pool factor and
method, the hypervolume of the trained models with its interval, and per stage the
hypervolume of the selected sets' means, their mean Pareto layer and distance to the ray.

Usage: .venv/bin/python bench/pool_factor_sweep.py WORKDIR [--factors 1 2 5 N] [--cores 2]
       [--configfile extra.yaml ...]
(The number of preferences, the sweep's fourth value, is 5 in the default config: the same as 5.)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
METHODS = ["paretohqd", "paretohqd_linear"]


def run(workdir: Path, factor: float, cores: int, configfiles: list[str]) -> None:
    """One workflow run at ``factor`` in ``workdir``."""
    overlay = workdir / "sweep.yaml"
    overlay.write_text(f"selection: {{pool_factor: {factor}}}\nmethods: {json.dumps(METHODS)}\n")
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
               "--directory", str(workdir), "--cores", str(cores), "--configfile",
               *configfiles, str(overlay)]
    subprocess.run(command, check=True, cwd=ROOT, env={**os.environ, "HF_HUB_OFFLINE": "1"})


def link_offline_stage(source: Path, dest: Path) -> None:
    """``dest`` starts from ``source``'s prompts, models and scored offline data (hard links;
    Snakemake's records copied so that it sees them as finished)."""
    for part in ("data", "models", "reward_models", "offline"):
        if (source / "results" / part).exists():
            shutil.copytree(source / "results" / part, dest / "results" / part,
                            copy_function=os.link)
    shutil.copytree(source / ".snakemake", dest / ".snakemake",
                    ignore=shutil.ignore_patterns("locks", "log", "incomplete"))


def rows(workdir: Path, factor: float) -> list[dict]:
    """The sweep table's rows of one finished run."""
    summary = workdir / "results/summary"
    metrics = json.loads((summary / "metrics.json").read_text())["methods"]
    sets = pd.read_csv(summary / "selection.csv")
    hypervolumes = pd.read_csv(summary / "selection_hypervolume.csv")
    out = []
    for method in METHODS:
        entry = {"pool_factor": factor, "method": method,
                 "hv": metrics[method]["hypervolume"], "ci": metrics[method]["hypervolume_ci"]}
        for stage in ("stage 1", "stage 2"):
            mine = sets[(sets["method"] == method) & (sets["label"] == stage)]
            hv = hypervolumes[(hypervolumes["method"] == method)
                              & (hypervolumes["label"] == stage)]
            entry[stage] = (float(hv["hypervolume_of_set_means"].iloc[0]),
                            float(mine["mean_layer"].mean()), float(mine["ray_distance"].mean()))
        out.append(entry)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--factors", type=float, nargs="+", default=[1, 2, 5])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--configfile", nargs="*", default=[str(ROOT / "config/config.yaml")])
    args = parser.parse_args()
    table = []
    first = None
    for factor in dict.fromkeys(args.factors):
        workdir = args.workdir / f"pool_factor_{factor:g}"
        workdir.mkdir(parents=True, exist_ok=True)
        if first is not None and not (workdir / "results").exists():
            link_offline_stage(first, workdir)
        run(workdir, factor, args.cores, args.configfile)
        first = first or workdir
        table += rows(workdir, factor)
    print("| pool_factor | method | HV of the models [95%] | stage 1: HV of set means, mean "
          "layer, distance to ray | stage 2: the same |")
    print("| ---: | --- | ---: | ---: | ---: |")
    for row in table:
        stages = [f"{hv:.4f}, {layer:.2f}, {distance:.3f}" for hv, layer, distance
                  in (row["stage 1"], row["stage 2"])]
        print(f"| {row['pool_factor']:g} | {row['method']} | {row['hv']:.4f} "
              f"[{row['ci'][0]:.4f}, {row['ci'][1]:.4f}] | {stages[0]} | {stages[1]} |")


if __name__ == "__main__":
    main()
