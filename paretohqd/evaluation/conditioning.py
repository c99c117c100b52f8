"""Whether a prompt-conditioned method learned its conditioning (RiC's desired vs obtained
reward): per objective, across the method's preferences, the reward each conditioned prompt
asked for against the mean reward its answers obtained, as a Pearson correlation (with the
summary's paired bootstrap) and a least-squares slope (1: the rewards move as asked)."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from paretohqd.evaluation.uncertainty import Resamples, pearson_samples, summarise
from paretohqd.registry import load_function


def desired_rewards(front: pd.DataFrame, objectives: Sequence[str],
                    targets: Mapping[str, dict]) -> dict[str, np.ndarray]:
    """Per method with conditioning ``targets`` (method -> ``function``, ``input``,
    ``options``; see ``paretohqd.registry.Conditioning``): the rewards its prompts asked for,
    ``(n_points, M)`` in the order of its rows in ``front``."""
    out = {}
    for method, spec in targets.items():
        rows = front[front["method"] == method]
        if rows.empty:
            continue
        function = load_function(spec["function"])
        weights = rows[[f"w_{o}" for o in objectives]].to_numpy(dtype=float)
        asked = [function(list(w), list(objectives), spec["input"], **spec.get("options", {}))
                 for w in weights]
        out[method] = np.array([[a[o] for o in objectives] for a in asked], dtype=float)
    return out


def conditioning_fit(front: pd.DataFrame, resamples: Resamples, objectives: Sequence[str],
                     desired: Mapping[str, np.ndarray], level: float) -> dict[str, dict]:
    """Per method in ``desired`` and per objective: the desired and obtained mean rewards by
    preference id, their Pearson correlation (estimate, bootstrap se and interval; NaN when
    the desired rewards do not vary) and the slope of obtained on desired."""
    out: dict[str, dict] = {}
    for method, asked in desired.items():
        rows = front[front["method"] == method]
        points = list(zip(rows["method"], rows["pref_id"]))
        stacked = resamples.of_method(method, points)  # (n_resamples, n_points, M)
        entry = {}
        for j, objective in enumerate(objectives):
            x, y = asked[:, j], rows[objective].to_numpy(dtype=float)
            r = pearson_samples(x, y[None, :])[0]
            spread = float(((x - x.mean()) ** 2).sum())
            slope = float(((x - x.mean()) * (y - y.mean())).sum() / spread) if spread else np.nan
            entry[objective] = {
                "desired": dict(zip(rows["pref_id"], map(float, x))),
                "obtained": dict(zip(rows["pref_id"], map(float, y))),
                "pearson": summarise(r, pearson_samples(x, stacked[:, :, j]), level),
                "slope": slope,
            }
        out[method] = entry
    return out
