"""The front table: one row per evaluated model, from its scored evaluation answers, and each
model's per-prompt rewards (what the paired bootstrap of paretohqd.uncertainty resamples)."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from paretohqd.evaluation import evaluation_point
from paretohqd.io import read_table


def build_front(points: Sequence, objectives: Sequence[str], response_paths: Sequence[str],
                score_paths: Sequence[str], collapse: dict
                ) -> tuple[pd.DataFrame, dict[tuple[str, str], np.ndarray]]:
    """One row per evaluated model: ``method``, ``pref_id``, ``w_<objective>``, the mean reward
    of each objective, ``collapse_rate`` and ``n_eval``; and per (method, pref_id) its rewards
    per test prompt (the mean of the prompt's samples), an array (1, n_prompts, M) whose rows
    follow the sorted prompt ids that every model must share.

    ``points`` lists (method, pref_id, weights or None); ``response_paths`` has one file per
    point in the same order, ``score_paths`` one per (point, objective), objectives innermost.
    """
    m = len(objectives)
    if len(response_paths) != len(points) or len(score_paths) != len(points) * m:
        raise ValueError("summary inputs do not line up with the evaluated points")
    rows, per_prompt, prompt_ids = [], {}, None
    for i, (method, pref_id, weights) in enumerate(points):
        table = read_table(response_paths[i], required=["row_id", "response"],
                           unique=["row_id"])
        for objective, path in zip(objectives, score_paths[i * m:(i + 1) * m]):
            scores = read_table(path, required=["row_id", "score"], unique=["row_id"])
            scores = scores.set_index("row_id")["score"]
            table[objective] = table["row_id"].map(scores)
            if table[objective].isna().any():
                raise ValueError(f"{path}: scores missing for some rows of {response_paths[i]}")
        row = {"method": method, "pref_id": pref_id}
        row.update({f"w_{o}": (float(w) if weights is not None else float("nan"))
                    for o, w in zip(objectives, weights if weights is not None else [None] * m)})
        row.update(evaluation_point(table, objectives, **collapse))
        rows.append(row)
        means = table.groupby("prompt_id")[list(objectives)].mean().sort_index()
        if prompt_ids is None:
            prompt_ids = means.index
        elif not means.index.equals(prompt_ids):
            raise ValueError(f"{response_paths[i]} answers other test prompts than "
                             f"{response_paths[0]}: every model must answer the same ones")
        per_prompt[(method, pref_id)] = means.to_numpy()[None, :, :]
    return pd.DataFrame(rows), per_prompt
