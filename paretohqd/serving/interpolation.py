"""Preferences between the trained ones: parse and check a preference vector, find the nearest
trained preference, and the convex weights of the trained preferences that reproduce it
(exactly inside their convex hull, for any number of objectives).

Pure functions on vectors (no models): ``paretohqd.policy.merging.merge_adapters`` merges the adapters
with these weights, the CLI and the ``interpolate`` rule call both.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from scipy.optimize import nnls
from scipy.spatial import Delaunay, QhullError

from paretohqd.config import SUM_TOLERANCE

# a neighbour whose weight is below this is left out of the merge
MIN_WEIGHT = 1e-9
# outside the trained preferences' hull: how much more the sum-to-one row weighs than the
# objectives in the least-squares fit (enough for the sum to hold to rounding)
SUM_ROW_WEIGHT = 1e4


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

    Inside the convex hull of the trained preferences the weights are exact and local: two
    objectives, the trained preferences either side on the segment; more, the vertices of the
    simplex of a Delaunay triangulation of the trained preferences that contains it (so
    every point of the hull is reached with at most M adapters, all near it). Outside the hull
    (or when the trained preferences span less than the simplex), the convex combination
    nearest to it: the realised preference (``realised``) then differs from the asked one.
    """
    order = sorted(trained, key=_distances(preference, trained).get)
    if not order:
        raise PreferenceError("no trained preferences to interpolate between")
    target = np.asarray(preference, dtype=float)
    if np.allclose(trained[order[0]], target, rtol=0.0, atol=SUM_TOLERANCE):
        return [(order[0], 1.0)]
    if len(target) == 2:
        pairs = _segment_weights(target, trained, order)
    else:
        pairs = _simplex_weights(target, trained, order) or _nearest_convex_weights(
            target, trained, order)
    pairs = [(pid, w) for pid, w in pairs if w > MIN_WEIGHT]
    total = sum(w for _, w in pairs)
    return sorted(((pid, w / total) for pid, w in pairs), key=lambda pair: order.index(pair[0]))


def _simplex_weights(target: np.ndarray, trained: Mapping[str, Sequence[float]],
                     order: Sequence[str]) -> list[tuple[str, float]]:
    """Barycentric weights of ``target`` in the Delaunay simplex of the trained preferences
    that contains it (coordinates: all entries but the last, which the sum fixes); empty when
    it is outside their hull or they do not span the simplex."""
    points = np.asarray([trained[pid] for pid in order], dtype=float)[:, :-1]
    try:
        triangulation = Delaunay(points)
    except QhullError:  # fewer than M points, or all on a lower-dimensional face
        return []
    simplex = int(triangulation.find_simplex(target[:-1]))
    if simplex < 0:
        return []
    transform = triangulation.transform[simplex]
    inner = transform[:-1] @ (target[:-1] - transform[-1])
    weights = np.append(inner, 1.0 - inner.sum()).clip(min=0.0)
    return [(order[i], float(w)) for i, w in zip(triangulation.simplices[simplex], weights)]


def _nearest_convex_weights(target: np.ndarray, trained: Mapping[str, Sequence[float]],
                            order: Sequence[str]) -> list[tuple[str, float]]:
    """Convex weights of the trained preferences whose combination is nearest ``target``
    (Euclidean): non-negative least squares with the sum-to-one row weighted so heavily that
    it holds to rounding."""
    points = np.asarray([trained[pid] for pid in order], dtype=float)
    system = np.vstack([points.T, SUM_ROW_WEIGHT * np.ones(len(order))])
    weights, _ = nnls(system, np.append(target, SUM_ROW_WEIGHT))
    return [(pid, float(w)) for pid, w in zip(order, weights)]


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
    return [(low, w_low), (high, 1.0 - w_low)]


def realised(weights: Sequence[tuple[str, float]],
             trained: Mapping[str, Sequence[float]]) -> tuple[float, ...]:
    """The preference that a merge with these weights stands for: sum_i w_i p_i."""
    total = sum(w * np.asarray(trained[pid], dtype=float) for pid, w in weights)
    return tuple(float(x) for x in total)


def merge_plan(asked: Mapping[str, Sequence[float]], trained: Mapping[str, Sequence[float]]
               ) -> dict[str, tuple[list[tuple[str, float]], tuple[float, ...]]]:
    """Per asked preference id: the trained preference ids and weights to merge
    (``interpolation_weights``), and the preference the merge stands for (``realised``, to
    1e-9): the asked one inside the trained preferences' hull, the hull's nearest point
    outside it. A merged model is placed at the second (front, plot, rank correlation, card)."""
    plan = {}
    for pref, weights in asked.items():
        merge = interpolation_weights(weights, trained)
        plan[pref] = merge, tuple(round(x, 9) for x in realised(merge, trained))
    return plan
