"""Held-out ROC AUC of the workflow-trained reward models and judges against their training
length, over several data seeds: what each step of the ``reward_training`` recipe buys.

Each (recipe, part, epochs, seed) trains once, in a worker process of its own, exactly as rule
``reward_model`` / ``judge_model`` does (``build_reward_splits`` + ``train_reward_model``, the
config's settings but ``epochs`` and ``seed``); the seed moves the label split, the train/test
split and the initialisation. Prints one markdown row per case, then per (recipe, part, epochs)
the mean AUC over seeds, its paired difference to the config's epochs with a 95% t interval
over the seeds, and the mean training time.

Usage: .venv/bin/python bench/reward_model_epochs.py --results results
       [--epochs 1.0,1.5] [--seeds 1,2,3] [--parts reward,judge] [--workers 2]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import yaml
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]


def train_case(case: dict) -> dict:
    """Train one reward model or judge as the workflow does and return its AUC and time."""
    import torch

    from paretohqd.io import read_table
    from paretohqd.rewards.config import RewardTrainingSettings
    from paretohqd.rewards.training import build_reward_splits, train_reward_model

    torch.set_num_threads(1)
    config = case["config"]
    section = config["reward_training"]
    settings = replace(RewardTrainingSettings.from_config(config), epochs=case["epochs"],
                       seed=case["seed"])
    prompts = read_table(case["prompts"], required=["prompt", "references", "split"])
    train, test = build_reward_splits(case["recipe"], prompts, section["test_fraction"],
                                      section["conversation_pairs"], case["seed"],
                                      case["part"], case["judge_fraction"])
    # the trainer prints its log lines: keep stdout for the table
    with tempfile.TemporaryDirectory() as scratch, contextlib.redirect_stdout(sys.stderr):
        started = time.perf_counter()
        metrics = train_reward_model(train, test, section["base"], Path(scratch) / "model",
                                     Path(scratch) / "trainer", settings)
        seconds = time.perf_counter() - started
    return {**{k: case[k] for k in ("recipe", "part", "epochs", "seed")},
            "auc": metrics["roc_auc"], "n_train": metrics["n_train"],
            "n_test": metrics["n_test"], "seconds": seconds}


def summarise(rows: list[dict], reference_epochs: float) -> list[str]:
    """Per (recipe, part, epochs): mean AUC, paired difference to ``reference_epochs`` with a
    95% t interval over seeds, mean seconds."""
    lines = ["| recipe | part | epochs | seeds | mean AUC | AUC - AUC at "
             f"{reference_epochs:g} epochs [95% CI] | mean s |",
             "| --- | --- | ---: | ---: | ---: | --- | ---: |"]
    groups = sorted({(r["recipe"], r["part"], r["epochs"]) for r in rows})
    for recipe, part, epochs in groups:
        mine = {r["seed"]: r for r in rows if (r["recipe"], r["part"], r["epochs"]) ==
                (recipe, part, epochs)}
        ref = {r["seed"]: r for r in rows if (r["recipe"], r["part"], r["epochs"]) ==
               (recipe, part, reference_epochs)}
        seeds = sorted(set(mine) & set(ref))
        diffs = [mine[s]["auc"] - ref[s]["auc"] for s in seeds]
        if len(diffs) > 1 and epochs != reference_epochs:
            mean = statistics.mean(diffs)
            half = stats.t.ppf(0.975, len(diffs) - 1) * statistics.stdev(diffs) / len(diffs) ** 0.5
            paired = f"{mean:+.4f} [{mean - half:+.4f}, {mean + half:+.4f}]"
        else:
            paired = "(reference)" if epochs == reference_epochs else "n/a"
        lines.append(f"| {recipe} | {part} | {epochs:g} | {len(mine)} | "
                     f"{statistics.mean(r['auc'] for r in mine.values()):.4f} | {paired} | "
                     f"{statistics.mean(r['seconds'] for r in mine.values()):.1f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=ROOT / "results",
                        help="a finished run's results folder (its prompts table)")
    parser.add_argument("--config", type=Path, default=ROOT / "config/config.yaml")
    parser.add_argument("--epochs", default="1.0,1.5")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--parts", default="reward,judge")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    from snakemake.utils import validate

    config = yaml.safe_load(args.config.read_text())
    validate(config, str(ROOT / "schemas/config.schema.yaml"))
    config = {**config, "device": "cpu"}
    fraction = config["evaluation"]["judges"]["label_fraction"]
    cases = [{"config": config, "prompts": str(args.results / "data/prompts.parquet"),
              "recipe": objective["train_recipe"], "part": part, "epochs": float(epochs),
              "seed": int(seed), "judge_fraction": fraction}
             for objective in config["objectives"] if objective.get("train_recipe")
             for part in args.parts.split(",")
             for epochs in args.epochs.split(",") for seed in args.seeds.split(",")]
    cases.sort(key=lambda c: -c["epochs"])  # the longest first: no long case left for the end
    print("| recipe | part | epochs | seed | n train | n test | ROC AUC | s |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    rows = []
    with ProcessPoolExecutor(args.workers) as pool:
        for row in pool.map(train_case, cases):
            rows.append(row)
            print(f"| {row['recipe']} | {row['part']} | {row['epochs']:g} | {row['seed']} | "
                  f"{row['n_train']} | {row['n_test']} | {row['auc']:.4f} | "
                  f"{row['seconds']:.1f} |", flush=True)
    print()
    print("\n".join(summarise(rows, config["reward_training"]["epochs"])))


if __name__ == "__main__":
    main()
