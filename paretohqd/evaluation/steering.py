"""How far a method's preferences steer its answers, with a resolution that Spearman's rho over a
handful of preferences lacks: per objective the range of mean reward across the preferences, and
per model the angle between where it lands and where its preference points.

Both work in the normalised frame of the hypervolume (offline min -> 0, max -> 1), where the
ideal point is (1, ..., 1) and preference w points from it along w - 1, the ray that ParetoHqD's
selection follows (METHOD.md, step 3). Arrays: ``points`` ``(..., n_points, M)`` of normalised
mean rewards, ``weights`` ``(n_points, M)`` on the simplex.
"""

from __future__ import annotations

import numpy as np


def ray_angles(points: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Degrees between each point's offset from the ideal point and its preference ray's
    direction w - 1: 0 when the model lands on its ray, larger the further it strays towards
    another trade-off; NaN for a point at the ideal point itself."""
    offset = np.asarray(points, dtype=float) - 1.0
    direction = np.asarray(weights, dtype=float) - 1.0
    length = np.linalg.norm(offset, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        u = np.where(length > 0, offset / length, np.nan)
    v = direction / np.linalg.norm(direction, axis=-1, keepdims=True)
    # 2 atan2(|u - v|, |u + v|) keeps small angles exact, where arccos of a dot product loses
    # half the digits
    return np.degrees(2.0 * np.arctan2(np.linalg.norm(u - v, axis=-1),
                                       np.linalg.norm(u + v, axis=-1)))


def reward_ranges(points: np.ndarray) -> np.ndarray:
    """Per objective, the largest minus the smallest mean reward across the points (axis -2):
    how much of the objective the preferences move, in the frame's units."""
    points = np.asarray(points, dtype=float)
    return points.max(axis=-2) - points.min(axis=-2)
