"""Preferences between the trained ones: parse and check a preference vector, find the nearest
trained preference, and the convex weights of the trained preferences that reproduce it
(exactly inside their convex hull, for any number of objectives).

Pure functions on vectors (no models): ``paretohqd.policy.merging.merge_adapters`` merges the adapters
with these weights, the CLI and the ``interpolate`` rule call both.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from scipy.optimize import linprog, nnls

from paretohqd.config import SUM_TOLERANCE

# a neighbour whose weight is below this is left out of the merge
MIN_WEIGHT = 1e-9
# outside the trained preferences' hull: how much more the sum-to-one row weighs than the
# objectives in the least-squares fit (enough for the sum to hold to rounding)
SUM_ROW_WEIGHT = 1e4
# HiGHS's tightest: its default (1e-7) takes a mix 5e-8 away from the asked preference as
# exact (the paper's (0.3333334, 0.3333333, 0.3333333) with one neighbour, for 0.35,0.3,0.35)
FEASIBILITY_TOLERANCE = 1e-10


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
    trained preferences is ``preference``, nearest first (ties: by id); a trained preference
    alone when it is one.

    Inside the convex hull of the trained preferences the weights are exact, and of all exact
    ones those of least spread: they minimise sum_j lambda_j ||p_j - w||^2, the expected squared
    Euclidean distance in R^M (every objective alike) of the mixed trained preferences p_j from
    the asked w. That is a simplex of the Delaunay triangulation of the trained preferences in
    the simplex's own metric around w: at most M adapters, all near w; with two objectives the
    neighbours either side. Outside the hull (or when the trained preferences span less than
    the simplex), the least spread mix for the hull's point nearest w (Euclidean; with two
    objectives the nearest end alone): the realised preference (``realised``) then differs
    from w. Ties between equally spread mixes fall the same way for any order of ``trained``.
    """
    if not trained:
        raise PreferenceError("no trained preferences to interpolate between")
    distances = _distances(preference, trained)
    order = sorted(trained, key=lambda pid: (distances[pid], pid))
    target = np.asarray(preference, dtype=float)
    if np.allclose(trained[order[0]], target, rtol=0.0, atol=SUM_TOLERANCE):
        return [(order[0], 1.0)]
    points = np.asarray([trained[pid] for pid in order], dtype=float)
    weights = _least_spread_weights(points, target)
    if weights is None:  # outside the hull; its nearest point is a mix, so this one is feasible
        hull_point = points.T @ _nearest_convex_weights(points, target)
        weights = _least_spread_weights(points, hull_point)
    keep = weights > MIN_WEIGHT
    total = weights[keep].sum()
    return [(pid, float(w / total)) for pid, w, kept in zip(order, weights, keep) if kept]


def _least_spread_weights(points: np.ndarray, target: np.ndarray) -> np.ndarray | None:
    """Convex weights of ``points`` (rows, in this order) whose combination is ``target`` and
    which minimise sum_j lambda_j ||p_j - target||^2, a linear programme; None when there are
    none (``target`` outside the hull)."""
    cost = ((points - target) ** 2).sum(axis=1)
    equalities = np.vstack([points.T, np.ones(len(points))])
    # the dual simplex ends on a vertex (at most M non-zero weights, M equalities being
    # independent), the same one for the same column order
    result = linprog(cost, A_eq=equalities, b_eq=np.append(target, 1.0), bounds=(0.0, None),
                     method="highs-ds",
                     options={"primal_feasibility_tolerance": FEASIBILITY_TOLERANCE})
    if result.status == 2:  # infeasible
        return None
    if result.status != 0:
        raise RuntimeError(f"interpolation weights for {target.tolist()}: {result.message}")
    return result.x


def _nearest_convex_weights(points: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Convex weights of ``points`` (rows) whose combination is nearest ``target``
    (Euclidean): non-negative least squares with the sum-to-one row weighted so heavily that
    it holds to rounding, then rescaled to sum to 1 exactly."""
    system = np.vstack([points.T, SUM_ROW_WEIGHT * np.ones(len(points))])
    weights, _ = nnls(system, np.append(target, SUM_ROW_WEIGHT))
    return weights / weights.sum()


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
