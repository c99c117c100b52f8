"""Preferences between the trained ones: parse and check a preference vector, find the nearest
trained preference, and the convex weights of the trained preferences that reproduce it.

Pure functions on vectors (no models): ``paretohqd.policy.merging.merge_adapters`` merges the adapters
with these weights, the CLI and the ``interpolate`` rule call both.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from scipy.optimize import nnls

from paretohqd.config import SUM_TOLERANCE

# a neighbour whose least-squares weight is below this is left out of the merge
MIN_WEIGHT = 1e-9


class PreferenceError(ValueError):
    """A preference vector is malformed; the message names the value."""


def check_preference(weights: Sequence[float], objectives: Sequence[str]) -> tuple[float, ...]:
    """``weights`` as floats if it is a preference over ``objectives``: one entry per objective,
    each >= 0, summing to 1 (within ``SUM_TOLERANCE``); else ``PreferenceError``."""
    weights = tuple(float(w) for w in weights)
    shown = ",".join(f"{w:g}" for w in weights)
    if len(weights) != len(objectives):
        raise PreferenceError(f"preference {shown}: has {len(weights)} entries but there are "
                              f"{len(objectives)} objectives {list(objectives)}")
    if any(not np.isfinite(w) or w < 0 for w in weights):
        raise PreferenceError(f"preference {shown}: entries must be finite and >= 0")
    if abs(sum(weights) - 1.0) > SUM_TOLERANCE:
        raise PreferenceError(f"preference {shown}: entries sum to {sum(weights):.9g}, not 1 "
                              f"(tolerance {SUM_TOLERANCE})")
    return weights


def parse_preference(text: str, objectives: Sequence[str]) -> tuple[float, ...]:
    """A comma-separated preference such as ``0.3,0.7``, checked by ``check_preference``."""
    try:
        weights = [float(part) for part in text.split(",")]
    except ValueError:
        raise PreferenceError(f"preference {text!r}: not comma-separated numbers "
                              f"(e.g. {','.join(['0.5'] + ['0'] * (len(objectives) - 1))} for "
                              f"{list(objectives)})") from None
    return check_preference(weights, objectives)


def _distances(preference: Sequence[float],
               trained: Mapping[str, Sequence[float]]) -> dict[str, float]:
    target = np.asarray(preference, dtype=float)
    return {pid: float(np.linalg.norm(np.asarray(w, dtype=float) - target))
            for pid, w in trained.items()}


def nearest(preference: Sequence[float], trained: Mapping[str, Sequence[float]]) -> str:
    """The id of the trained preference nearest ``preference`` (Euclidean; ties: first)."""
    if not trained:
        raise PreferenceError("no trained preferences to choose from")
    distances = _distances(preference, trained)
    return min(distances, key=distances.get)


def interpolation_weights(preference: Sequence[float],
                          trained: Mapping[str, Sequence[float]]) -> list[tuple[str, float]]:
    """Trained preference ids and convex weights (>= 0, summing to 1) whose weighted sum of
    trained preferences is ``preference``, nearest first; a trained preference alone when it
    is one.

    Two objectives: the trained preferences either side of it on the segment, weighted
    linearly (exact); beyond the outermost trained one, that one alone (the nearest convex
    combination). More objectives: the M nearest trained preferences, weighted by
    non-negative least squares and normalised to sum 1, exact when the preference lies in
    their convex hull and the least-squares approximation otherwise.
    """
    order = sorted(trained, key=_distances(preference, trained).get)
    if not order:
        raise PreferenceError("no trained preferences to interpolate between")
    target = np.asarray(preference, dtype=float)
    if np.allclose(trained[order[0]], target, rtol=0.0, atol=SUM_TOLERANCE):
        return [(order[0], 1.0)]
    if len(target) == 2:
        return _segment_weights(target, trained, order)
    neighbours = order[:len(target)]
    points = np.asarray([trained[pid] for pid in neighbours], dtype=float)
    # rows: the objectives, then sum(weights) = 1
    lam, _ = nnls(np.vstack([points.T, np.ones(len(neighbours))]), np.append(target, 1.0))
    lam = lam / lam.sum()
    return [(pid, float(w)) for pid, w in zip(neighbours, lam) if w > MIN_WEIGHT]


def _segment_weights(target: np.ndarray, trained: Mapping[str, Sequence[float]],
                     order: Sequence[str]) -> list[tuple[str, float]]:
    """Two objectives: the nearest trained preference below and above ``target``'s first
    entry, weighted linearly; the nearest one alone outside the trained range."""
    below = [pid for pid in order if trained[pid][0] < target[0]]
    above = [pid for pid in order if trained[pid][0] > target[0]]
    if not below or not above:
        return [(order[0], 1.0)]
    low, high = below[0], above[0]
    x_low, x_high = trained[low][0], trained[high][0]
    w_low = float((x_high - target[0]) / (x_high - x_low))
    pairs = [(low, w_low), (high, 1.0 - w_low)]
    return sorted(pairs, key=lambda pair: order.index(pair[0]))


def realised(weights: Sequence[tuple[str, float]],
             trained: Mapping[str, Sequence[float]]) -> tuple[float, ...]:
    """The preference that a merge with these weights stands for: sum_i w_i p_i."""
    total = sum(w * np.asarray(trained[pid], dtype=float) for pid, w in weights)
    return tuple(float(x) for x in total)
