"""The front table: one row per evaluated model (method, preference), averaged over its training
seeds, from its scored evaluation answers; and each model's per-seed, per-prompt rewards (what
the paired bootstrap of paretohqd.evaluation.uncertainty resamples)."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from paretohqd.evaluation.collapse import evaluation_point
from paretohqd.io import read_scores, read_table


def scored_answers(response_path: str, score_paths: Sequence[str],
                   objectives: Sequence[str]) -> pd.DataFrame:
    """One model's evaluation answers with a column of scores per objective (``score_paths``
    in objective order; each must have been scored by its objective's scorer)."""
    table = read_table(response_path, required=["row_id", "response"], unique=["row_id"])
    for objective, path in zip(objectives, score_paths):
        scores = read_scores(path, objective)
        table[objective] = table["row_id"].map(scores.set_index("row_id")["score"])
        if table[objective].isna().any():
            raise ValueError(f"{path}: scores missing for some rows of {response_path}")
    return table


def build_front(points: Sequence, objectives: Sequence[str], response_paths: Sequence[str],
                score_paths: Sequence[str], collapse: dict
                ) -> tuple[pd.DataFrame, dict[tuple[str, str], np.ndarray]]:
    """One row per (method, pref_id): ``method``, ``pref_id``, ``w_<objective>``, the mean
    reward of each objective over its seeds' answers, ``collapse_rate``, ``n_eval`` (answers,
    all seeds together) and ``n_seeds``; and per (method, pref_id) its rewards per seed and
    test prompt (the mean of the prompt's samples), an array (n_seeds, n_prompts, M) whose
    rows follow the sorted seeds and whose columns the sorted prompt ids that every model and
    seed must share.

    ``points`` lists (method, pref_id, seed, weights or None); ``response_paths`` has one file
    per point in the same order, ``score_paths`` one per (point, objective), objectives
    innermost.
    """
    m = len(objectives)
    if len(response_paths) != len(points) or len(score_paths) != len(points) * m:
        raise ValueError("summary inputs do not line up with the evaluated points")
    models: dict[tuple[str, str], dict] = {}
    for i, (method, pref_id, seed, weights) in enumerate(points):
        model = models.setdefault((method, pref_id), {"weights": weights, "seeds": {}})
        model["seeds"][seed] = i
    rows, per_prompt, prompt_ids = [], {}, None
    for (method, pref_id), model in models.items():
        seeds = sorted(model["seeds"])
        tables, means = [], []
        for seed in seeds:
            i = model["seeds"][seed]
            table = scored_answers(response_paths[i], score_paths[i * m:(i + 1) * m], objectives)
            prompt_means = table.groupby("prompt_id")[list(objectives)].mean().sort_index()
            if prompt_ids is None:
                prompt_ids = prompt_means.index
            elif not prompt_means.index.equals(prompt_ids):
                raise ValueError(f"{response_paths[i]} answers other test prompts than "
                                 f"{response_paths[0]}: every model must answer the same ones")
            tables.append(table)
            means.append(prompt_means.to_numpy())
        weights = model["weights"]
        row = {"method": method, "pref_id": pref_id}
        row.update({f"w_{o}": (float(w) if weights is not None else float("nan"))
                    for o, w in zip(objectives, weights if weights is not None else [None] * m)})
        row.update(evaluation_point(pd.concat(tables, ignore_index=True), objectives,
                                    **collapse))
        row["n_seeds"] = len(seeds)
        rows.append(row)
        per_prompt[(method, pref_id)] = np.stack(means)
    return pd.DataFrame(rows), per_prompt
