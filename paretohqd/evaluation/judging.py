"""The second grading: every evaluation answer scored by independent judges (scorers that no
method trained or selected on; evaluation.judges), and how much of each method's wins against
the base model under the training reward models survive them.

A judged objective is read from the judge's score tables, any other from its reward model's, so
the two gradings differ exactly in the judged objectives. The judged hypervolume lives in the
judges' own frame: each objective's min and max over the offline data as the judge scores it.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from paretohqd.evaluation.front import build_front
from paretohqd.evaluation.metrics import Bootstrap, build_metrics, standard_errors
from paretohqd.evaluation.uncertainty import Point, Resamples, summarise
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


def _wins(per_prompt: Mapping[Point, np.ndarray], baseline: Point, columns: Sequence[int]
          ) -> dict[Point, np.ndarray]:
    """Per point but ``baseline``: 1 where its answer outscores the baseline's answer to the
    same prompt (same seed row), 0.5 on a tie, 0 below, in the objective ``columns``."""
    base = per_prompt[baseline][..., columns]
    return {point: (values[..., columns] > base) + 0.5 * (values[..., columns] == base)
            for point, values in per_prompt.items() if point != baseline}


def over_optimisation(trained: Mapping[Point, np.ndarray], judged: Mapping[Point, np.ndarray],
                      objectives: Sequence[str], judged_objectives: Sequence[str],
                      baseline: str, bootstrap: Bootstrap, prompt_stream: int | None
                      ) -> dict[str, dict]:
    """Per method but ``baseline``, in one unit for both graders: per judged objective its win
    rate against ``baseline`` (the share of its preferences' answers, over seeds and prompts,
    that score above the baseline's answer to the same prompt; ties count half) under the
    reward models (``trained``, build_front's per-prompt rewards) and under the judges
    (``judged``), and their difference; the method's over-optimisation is that difference
    averaged over the judged objectives (positive: part of its wins do not survive an
    independent grader). Intervals from the same paired draws as both gradings."""
    base_points = [point for point in trained if point[0] == baseline]
    if len(base_points) != 1:
        return {}
    columns = [list(objectives).index(o) for o in judged_objectives]
    rates = {}
    for name, per_prompt in (("trained", trained), ("judged", judged)):
        wins = _wins(per_prompt, base_points[0], columns)
        rates[name] = (wins, bootstrap.draw(wins, prompt_stream))
    out = {}
    for method in dict.fromkeys(point[0] for point in rates["trained"][0]):
        estimate, samples = {}, {}
        for name, (wins, resamples) in rates.items():
            points = [point for point in wins if point[0] == method]
            estimate[name] = np.mean([wins[p].mean(axis=(0, 1)) for p in points], axis=0)
            samples[name] = np.mean([resamples.means[p] for p in points], axis=0)
        gap, gap_samples = (estimate["trained"] - estimate["judged"],
                            samples["trained"] - samples["judged"])
        out[method] = summarise(float(gap.mean()), gap_samples.mean(axis=1), bootstrap.level)
        out[method]["per_objective"] = {
            objective: {**summarise(float(gap[j]), gap_samples[:, j], bootstrap.level),
                        "win_rate_trained": float(estimate["trained"][j]),
                        "win_rate_judged": float(estimate["judged"][j])}
            for j, objective in enumerate(judged_objectives)}
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
                   seeds: Sequence[int], metrics: dict,
                   trained_per_prompt: Mapping[Point, np.ndarray], baseline: str = "base",
                   prompt_stream: int | None = None
                   ) -> tuple[pd.DataFrame, dict, Resamples, dict]:
    """Grade every evaluated point again with the judges (``sources``: judged objective ->
    where its judge comes from; ``judge_scores`` and ``judge_offline`` in that order, as the
    summary's inputs hold them): the judged front (with standard errors) and metrics.json's
    ``judged`` section (``sources``, ``normalisation``, per method the hypervolume, its
    intervals, per seed, differences, rank correlations and steering, as under the reward
    models), the judged resamples (prompts from ``prompt_stream``, as the reward models'
    grading drew them) and the judged frame (stats.json's shape). Adds to ``metrics`` (the
    reward models' grading, from ``trained_per_prompt``) each method's ``over_optimisation``
    against ``baseline``."""
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
    gaps = over_optimisation(trained_per_prompt, per_prompt, objectives, judged, baseline,
                             bootstrap, prompt_stream)
    for method, gap in gaps.items():
        metrics["methods"][method]["over_optimisation"] = gap
    return front, section, resamples, frame
