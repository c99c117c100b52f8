"""One prompt set's grading, as the summary reports it: the front (means over training seeds and
prompts, with standard errors), metrics.json (hypervolume with its paired intervals, per seed and
across seeds, differences to the reference method, rank correlations, steering, collapse,
compute) under the training reward models and, where there are judges, under the judges; with
the resamples and frames that the held-out sets' drops reuse."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import pandas as pd

from paretohqd.evaluation.conditioning import desired_rewards
from paretohqd.evaluation.front import build_front
from paretohqd.evaluation.judging import judged_grading
from paretohqd.evaluation.metrics import Bootstrap, build_metrics, standard_errors
from paretohqd.evaluation.uncertainty import Resamples

REWARD_MODELS, JUDGES = "reward models", "judges"


@dataclass(frozen=True)
class Grading:
    """A graded prompt set: ``front`` and ``judged_front`` (empty without judges),
    ``metrics`` (metrics.json), and per grading (``reward models``, ``judges``) its bootstrap
    ``resamples`` and its frame ``(low, high)``."""

    front: pd.DataFrame
    judged_front: pd.DataFrame
    metrics: dict
    resamples: dict[str, Resamples]
    frames: dict[str, tuple[list[float], list[float]]]


def _frame(rewards: Mapping[str, Mapping[str, float]], objectives: Sequence[str]
           ) -> tuple[list[float], list[float]]:
    return ([rewards[o]["min"] for o in objectives], [rewards[o]["max"] for o in objectives])


def grade(params: Any, responses: Sequence[str], scores: Sequence[str],
          judged: Sequence[str], judge_offline: Sequence[str], stats: dict,
          prompt_stream: int | None = None) -> Grading:
    """Grade the answers of ``params.points`` (the summary's params: objectives, judges,
    points, seeds, costs, conditioning_targets, reference_point, compute_reference,
    bootstrap, collapse) in the offline data's frame (``stats``); ``prompt_stream`` draws the
    prompts of every resample from a stream of their own (a held-out set)."""
    objectives = params.objectives
    front, per_prompt = build_front(params.points, objectives, responses, scores,
                                    params.collapse)
    bootstrap = Bootstrap(**params.bootstrap)
    resamples = bootstrap.draw(per_prompt, prompt_stream)
    front = standard_errors(front, resamples, objectives)
    metrics = build_metrics(front, resamples, objectives, stats, params.reference_point,
                            params.costs, params.compute_reference, bootstrap, params.seeds,
                            per_prompt,
                            desired_rewards(front, objectives, params.conditioning_targets))
    grading_resamples = {REWARD_MODELS: resamples}
    frames = {REWARD_MODELS: _frame(stats["rewards"], objectives)}
    if params.judges:
        judged_front, metrics["judged"], grading_resamples[JUDGES], judged_frame = (
            judged_grading(params.points, objectives, responses, scores, judged,
                           judge_offline, params.judges, stats, params.collapse, bootstrap,
                           params.reference_point, params.compute_reference, params.seeds,
                           metrics, per_prompt, prompt_stream=prompt_stream))
        frames[JUDGES] = _frame(judged_frame["rewards"], objectives)
    else:
        judged_front = front.iloc[0:0]
    return Grading(front, judged_front, metrics, grading_resamples, frames)
