"""Rewards-in-Context (RiC): rewards written into the prompt, preferences mapped to targets.

Training rows carry each objective's z-scored reward (train mean and std, one decimal, as RiC
writes them) after the prompt, e.g. ``What is AI? <harmless> 0.7 <helpful> -1.2``; at inference
a preference w is mapped to desired rewards in the same z-score space by one of the maps of
RiC's released code (``l2``, ``linf``, ``linear``) between a low and a high per objective. As
released, low and high are the extremes of standard normal draws ("Gaussian rewards as
reference": 50,000 per objective for the map, one set of 100,000 for the online goals);
``reference="data"`` takes the extremes of the data's own z-scores instead. The online stage's
random goals (``sample_goals``) are written into its prompts the same way; its training rows
are ``paretohqd.methods.ric.online``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from paretohqd.io import read_json

log = logging.getLogger(__name__)


REFERENCES = ("gaussian", "data")
# RiC's released code: the preference map's reference is 50,000 standard normal draws per
# objective (ric/evaluation.py), the online goals' one set of 100,000 (ric/utils.py)
MAP_REFERENCE_DRAWS = 50_000
GOAL_REFERENCE_DRAWS = 100_000


def reward_stats(table: pd.DataFrame, objectives: Sequence[str], reference: str = "gaussian",
                 seed: int = 0) -> dict[str, dict[str, float]]:
    """Per objective: train mean and std; the min and max of the z-scored rewards; ``low`` and
    ``high`` of the preference map and ``goal_low`` and ``goal_high`` of the online goals
    (one decimal, as RiC rounds them). ``reference="gaussian"`` (RiC as released): the extremes
    of seeded standard normal draws; ``"data"``: the z-scores' own min and max for both."""
    if reference not in REFERENCES:
        raise ValueError(f"unknown RiC reference {reference!r}; expected one of {REFERENCES}")
    rng = np.random.default_rng(seed)
    goal_draws = rng.standard_normal(GOAL_REFERENCE_DRAWS)
    stats = {}
    for name in objectives:
        mean, std = float(table[name].mean()), float(table[name].std(ddof=0)) or 1.0
        z = (table[name] - mean) / std
        entry = {"mean": mean, "std": std, "min": float(z.min()), "max": float(z.max())}
        if reference == "gaussian":
            draws = rng.standard_normal(MAP_REFERENCE_DRAWS)
            entry |= {"low": float(draws.min()), "high": float(draws.max()),
                      "goal_low": round(float(goal_draws.min()), 1),
                      "goal_high": round(float(goal_draws.max()), 1)}
        else:
            entry |= {"low": entry["min"], "high": entry["max"],
                      "goal_low": round(entry["min"], 1), "goal_high": round(entry["max"], 1)}
        stats[name] = entry
    return stats


def conditioned_prompt(prompt: str, scores: dict[str, float]) -> str:
    """The prompt followed by ``<objective> score`` for every objective, one decimal."""
    return prompt + " " + " ".join(f"<{name}> {value:.1f}" for name, value in scores.items())


def training_rows(table: pd.DataFrame, objectives: Sequence[str],
                  stats: dict[str, dict[str, float]]) -> pd.DataFrame:
    """Every scored row with its own z-scored rewards written into its prompt."""
    rows = table[["row_id", "prompt", "response"]].copy()
    z = {name: (table[name] - stats[name]["mean"]) / stats[name]["std"] for name in objectives}
    rows["prompt"] = [conditioned_prompt(p, {n: float(z[n].iloc[i]) for n in objectives})
                      for i, p in enumerate(table["prompt"])]
    return rows


MAPS = ("l2", "linf", "linear")


def desired_scores(weights: Sequence[float], objectives: Sequence[str],
                   stats: dict[str, dict[str, float]], method: str = "l2") -> dict[str, float]:
    """RiC's preference-to-reward maps, rounded to one decimal (low_i, high_i: objective i's
    ``low`` and ``high`` in ``stats``, see ``reward_stats``):

    - ``l2``: low_i + w_i / ||w||_2 * (high_i - low_i): what RiC's released evaluation uses;
    - ``linf`` (its function's default): the dominant objective asks for high; every other i
      for low_i + min(M w_i, 1) * (high_i - low_i);
    - ``linear``: low_i + w_i * (high_i - low_i), which asks for mid-range rewards at
      (0.5, 0.5).
    """
    w = np.asarray(weights, dtype=float)
    if len(w) != len(objectives):
        raise ValueError(f"preference {list(weights)} has {len(w)} weights for "
                         f"{len(objectives)} objectives")
    if method == "l2":
        share = w / np.linalg.norm(w)
    elif method == "linf":
        share = np.minimum(len(w) * w, 1.0)
        share[int(np.argmax(w))] = 1.0
    elif method == "linear":
        share = w
    else:
        raise ValueError(f"unknown RiC preference map {method!r}; expected one of {MAPS}")
    return {name: round(stats[name]["low"] + s * (stats[name]["high"] - stats[name]["low"]), 1)
            for name, s in zip(objectives, share)}


def desired_rewards(weights: Sequence[float], objectives: Sequence[str],
                    stats_path: str | Path, map: str = "l2") -> dict[str, float]:
    """The rewards preference ``weights`` asks for (``desired_scores`` through ``map``), back in
    the reward models' units (z * std + mean of the training data): the conditioning's
    ``targets`` (``paretohqd.registry.Conditioning``)."""
    stats = read_json(stats_path)
    z = desired_scores(weights, objectives, stats, map)
    return {name: stats[name]["mean"] + z[name] * stats[name]["std"] for name in objectives}


def sample_goals(n: int, objectives: Sequence[str], stats: dict[str, dict[str, float]],
                 seed: int) -> list[dict[str, float]]:
    """``n`` seeded goals of RiC's online stage (``goal_low``/``goal_high`` of ``stats``): one
    objective, the one with the lowest uniform draw, asks for low + u * (high - low); every
    other objective for its high. One decimal."""
    draws = np.random.default_rng(seed).random((n, len(objectives)))
    goals = []
    for u in draws:
        relaxed = int(np.argmin(u))
        goals.append({name: round(stats[name]["goal_high"] if i != relaxed else
                                  stats[name]["goal_low"] + u[i] * (stats[name]["goal_high"]
                                                                    - stats[name]["goal_low"]), 1)
                      for i, name in enumerate(objectives)})
    return goals


def condition_prompts(prompts: Sequence[str], weights: Sequence[float] | None,
                      objectives: Sequence[str], stats_path: str | Path, seed: int,
                      map: str = "l2") -> list[str]:
    """RiC's prompt conditioning (``paretohqd.registry.Conditioning``): every prompt followed by
    the desired rewards of preference ``weights`` (through ``map``, see ``desired_scores``), or
    of RiC's seeded random goals when ``weights`` is None (the online stage); ``stats_path``
    holds ``reward_stats``."""
    stats = read_json(stats_path)
    if weights is None:
        goals = sample_goals(len(prompts), objectives, stats, seed)
    else:
        goals = [desired_scores(weights, objectives, stats, map)] * len(prompts)
        log.info("RiC targets (%s map) %s", map, goals[0])
    return [conditioned_prompt(prompt, goal) for prompt, goal in zip(prompts, goals, strict=True)]
