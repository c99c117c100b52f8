"""Per-method metrics of the front: hypervolume in a stated normalisation, collapse rate and
compute seconds (metrics.json)."""

from __future__ import annotations

from typing import Sequence

import moocore
import numpy as np
import pandas as pd

from paretohqd.benchmarks import benchmark_seconds


def normalised(points: np.ndarray, low: Sequence[float], high: Sequence[float]) -> np.ndarray:
    """Map mean-reward points to the offline data's [min, max] box: low -> 0, high -> 1."""
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    return (np.asarray(points, dtype=float) - low) / np.where(high > low, high - low, 1.0)


def hypervolume(points: np.ndarray, reference: Sequence[float]) -> float:
    """Hypervolume (maximising) dominated by ``points`` above ``reference`` (moocore); points
    that do not strictly dominate the reference add nothing."""
    points = np.atleast_2d(np.asarray(points, dtype=float))
    reference = np.asarray(reference, dtype=float)
    inside = points[(points > reference).all(axis=1)]
    return float(moocore.hypervolume(inside, ref=reference, maximise=True)) if len(inside) else 0.0


def method_metrics(front: pd.DataFrame, objectives: Sequence[str], low: Sequence[float],
                   high: Sequence[float], reference: Sequence[float]) -> dict[str, dict]:
    """Per method: hypervolume of its points (normalised), mean collapse rate, point count."""
    out = {}
    for method, rows in front.groupby("method", sort=False):
        points = normalised(rows[list(objectives)].to_numpy(), low, high)
        out[method] = {"hypervolume": hypervolume(points, reference),
                       "collapse_rate": float(rows["collapse_rate"].mean()),
                       "n_points": int(len(rows))}
    return out


def build_metrics(front: pd.DataFrame, objectives: Sequence[str], stats: dict,
                  reference: float, costs: dict[str, dict[str, list[str]]]) -> dict:
    """metrics.json: objectives, the normalisation (offline data min/max), the reference point
    and per method hypervolume, collapse rate and compute seconds."""
    low = [stats["rewards"][o]["min"] for o in objectives]
    high = [stats["rewards"][o]["max"] for o in objectives]
    ref = [float(reference)] * len(objectives)
    methods = method_metrics(front, objectives, low, high, ref)
    for method, entry in methods.items():
        cost = costs.get(method, {"train": [], "generate": []})
        entry["train_seconds"] = benchmark_seconds(cost["train"])
        entry["generate_seconds"] = benchmark_seconds(cost["generate"])
        entry["total_seconds"] = entry["train_seconds"] + entry["generate_seconds"]
    return {"objectives": list(objectives), "normalisation": {"min": low, "max": high},
            "reference_point": ref, "methods": methods}
