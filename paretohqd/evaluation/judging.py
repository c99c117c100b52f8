"""The second grading: every evaluation answer scored by independent judges (scorers that no
method trained or selected on; evaluation.judges), and how much of each method's gain under the
training reward models survives them.

A judged objective is read from the judge's score tables, any other from its reward model's, so
the two gradings differ exactly in the judged objectives. The judged hypervolume lives in the
judges' own frame: each objective's min and max over the offline data as the judge scores it.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import pandas as pd

from paretohqd.evaluation.front import build_front
from paretohqd.evaluation.metrics import (Bootstrap, build_metrics, frame_hypervolume,
                                          standard_errors)
from paretohqd.evaluation.uncertainty import Point, Resamples, hypervolume_samples, summarise
from paretohqd.io import read_scores

REWARD_MODEL = "reward model"


def judged_score_paths(n_points: int, objectives: Sequence[str], judged: Sequence[str],
                       scores: Sequence[str], judge_scores: Sequence[str]) -> list[str]:
    """Per point, per objective (objectives innermost): the judge's score table where the
    objective has a judge (``judged``, in objective order; ``judge_scores`` holds those
    innermost), else the reward model's (``scores``)."""
    m, mj = len(objectives), len(judged)
    if len(scores) != n_points * m or len(judge_scores) != n_points * mj:
        raise ValueError("judged score inputs do not line up with the evaluated points")
    return [judge_scores[i * mj + judged.index(o)] if o in judged else scores[i * m + j]
            for i in range(n_points) for j, o in enumerate(objectives)]


def judge_stats(objectives: Sequence[str], stats: Mapping, judge_offline: Mapping[str, str]
                ) -> dict:
    """The judged grading's frame, shaped like stats.json's ``rewards``: a judged objective's
    min and max over the offline data as its judge scores it (``judge_offline``: objective ->
    score table), any other objective's from the reward model's ``stats``."""
    rewards = {}
    for objective in objectives:
        if objective in judge_offline:
            scores = read_scores(judge_offline[objective], objective)["score"]
            rewards[objective] = {"min": float(scores.min()), "max": float(scores.max())}
        else:
            rewards[objective] = dict(stats["rewards"][objective])
    return {"rewards": rewards}


def over_optimisation(trained: Resamples, judged: Resamples, points: Sequence[Point],
                      estimates: Mapping[str, Mapping[str, float]],
                      frames: Mapping[str, tuple[Sequence[float], Sequence[float]]],
                      reference: Sequence[float], baseline: str,
                      level: float) -> dict[str, dict[str, float]]:
    """Per method but ``baseline``: its hypervolume gain over ``baseline`` under the reward
    models minus that gain under the judges (positive: part of the gain does not survive an
    independent grader), with a percentile interval from the two gradings' paired resamples
    (drawn with the same seed, so the same prompts and seeds). ``estimates`` holds each
    grading's hypervolumes (``trained``/``judged`` -> method -> HV), ``frames`` each
    grading's (low, high)."""
    samples = {name: hypervolume_samples(resamples, points,
                                         frame_hypervolume(*frames[name], reference))
               for name, resamples in (("trained", trained), ("judged", judged))}
    out = {}
    for method in samples["trained"]:
        if method == baseline or baseline not in samples["trained"]:
            continue
        gain = {name: (estimates[name][method] - estimates[name][baseline],
                       samples[name][method] - samples[name][baseline])
                for name in ("trained", "judged")}
        out[method] = summarise(gain["trained"][0] - gain["judged"][0],
                                gain["trained"][1] - gain["judged"][1], level)
        out[method]["gain_trained"] = float(gain["trained"][0])
        out[method]["gain_judged"] = float(gain["judged"][0])
    return out


def source_names(objectives: Sequence[str], sources: Mapping[str, str]) -> dict[str, str]:
    """Per objective what grades it in the judged grading: ``trained`` (a judge the workflow
    trained), ``model`` (a ready judge) or ``reward model`` (no judge: its own)."""
    return {o: sources.get(o, REWARD_MODEL) for o in objectives}


# what build_metrics adds per method that belongs to the method, not to a grading
_COST_KEYS = ("train_seconds", "generate_seconds", "total_seconds", "conditioning")


def judged_grading(points: Sequence, objectives: Sequence[str], responses: Sequence[str],
                   scores: Sequence[str], judge_scores: Sequence[str],
                   judge_offline: Sequence[str], sources: Mapping[str, str], stats: Mapping,
                   collapse: dict, bootstrap: Bootstrap, reference: float, compare_to: str,
                   seeds: Sequence[int], metrics: dict, trained_resamples: Resamples,
                   baseline: str = "base", prompt_stream: int | None = None
                   ) -> tuple[pd.DataFrame, dict, Resamples, dict]:
    """Grade every evaluated point again with the judges (``sources``: judged objective ->
    where its judge comes from; ``judge_scores`` and ``judge_offline`` in that order, as the
    summary's inputs hold them): the judged front (with standard errors) and metrics.json's
    ``judged`` section (``sources``, ``normalisation``, per method the hypervolume, its
    intervals, per seed, differences, rank correlations and steering, as under the reward
    models), the judged resamples (prompts from ``prompt_stream``, as the reward models'
    grading drew them) and the judged frame (stats.json's shape). Adds to ``metrics`` (the
    reward models' grading, drawn as ``trained_resamples``) each method's
    ``over_optimisation`` against ``baseline``."""
    judged = [o for o in objectives if o in sources]
    paths = judged_score_paths(len(points), objectives, judged, scores, judge_scores)
    front, per_prompt = build_front(points, objectives, responses, paths, collapse)
    resamples = bootstrap.draw(per_prompt, prompt_stream)
    front = standard_errors(front, resamples, objectives)
    frame = judge_stats(objectives, stats, dict(zip(judged, judge_offline)))
    graded = build_metrics(front, resamples, objectives, frame, reference, {}, compare_to,
                           bootstrap, seeds, per_prompt)
    section = {"sources": source_names(objectives, sources),
               "normalisation": graded["normalisation"],
               "methods": {method: {k: v for k, v in entry.items() if k not in _COST_KEYS}
                           for method, entry in graded["methods"].items()}}
    trained = metrics["normalisation"]
    gaps = over_optimisation(
        trained_resamples, resamples, list(zip(front["method"], front["pref_id"])),
        {"trained": {m: e["hypervolume"] for m, e in metrics["methods"].items()},
         "judged": {m: e["hypervolume"] for m, e in graded["methods"].items()}},
        {"trained": (trained["min"], trained["max"]),
         "judged": (graded["normalisation"]["min"], graded["normalisation"]["max"])},
        graded["reference_point"], baseline, bootstrap.level)
    for method, gap in gaps.items():
        metrics["methods"][method]["over_optimisation"] = gap
    return front, section, resamples, frame
