"""Training budget and compute per method, counted three ways from its jobs' own records (the
benchmark file and the ``phase`` and ``count`` lines of each job's log):

- **work seconds**: the ``work`` phases (training, generating, scoring; start-up and model
  loads left out; a training job resumed after a kill counts the runs before it too), beside
  the jobs' wall seconds;
- **tokens**: trained (forward + backward), generated, scored by the reward models;
- **FLOPs** from the tokens and the model sizes: 4 N T for LoRA training (forward 2 N T, and a
  backward pass that still runs through the frozen base, 2 N T, without weight gradients for
  it), 6 N T for full fine-tuning (the reward models), 2 N T for a forward pass (prompts and
  generated tokens in generation, reference log-probabilities, reward-model scoring); N: all
  parameters of the model, embeddings included; attention's own FLOPs are left out.

And the training budget the sequences-per-preference comparison rests on: models trained,
optimiser steps, sequences seen, distinct training rows, epochs (sequences / rows, per model).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from paretohqd.evaluation.costs import benchmark_seconds, job_log, log_counts, log_phases

# FLOPs per parameter and token of each kind of pass the jobs count (count line -> factor)
FLOPS_PER_PARAM_TOKEN = {"lora_train_param_tokens": 4.0, "full_train_param_tokens": 6.0,
                         "forward_param_tokens": 2.0, "scored_param_tokens": 2.0}
TOKEN_COUNTS = ("train_tokens", "generated_tokens", "scored_tokens")
BUDGET = ("models", "steps", "sequences", "rows", "epochs")
COLUMNS = ["name", "kind", *BUDGET, *TOKEN_COUNTS, "wall_s", "work_s", "flops"]


def job_record(benchmark: str) -> dict[str, float]:
    """One job's wall and work seconds, FLOPs and counts, from its benchmark file and log."""
    log = job_log(benchmark)
    counts = log_counts(log)
    flops = sum(factor * counts.get(name, 0.0) for name, factor in FLOPS_PER_PARAM_TOKEN.items())
    return {**counts, "wall_s": benchmark_seconds([benchmark]),
            "work_s": log_phases(log).get("work", 0.0), "flops": flops}


def _row(name: str, kind: str, benchmarks: Sequence[str], per: int) -> dict:
    """Totals of ``benchmarks``' jobs divided by ``per`` (training seeds for a method, 1 for a
    shared cost); epochs is the mean over the training jobs (those that count steps)."""
    jobs = [job_record(path) for path in benchmarks]
    trained = [job for job in jobs if "steps" in job]
    total = lambda key: sum(job.get(key, 0.0) for job in jobs) / per  # noqa: E731
    epochs = [job["sequences"] / job["examples"] for job in trained if job.get("examples")]
    return {"name": name, "kind": kind, "models": len(trained) / per, "steps": total("steps"),
            "sequences": total("sequences"), "rows": total("examples"),
            "epochs": float(np.mean(epochs)) if epochs else np.nan,
            **{key: total(key) for key in TOKEN_COUNTS},
            "wall_s": total("wall_s"), "work_s": total("work_s"), "flops": total("flops")}


def compute_table(costs: Mapping[str, Mapping[str, Sequence[str]]],
                  shared: Mapping[str, Sequence[str]], n_seeds: int) -> pd.DataFrame:
    """One row per method (its ``train`` and ``generate`` jobs, per training seed: the sum over
    seeds divided by ``n_seeds``) and per shared cost (offline data, reward models, judges,
    evaluation: whole-run totals), with the columns of ``COLUMNS``."""
    rows = [_row(name, "method", [*paths["train"], *paths["generate"]], n_seeds)
            for name, paths in costs.items()]
    rows += [_row(label, "shared", paths, 1) for label, paths in shared.items()]
    return pd.DataFrame(rows, columns=COLUMNS)


def with_hypervolume(table: pd.DataFrame, metrics: dict, reference: str) -> pd.DataFrame:
    """``table`` with each method's hypervolume and interval (metrics.json) and its FLOPs and
    work seconds relative to the ``reference`` method's (NaN where that did not run)."""
    table = table.copy()
    methods = metrics["methods"]
    table["hypervolume"] = [methods.get(n, {}).get("hypervolume", np.nan) for n in table["name"]]
    table["hypervolume_ci_low"] = [methods.get(n, {}).get("hypervolume_ci", [np.nan] * 2)[0]
                                   for n in table["name"]]
    table["hypervolume_ci_high"] = [methods.get(n, {}).get("hypervolume_ci", [np.nan] * 2)[1]
                                    for n in table["name"]]
    base = table[(table["name"] == reference) & (table["kind"] == "method")]
    for column in ("flops", "work_s"):
        denominator = float(base[column].iloc[0]) if len(base) else np.nan
        table[f"{column}_vs_{reference}"] = np.where(
            (table["kind"] == "method") & (denominator > 0),
            table[column] / denominator if denominator > 0 else np.nan, np.nan)
    return table


def _number(value: float, digits: int = 3) -> str:
    return "" if pd.isna(value) else f"{value:.{digits}g}"


def compute_cells(table: pd.DataFrame, reference: str
                  ) -> tuple[tuple[list[str], list[list[str]]], tuple[list[str], list[list[str]]]]:
    """The budget table (methods) and the compute table (methods and shared costs) as text
    cells, headers first: the same for the Markdown and the HTML page."""
    methods = table[table["kind"] == "method"]
    budget = (["method", "models", "steps", "sequences seen", "distinct rows", "epochs",
               "tokens trained"],
              [[row.name, _number(row.models), f"{row.steps:.0f}", f"{row.sequences:.0f}",
                f"{row.rows:.0f}", _number(row.epochs), f"{row.train_tokens:.0f}"]
               for row in methods.itertuples(index=False)])
    compute = (["method or shared cost", "work s", "wall s", "tokens trained",
                "tokens generated", "tokens scored", "FLOPs", f"FLOPs / {reference}",
                f"work / {reference}", "hypervolume"],
               [[row.name if row.kind == "method" else f"(shared) {row.name}",
                 f"{row.work_s:.1f}", f"{row.wall_s:.1f}", f"{row.train_tokens:.0f}",
                 f"{row.generated_tokens:.0f}", f"{row.scored_tokens:.0f}",
                 f"{row.flops:.3g}", _number(getattr(row, f"flops_vs_{reference}")),
                 _number(getattr(row, f"work_s_vs_{reference}")), _number(row.hypervolume, 4)]
                for row in table.itertuples(index=False)])
    return budget, compute


COMPUTE_NOTE = (
    "Per training seed for methods (the mean over seeds), whole-run totals for the shared "
    "costs, which every method needs once (offline data, reward models, judges, evaluation, "
    "held-out sets). "
    "Work seconds: the jobs' training, generation and scoring phases from their logs "
    "(start-up and model loads left out; a training job resumed after a kill counts its "
    "earlier runs); wall seconds: the jobs' benchmark files. FLOPs: 4 N T for LoRA training "
    "(forward and a backward pass through the frozen base), 6 N T for full fine-tuning (the "
    "reward models), 2 N T for forward-only passes (generation prompts and new tokens, "
    "reference log-probabilities, reward-model scoring); N counts every parameter of the model, "
    "attention's own FLOPs are left out. Budget: models trained, optimiser steps, sequences "
    "seen (steps x global batch), distinct training rows and epochs (sequences / rows, the "
    "mean over the method's models) of each method's own training jobs.")


def compute_markdown(table: pd.DataFrame, reference: str) -> str:
    """The budget and compute tables as Markdown, with what the columns count."""
    lines: list[str] = []
    for title, (headers, rows) in zip(("Training budget per training seed", "Compute"),
                                      compute_cells(table, reference)):
        lines += [f"## {title}", "", "| " + " | ".join(headers) + " |",
                  "| --- |" + " ---: |" * (len(headers) - 1)]
        lines += ["| " + " | ".join(cells) + " |" for cells in rows] + [""]
    return "\n".join(lines + [COMPUTE_NOTE]) + "\n"


def compute_html(table: pd.DataFrame, reference: str) -> str:
    """The budget and compute tables as an HTML page for the report."""
    from paretohqd.html import html_note, html_page, html_table

    body = []
    for headers, rows in compute_cells(table, reference):
        body.append(html_table(headers, rows, numeric=range(1, len(headers))))
    return html_page("Training budget and compute", [*body, html_note(COMPUTE_NOTE)])

