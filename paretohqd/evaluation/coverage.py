"""How closely and how evenly each method's models cover the front that all methods reach
together: the hypervolume rewards reach, so a method whose models sit in two clusters at the
ends of the front can out-score one that spreads them evenly between; these two measures show
the difference.

Both work in the hypervolume's normalised frame (offline min -> 0, max -> 1), every objective
maximised, on each method's points (the mean reward vectors of its models, one per preference).

- ``igd_plus`` (IGD+, Ishibuchi et al. 2015; ``moocore.igd_plus``): the mean, over the points r
  of the reference front R, of min over the method's points a of
  sqrt(sum_i max(r_i - a_i, 0)^2), the distance from r to the region that a dominates. R is the
  non-dominated union of every method's points in the comparison (the base model's included).
  0 when each point of R is weakly dominated by one of the method's; lower is better; a method
  whose points dominate another's never has the larger IGD+.
- ``spacing``: the standard deviation of the L1 lengths e_1..e_{n-1} of the edges of a minimum
  spanning tree over the method's n points, sqrt(sum_k (e_k - mean e)^2 / (n - 1)). 0 when the
  models are equally far apart; larger when they bunch into clusters with gaps between; NaN for
  a method with one point. Schott's spacing with the nearest-neighbour distances replaced by the
  tree's edges: inside tight clusters every nearest neighbour is close, so Schott's measure
  rates two clusters as even as an even spread, while the tree must bridge the gap. With two
  objectives and mutually non-dominated points the tree is the chain of neighbours along the
  front and its edges the gaps between consecutive models. Every point of the method counts,
  dominated or not.

Arrays: ``stacked[method]`` is ``(n_draws, n_points, M)``, one set of points per draw (a
bootstrap resample, or the estimate as a single draw).
"""

from __future__ import annotations

from typing import Mapping

import moocore
import numpy as np

MEASURES = ("igd_plus", "spacing")


def union_front(points: np.ndarray) -> np.ndarray:
    """The non-dominated rows of ``(n, M)`` points (every objective maximised), each once."""
    points = np.asarray(points, dtype=float)
    return points[moocore.is_nondominated(points, maximise=True)]


def igd_plus(points: np.ndarray, reference_front: np.ndarray) -> float:
    """IGD+ of ``(n, M)`` maximised points against ``reference_front`` (lower is better)."""
    return float(moocore.igd_plus(np.asarray(points, dtype=float), ref=reference_front,
                                  maximise=True))


def igd_plus_by_method(by_method: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Per method, the IGD+ of its ``(n_m, M)`` points against the union front of all."""
    reference = union_front(np.concatenate(list(by_method.values())))
    return {method: igd_plus(points, reference) for method, points in by_method.items()}


def tree_edges(points: np.ndarray) -> np.ndarray:
    """The L1 lengths of the n - 1 edges of a minimum spanning tree (Prim's algorithm) over each
    set of ``(..., n, M)`` points: ``(..., n - 1)``."""
    points = np.asarray(points, dtype=float)
    distance = np.abs(points[..., :, None, :] - points[..., None, :, :]).sum(axis=-1)
    n = distance.shape[-1]
    in_tree = np.zeros(distance.shape[:-1], dtype=bool)
    in_tree[..., 0] = True
    to_tree = distance[..., 0, :]  # each point's distance to the tree so far
    edges = []
    for _ in range(n - 1):
        outside = np.where(in_tree, np.inf, to_tree)
        nearest = outside.argmin(axis=-1)[..., None]
        edges.append(np.take_along_axis(outside, nearest, axis=-1)[..., 0])
        np.put_along_axis(in_tree, nearest, True, axis=-1)
        row = np.take_along_axis(distance, nearest[..., None], axis=-2)[..., 0, :]
        to_tree = np.minimum(to_tree, row)
    return np.stack(edges, axis=-1) if edges else np.zeros(distance.shape[:-2] + (0,))


def spacing(points: np.ndarray) -> np.ndarray:
    """The standard deviation of the spanning tree's edge lengths over each set of
    ``(..., n, M)`` points: ``(...)``; NaN where a set has one point."""
    edges = tree_edges(points)
    if edges.shape[-1] == 0:
        return np.full(edges.shape[:-1], np.nan)
    return edges.std(axis=-1)


def coverage(stacked: Mapping[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """Per method, ``igd_plus`` (against each draw's own union front) and ``spacing`` in every
    draw of ``stacked`` (``(n_draws, n_points, M)`` per method): ``(n_draws,)`` each."""
    n_draws = len(next(iter(stacked.values())))
    igd = [igd_plus_by_method({method: points[d] for method, points in stacked.items()})
           for d in range(n_draws)]
    return {method: {"igd_plus": np.array([draw[method] for draw in igd]),
                     "spacing": spacing(points)}
            for method, points in stacked.items()}
