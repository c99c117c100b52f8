"""Pareto-layer data selection along preference directions (pure functions on arrays).

Conventions: ``points`` is an (n, M) array of rewards where larger is better for every
objective; ``weights`` is a preference vector on the simplex (length M).
"""

from __future__ import annotations

import warnings
from typing import Sequence

import moocore
import numpy as np
import pandas as pd

MINMAX, ZSCORE = "minmax", "zscore"
DIRECTION, LINEAR, LINEAR_POOL = "direction", "linear", "linear_pool"
MODES = (DIRECTION, LINEAR, LINEAR_POOL)
# modes that choose among the first Pareto layers, whose size pool_factor sets (`layers_for`)
POOL_MODES = frozenset({DIRECTION, LINEAR_POOL})


def frame_of(points: np.ndarray, quantile: float = 0.0) -> dict[str, np.ndarray]:
    """The per-objective ``min``, ``max``, ``mean`` and ``std`` that normalisation uses; with
    ``quantile`` q > 0, ``min`` and ``max`` are the q and 1 - q quantiles, so that a few
    outlying rows cannot set the frame (and the ideal point) alone."""
    points = np.asarray(points, dtype=float)
    if not 0.0 <= quantile < 0.5:
        raise ValueError(f"frame quantile must be in [0, 0.5), got {quantile}")
    low, high = ((points.min(axis=0), points.max(axis=0)) if quantile == 0.0 else
                 (np.quantile(points, quantile, axis=0), np.quantile(points, 1 - quantile, axis=0)))
    return {"min": low, "max": high, "mean": points.mean(axis=0), "std": points.std(axis=0)}


def table_frame(table: pd.DataFrame, objectives: Sequence[str],
                quantile: float = 0.0) -> dict[str, dict[str, float]]:
    """``frame_of`` a scored table's objectives, per objective (the shape of the ``rewards``
    of a stats.json, which ``select_rows`` takes as ``frame``)."""
    frame = frame_of(table[list(objectives)].to_numpy(dtype=float), quantile)
    return {o: {stat: float(values[j]) for stat, values in frame.items()}
            for j, o in enumerate(objectives)}


def normalise(points: np.ndarray, method: str,
              frame: dict[str, Sequence[float]] | None = None) -> np.ndarray:
    """Per-objective ``minmax`` (the frame's min -> 0, max -> 1; a constant objective maps to
    0) or ``zscore``, in the points' own frame or a given one (e.g. the offline data's)."""
    points = np.asarray(points, dtype=float)
    frame = frame_of(points) if frame is None else frame
    if method == MINMAX:
        low = np.asarray(frame["min"], dtype=float)
        span = np.asarray(frame["max"], dtype=float) - low
        return (points - low) / np.where(span > 0, span, 1.0)
    if method == ZSCORE:
        std = np.asarray(frame["std"], dtype=float)
        return (points - np.asarray(frame["mean"], dtype=float)) / np.where(std > 0, std, 1.0)
    raise ValueError(f"unknown normalisation {method!r}; expected {MINMAX!r} or {ZSCORE!r}")


def pareto_layers(points: np.ndarray) -> np.ndarray:
    """Layer of every point by non-dominated sorting (moocore), maximising: 1 = Pareto front."""
    return moocore.pareto_rank(np.asarray(points, dtype=float), maximise=True) + 1


def layers_for(layers: np.ndarray, k: int, n_layers: int | str, pool_factor: float = 1.0) -> int:
    """The number of layers forming the pool: ``n_layers`` itself, or for ``auto`` the fewest
    layers holding at least ``pool_factor * k`` points (all layers if none do), so that
    different preferences can find different points near their directions."""
    if n_layers != "auto":
        return int(n_layers)
    counts = np.cumsum(np.bincount(layers)[1:])
    enough = np.nonzero(counts >= pool_factor * k)[0]
    return int(enough[0] + 1) if len(enough) else int(layers.max())


def direction_distances(points: np.ndarray, weights: Sequence[float],
                        low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Perpendicular Euclidean distance of each point to the preference line: the line through
    the ideal point ``high`` and ``W = low + w * (high - low)``. Inside the frame [low, high]
    every point projects onto the ray from ``high`` towards ``W`` (the paper's distance). A point
    beyond the ideal point (stage 2 in the offline frame, or a quantile frame) is measured to
    the line too, never to ``high`` itself: being better than the ideal costs no distance. If
    ``W`` is ``high`` (no line), every point is measured to ``high``."""
    points = np.asarray(points, dtype=float)
    target = low + np.asarray(weights, dtype=float) * (high - low)
    direction = target - high
    offset = points - high
    length = np.linalg.norm(direction)
    if length == 0:
        return np.linalg.norm(offset, axis=1)
    unit = direction / length
    return np.linalg.norm(offset - np.outer(offset @ unit, unit), axis=1)


def _take(order_key: np.ndarray, row_ids: Sequence[str], candidates: np.ndarray,
          k: int, quality: np.ndarray) -> np.ndarray:
    """The ``k`` candidates with the smallest key; ties (equal to 12 decimals, so float noise
    cannot reorder them) go to the larger ``quality`` (the sum of normalised rewards, so a
    point never ranks below one it dominates at the same key), then to the smaller row id."""
    ids = np.asarray(row_ids, dtype=str)[candidates]
    ranked = np.lexsort((ids, -quality[candidates], np.round(order_key[candidates], 12)))
    return candidates[ranked[:k]]


def select(points: np.ndarray, row_ids: Sequence[str], weights: Sequence[float], k: int,
           mode: str = DIRECTION, n_layers: int | str = "auto",
           normalisation: str = MINMAX, pool_factor: float = 1.0,
           layers: np.ndarray | None = None,
           frame: dict[str, Sequence[float]] | None = None,
           frame_quantile: float = 0.0) -> np.ndarray:
    """Indices of the ``k`` selected points for preference ``weights``.

    ``direction``: the ``k`` points of the first ``n_layers`` Pareto layers (``auto``: enough
    layers for ``pool_factor * k`` points) nearest the preference direction, in normalised
    reward space. ``linear_pool``: the top ``k`` by ``w . r`` in that same pool (the ablation
    that changes the ranking key only); ``linear``: the top ``k`` by ``w . r`` over all points.
    ``frame``: the statistics (min, max, mean, std) that normalise the rewards and, for
    ``direction``, give the ideal point r_max and r_min; by default the points' own (their
    ``frame_quantile`` and 1 - ``frame_quantile`` quantiles as min and max when it is > 0).
    Ties go to the point with the larger sum of normalised rewards, then to the smaller row
    id, so selection is deterministic and a point never ranks below one it dominates at an
    equal key. ``layers``: the points' Pareto layers, if the caller has them already (they do
    not depend on the normalisation).
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if mode not in MODES:
        raise ValueError(f"unknown selection mode {mode!r}; expected one of {MODES}")
    frame = frame_of(points, frame_quantile) if frame is None else frame
    normalised = normalise(points, normalisation, frame)
    if mode in POOL_MODES:
        layers = pareto_layers(normalised) if layers is None else layers
        candidates = np.nonzero(layers <= layers_for(layers, k, n_layers, pool_factor))[0]
    else:
        candidates = np.arange(len(normalised))
    if mode == DIRECTION:
        bounds = normalise(np.array([frame["min"], frame["max"]]), normalisation, frame)
        key = direction_distances(normalised, weights, bounds[0], bounds[1])
    else:
        key = -(normalised @ np.asarray(weights, dtype=float))
    if k > len(candidates):
        warnings.warn(f"k={k} exceeds the candidate pool of {len(candidates)} points; "
                      f"selecting all {len(candidates)}", stacklevel=2)
    return _take(key, row_ids, candidates, k, normalised.sum(axis=1))


def select_rows(table: pd.DataFrame, objectives: Sequence[str], weights: Sequence[float], k: int,
                mode: str = DIRECTION, n_layers: int | str = "auto",
                normalisation: str = MINMAX, pool_factor: float = 1.0,
                frame: dict[str, dict[str, float]] | None = None,
                frame_quantile: float = 0.0) -> pd.DataFrame:
    """The selected rows of a scored table, nearest first, with their ``layer`` (Pareto layer)
    and ``rank`` (selection order). ``frame``: per objective the min, max, mean and std to
    normalise with (e.g. the offline data's ``stats.json`` rewards or ``table_frame``), else
    the table's own (with ``frame_quantile``, see ``frame_of``)."""
    points = table[list(objectives)].to_numpy(dtype=float)
    layers = pareto_layers(points)
    if frame is not None:
        frame = {stat: [frame[o][stat] for o in objectives]
                 for stat in ("min", "max", "mean", "std")}
    chosen = select(points, table["row_id"].tolist(), weights, k, mode, n_layers, normalisation,
                    pool_factor, layers, frame, frame_quantile)
    rows = table.iloc[chosen].copy()
    rows["layer"] = layers[chosen]
    rows["rank"] = np.arange(len(chosen))
    return rows.reset_index(drop=True)


def representatives(preferences: dict[str, Sequence[float]], n_objectives: int) -> list[str]:
    """Ids of the M+1 stage-2 generators: for each objective the configured preference nearest
    its extreme (one-hot) vector, then the one nearest the balanced vector; duplicates dropped,
    ties broken by id."""
    ids = sorted(preferences)
    vectors = np.array([preferences[i] for i in ids], dtype=float)
    targets = [*np.eye(n_objectives), np.full(n_objectives, 1.0 / n_objectives)]
    chosen: list[str] = []
    for target in targets:
        nearest = ids[int(np.argmin(np.round(np.linalg.norm(vectors - target, axis=1), 12)))]
        if nearest not in chosen:
            chosen.append(nearest)
    return chosen
