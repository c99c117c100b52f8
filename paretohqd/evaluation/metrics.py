"""Per-method metrics of the front: hypervolume in a stated normalisation with its bootstrap
interval and per training seed, the difference to a reference method, how closely and evenly
its models cover the front of all methods (IGD+ and spacing), how well the preferences order
and steer the answers, collapse rate and compute seconds per training seed (metrics.json)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import moocore
import numpy as np
import pandas as pd

from paretohqd.evaluation.conditioning import conditioning_fit
from paretohqd.evaluation.costs import benchmark_seconds
from paretohqd.evaluation.coverage import MEASURES, coverage
from paretohqd.evaluation.seeds import across_seeds, per_seed_hypervolumes
from paretohqd.evaluation.steering import ray_angles, reward_ranges
from paretohqd.evaluation.uncertainty import (
    Point,
    Resamples,
    bootstrap_means,
    hypervolume_samples,
    spearman_samples,
    summarise,
)


@dataclass(frozen=True)
class Bootstrap:
    """How the summary resamples: ``resamples`` paired draws of prompts (and seeds), a seeded
    generator, and the interval's confidence ``level``."""

    resamples: int
    seed: int
    level: float

    def draw(self, per_prompt: Mapping[Point, np.ndarray],
             prompt_stream: int | None = None) -> Resamples:
        """The resampled mean rewards of every point (one paired draw for all; prompts from
        their own stream when given, see ``bootstrap_means``)."""
        return bootstrap_means(per_prompt, self.resamples, self.seed, prompt_stream)


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


def frame_hypervolume(low: Sequence[float], high: Sequence[float],
                      reference: Sequence[float]) -> Callable[[np.ndarray], float]:
    """The hypervolume of ``(n, M)`` mean-reward points after mapping [low, high] to [0, 1],
    above ``reference``: the score every interval of the summary resamples."""
    return lambda points: hypervolume(normalised(points, low, high), reference)


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


def standard_errors(front: pd.DataFrame, resamples: Resamples,
                    objectives: Sequence[str]) -> pd.DataFrame:
    """``front`` with ``se_<objective>``: the bootstrap standard error of each mean reward."""
    means = resamples.means
    front = front.copy()
    for j, objective in enumerate(objectives):
        front[f"se_{objective}"] = [float(means[(m, p)][:, j].std(ddof=1))
                                    for m, p in zip(front["method"], front["pref_id"])]
    return front


def uncertainty(front: pd.DataFrame, resamples: Resamples, objectives: Sequence[str],
                low: Sequence[float], high: Sequence[float], reference: Sequence[float],
                compare_to: str, level: float) -> dict[str, dict]:
    """Per method, from one paired bootstrap over prompts (and seeds):

    - ``hypervolume``: estimate, standard error and interval;
    - ``vs_<compare_to>``: HV(compare_to) - HV(method) with its interval, and the share of
      resamples in which ``compare_to`` has the larger hypervolume
      (``share_<compare_to>_better``);
    - ``rank_correlation``: per objective, Spearman's rho between w_i and mean reward i across
      the method's preferences (1: the preferences order the answers as asked), for methods
      with three or more preferences;
    - ``steering`` (methods with two or more preferences): per objective the range of
      normalised mean reward across the preferences (``range``), and the angle in degrees
      between each model's offset from the ideal point and its preference ray, per preference
      and their mean (``angle``; paretohqd.evaluation.steering).
    """
    points = list(zip(front["method"], front["pref_id"]))
    score = frame_hypervolume(low, high, reference)
    samples = hypervolume_samples(resamples, points, score)
    estimates = {method: score(rows[list(objectives)].to_numpy())
                 for method, rows in front.groupby("method", sort=False)}
    out: dict[str, dict] = {}
    for method, rows in front.groupby("method", sort=False):
        estimate = estimates[method]
        entry = {"hypervolume": summarise(estimate, samples[method], level)}
        if method != compare_to and compare_to in samples:
            difference = samples[compare_to] - samples[method]
            entry[f"vs_{compare_to}"] = {
                **summarise(estimates[compare_to] - estimate, difference, level),
                f"share_{compare_to}_better": float(np.mean(difference > 0)),
            }
        weighted = rows.dropna(subset=[f"w_{o}" for o in objectives])
        if len(weighted) >= 2:
            entry["steering"] = steering(weighted, resamples, objectives, low, high, level)
        if len(weighted) >= 3:
            stacked = resamples.of_method(method, list(zip(weighted["method"],
                                                           weighted["pref_id"])))
            entry["rank_correlation"] = {}
            for j, objective in enumerate(objectives):
                w = weighted[f"w_{objective}"].to_numpy()
                rho = spearman_samples(w, weighted[[objective]].to_numpy().T)[0]
                entry["rank_correlation"][objective] = summarise(
                    rho, spearman_samples(w, stacked[:, :, j]), level)
        out[method] = entry
    return out


def steering(weighted: pd.DataFrame, resamples: Resamples, objectives: Sequence[str],
             low: Sequence[float], high: Sequence[float], level: float) -> dict[str, dict]:
    """One method's steering measures (rows: its points with weights) with their bootstrap
    intervals: ``range`` per objective, ``angle`` per preference and their ``mean``."""
    weights = weighted[[f"w_{o}" for o in objectives]].to_numpy(dtype=float)
    points = normalised(weighted[list(objectives)].to_numpy(), low, high)
    method = weighted["method"].iloc[0]
    stacked = normalised(resamples.of_method(method, list(zip(weighted["method"],
                                                               weighted["pref_id"]))), low, high)
    ranges, range_samples = reward_ranges(points), reward_ranges(stacked)
    angles, angle_samples = ray_angles(points, weights), ray_angles(stacked, weights)
    return {
        "range": {o: summarise(ranges[j], range_samples[:, j], level)
                  for j, o in enumerate(objectives)},
        "angle": {"mean": summarise(np.nanmean(angles), np.nanmean(angle_samples, axis=1),
                                    level),
                  "per_preference": {pref: summarise(angles[i], angle_samples[:, i], level)
                                     for i, pref in enumerate(weighted["pref_id"])}},
    }


def coverage_metrics(front: pd.DataFrame, resamples: Resamples, objectives: Sequence[str],
                     low: Sequence[float], high: Sequence[float],
                     level: float) -> dict[str, dict[str, dict]]:
    """Per method, ``igd_plus`` and ``spacing`` (paretohqd.evaluation.coverage) of its
    normalised points, each with its standard error and interval: every resample recomputes
    all methods' means, their union front and the measures."""
    points = list(zip(front["method"], front["pref_id"]))
    estimated = coverage({method: normalised(rows[list(objectives)].to_numpy(), low, high)[None]
                          for method, rows in front.groupby("method", sort=False)})
    sampled = coverage({method: normalised(resamples.of_method(method, points), low, high)
                        for method in estimated})
    return {method: {name: summarise(estimated[method][name][0], sampled[method][name], level)
                     for name in MEASURES}
            for method in estimated}


def with_interval(name: str, summary: Mapping[str, float]) -> dict:
    """metrics.json's keys of one measure: ``name`` (the estimate), ``name_se`` and
    ``name_ci`` ([low, high])."""
    return {name: summary["estimate"], f"{name}_se": summary["se"],
            f"{name}_ci": [summary["ci_low"], summary["ci_high"]]}


def seed_metrics(per_prompt: Mapping[Point, np.ndarray], objectives: Sequence[str],
                 low: Sequence[float], high: Sequence[float], reference: Sequence[float],
                 compare_to: str, level: float) -> dict[str, dict]:
    """Per method: ``hypervolume_per_seed`` (training seeds in sorted order),
    ``hypervolume_across_seeds`` (mean, sd, t interval of the mean, where a re-run would land;
    paretohqd.evaluation.seeds) and, beside the reference, the same for HV(compare_to) - HV
    paired by seed (``vs_<compare_to>_across_seeds``)."""
    score = frame_hypervolume(low, high, reference)
    per_seed = per_seed_hypervolumes(per_prompt, score)
    out = {}
    for method, values in per_seed.items():
        out[method] = {"hypervolume_per_seed": values.tolist(),
                       "hypervolume_across_seeds": across_seeds(values, level)}
        if method != compare_to and compare_to in per_seed:
            out[method][f"vs_{compare_to}_across_seeds"] = across_seeds(
                per_seed[compare_to] - values, level)
    return out


def build_metrics(front: pd.DataFrame, resamples: Resamples, objectives: Sequence[str],
                  stats: dict, reference: float, costs: dict[str, dict[str, list[str]]],
                  compare_to: str, bootstrap: Bootstrap, seeds: Sequence[int],
                  per_prompt: Mapping[Point, np.ndarray],
                  desired: Mapping[str, np.ndarray] | None = None) -> dict:
    """metrics.json: objectives, the training ``seeds``, the normalisation (offline data
    min/max), the reference point, the bootstrap settings and per method hypervolume (with
    ``uncertainty`` and ``seed_metrics`` from ``per_prompt``, build_front's per-seed
    rewards), ``igd_plus`` and ``spacing`` with ``_se`` and ``_ci`` (``coverage_metrics``,
    from the same resamples), collapse rate and compute seconds per seed (its benchmark files
    of every seed, summed, divided by the number of seeds); for the prompt-conditioned methods in
    ``desired`` (their asked-for rewards, ``paretohqd.evaluation.conditioning``), how the
    rewards obtained follow them (``conditioning``)."""
    low = [stats["rewards"][o]["min"] for o in objectives]
    high = [stats["rewards"][o]["max"] for o in objectives]
    ref = [float(reference)] * len(objectives)
    methods = method_metrics(front, objectives, low, high, ref)
    intervals = uncertainty(front, resamples, objectives, low, high, ref, compare_to,
                            bootstrap.level)
    covered = coverage_metrics(front, resamples, objectives, low, high, bootstrap.level)
    fits = conditioning_fit(front, resamples, objectives, desired or {}, bootstrap.level)
    by_seed = seed_metrics(per_prompt, objectives, low, high, ref, compare_to, bootstrap.level)
    for method, entry in methods.items():
        entry.update(by_seed[method])
        extra = dict(intervals[method])
        for name, summary in {"hypervolume": extra.pop("hypervolume"),
                              **covered[method]}.items():
            entry.update(with_interval(name, summary))
        entry.update(extra)
        cost = costs.get(method, {"train": [], "generate": []})
        entry["train_seconds"] = benchmark_seconds(cost["train"]) / len(seeds)
        entry["generate_seconds"] = benchmark_seconds(cost["generate"]) / len(seeds)
        entry["total_seconds"] = entry["train_seconds"] + entry["generate_seconds"]
        if method in fits:
            entry["conditioning"] = fits[method]
    return {"objectives": list(objectives), "seeds": list(seeds),
            "normalisation": {"min": low, "max": high},
            "reference_point": ref,
            "bootstrap": {"resamples": bootstrap.resamples, "level": bootstrap.level,
                          "prompts": resamples.n_prompts, "seeds": resamples.n_seeds,
                          "compare_to": compare_to},
            "methods": methods}
