"""Paired bootstrap over test prompts (and training seeds) for the front's statistics.

Every evaluated model answers the same test prompts, so the comparison is paired: one resample
draws seeds and prompts once and applies the same draw to every method and preference. Each
point is a mean reward vector; from a resample's points follow each method's hypervolume, its
difference to a reference method, and how well its preferences order its answers (the rank
correlation between w_i and mean reward i). Percentile intervals come from the resamples.

Shapes: ``scores[point]`` is an array ``(n_seeds, n_prompts, M)`` of per-prompt mean rewards
(averaged over the samples of a prompt), rows aligned by prompt across all points.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
from scipy.stats import rankdata

Point = tuple[str, str]  # (method, pref_id)


@dataclass(frozen=True)
class Resamples:
    """Bootstrap means: ``means[point]`` has shape ``(n_resamples, M)``; drawn from
    ``n_seeds`` x ``n_prompts`` per-prompt rewards per point."""

    means: dict[Point, np.ndarray]
    n_seeds: int
    n_prompts: int

    def of_method(self, method: str, points: Sequence[Point]) -> np.ndarray:
        """``(n_resamples, n_points, M)`` for the method's points in the given order."""
        return np.stack([self.means[p] for p in points if p[0] == method], axis=1)


def check_aligned(scores: Mapping[Point, np.ndarray]) -> tuple[int, int, int]:
    """(n_seeds, n_prompts, M) shared by every point, or a ValueError naming the odd one."""
    shapes = {point: np.shape(s) for point, s in scores.items()}
    first = next(iter(shapes.values()))
    for point, shape in shapes.items():
        if len(shape) != 3 or shape != first:
            raise ValueError(f"point {point} has per-prompt scores of shape {shape}, expected "
                             f"{first}: every model must answer the same prompts and seeds")
    return first


def bootstrap_means(scores: Mapping[Point, np.ndarray], n_resamples: int,
                    seed: int, prompt_stream: int | None = None) -> Resamples:
    """Resample seeds and prompts with replacement (the same draw for every point) and
    return each point's mean reward vector per resample. With ``prompt_stream`` the prompts
    are drawn from a generator of their own (``[seed, prompt_stream]``) while the seeds are
    drawn as without it: another prompt set answered by the same trained models (a held-out
    set) then shares each resample's seeds with the test set's and draws its prompts
    independently."""
    n_seeds, n_prompts, _ = check_aligned(scores)
    rng = np.random.default_rng(seed)
    seed_draw = rng.integers(0, n_seeds, size=(n_resamples, n_seeds))
    if prompt_stream is not None:
        rng = np.random.default_rng([seed, prompt_stream])
    prompt_draw = rng.integers(0, n_prompts, size=(n_resamples, n_prompts))
    means = {}
    for point, values in scores.items():
        values = np.asarray(values, dtype=float)
        per_seed = values[:, prompt_draw, :].mean(axis=2)  # (n_seeds, n_resamples, M)
        picked = np.take_along_axis(per_seed.transpose(1, 0, 2), seed_draw[:, :, None], axis=1)
        means[point] = picked.mean(axis=1)
    return Resamples(means, n_seeds, n_prompts)


def percentile_interval(samples: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The central ``level`` percentile interval of bootstrap ``samples``."""
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(np.asarray(samples, dtype=float), [tail, 100.0 - tail])
    return float(low), float(high)


def hypervolume_samples(resamples: Resamples, points: Sequence[Point],
                        hypervolume: Callable[[np.ndarray], float]) -> dict[str, np.ndarray]:
    """Per method, its hypervolume in every resample; ``hypervolume`` maps an ``(n, M)``
    array of mean-reward points to a number (normalisation and reference point included)."""
    out = {}
    for method in dict.fromkeys(p[0] for p in points):
        stacked = resamples.of_method(method, points)
        out[method] = np.array([hypervolume(stacked[b]) for b in range(len(stacked))])
    return out


def pearson_samples(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson correlation between ``x`` ``(n_points,)`` and each row of ``y``
    ``(n_resamples, n_points)`` (NaN where either side is constant)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    x, y = x - x.mean(), y - y.mean(axis=1, keepdims=True)
    denominator = np.sqrt((x ** 2).sum() * (y ** 2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, (y * x).sum(axis=1) / denominator, np.nan)


def spearman_samples(weights: np.ndarray, means: np.ndarray) -> np.ndarray:
    """Spearman correlation between one objective's weights ``(n_points,)`` and its mean
    rewards ``(n_resamples, n_points)``, per resample (ties get average ranks; NaN where either
    side is constant)."""
    return pearson_samples(rankdata(np.asarray(weights, dtype=float)),
                           rankdata(np.asarray(means, dtype=float), axis=1))


def summarise(estimate: float, samples: np.ndarray, level: float = 0.95) -> dict[str, float]:
    """An estimate with its bootstrap standard error and percentile interval."""
    samples = np.asarray(samples, dtype=float)
    finite = samples[np.isfinite(samples)]
    if not len(finite):
        return {"estimate": float(estimate), "se": float("nan"), "ci_low": float("nan"),
                "ci_high": float("nan")}
    low, high = percentile_interval(finite, level)
    return {"estimate": float(estimate), "se": float(finite.std(ddof=1)) if len(finite) > 1
            else 0.0, "ci_low": low, "ci_high": high}
