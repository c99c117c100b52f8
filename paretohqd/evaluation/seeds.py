"""The variance of a re-run: each method's hypervolume per training seed and intervals across
seeds. The paired bootstrap (paretohqd.evaluation.uncertainty) resamples test prompts and seeds
together; these numbers show the seeds alone, as a user who trains again would see them.

Shapes: ``per_prompt[(method, pref_id)]`` is ``(n_seeds, n_prompts, M)`` as build_front returns
it, seeds in the same (sorted) order for every point.
"""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

import numpy as np
from scipy.stats import t as student_t

from paretohqd.evaluation.uncertainty import Point, check_aligned


def per_seed_hypervolumes(per_prompt: Mapping[Point, np.ndarray],
                          hypervolume: Callable[[np.ndarray], float]) -> dict[str, np.ndarray]:
    """Per method, its hypervolume under each training seed: the front of the seed's mean
    rewards over the test prompts (``hypervolume`` maps ``(n_points, M)`` to a number)."""
    n_seeds, _, _ = check_aligned(per_prompt)
    out = {}
    for method in dict.fromkeys(point[0] for point in per_prompt):
        means = np.stack([np.asarray(values, dtype=float).mean(axis=1)
                          for point, values in per_prompt.items() if point[0] == method],
                         axis=1)  # (n_seeds, n_points, M)
        out[method] = np.array([hypervolume(means[s]) for s in range(n_seeds)])
    return out


def across_seeds(values: Sequence[float], level: float = 0.95) -> dict[str, float]:
    """The mean of per-seed ``values`` with their standard deviation, Student's t interval of
    the mean (``ci_low``, ``ci_high``) and the t prediction interval of one more seed's value
    (``re_run_low``, ``re_run_high``: where a re-run with a new seed would land). With one
    seed the spread is unknown: NaN."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    mean = float(values.mean())
    if n < 2:
        nan = float("nan")
        return {"mean": mean, "sd": nan, "n_seeds": n, "ci_low": nan, "ci_high": nan,
                "re_run_low": nan, "re_run_high": nan}
    sd = float(values.std(ddof=1))
    quantile = float(student_t.ppf((1.0 + level) / 2.0, df=n - 1))
    half, re_run = quantile * sd / np.sqrt(n), quantile * sd * np.sqrt(1.0 + 1.0 / n)
    return {"mean": mean, "sd": sd, "n_seeds": n, "ci_low": mean - half,
            "ci_high": mean + half, "re_run_low": mean - re_run, "re_run_high": mean + re_run}
