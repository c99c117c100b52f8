"""Rewards-in-Context (RiC): rewards written into the prompt, preferences mapped to targets.

Training rows carry each objective's z-scored reward (train mean and std) after the prompt, e.g.
``What is AI? <harmless> 0.70 <helpful> -1.20``; at inference a preference w asks for the
targets ``r_min + w * (r_max - r_min)`` (per objective, in the same z-score space). The optional
online stage asks the trained model for random targets and keeps what scores high on any
objective (multi-objective rejection sampling).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from paretohqd.io import read_json

log = logging.getLogger(__name__)


def reward_stats(table: pd.DataFrame, objectives: Sequence[str]) -> dict[str, dict[str, float]]:
    """Per objective: train mean and std, and the min and max of the z-scored rewards."""
    stats = {}
    for name in objectives:
        mean, std = float(table[name].mean()), float(table[name].std(ddof=0)) or 1.0
        z = (table[name] - mean) / std
        stats[name] = {"mean": mean, "std": std, "min": float(z.min()), "max": float(z.max())}
    return stats


def conditioned_prompt(prompt: str, scores: dict[str, float]) -> str:
    """The prompt followed by ``<objective> score`` for every objective, two decimals."""
    return prompt + " " + " ".join(f"<{name}> {value:.2f}" for name, value in scores.items())


def training_rows(table: pd.DataFrame, objectives: Sequence[str],
                  stats: dict[str, dict[str, float]]) -> pd.DataFrame:
    """Every scored row with its own z-scored rewards written into its prompt."""
    rows = table[["row_id", "prompt", "response"]].copy()
    z = {name: (table[name] - stats[name]["mean"]) / stats[name]["std"] for name in objectives}
    rows["prompt"] = [conditioned_prompt(p, {n: float(z[n].iloc[i]) for n in objectives})
                      for i, p in enumerate(table["prompt"])]
    return rows


def desired_scores(weights: Sequence[float], objectives: Sequence[str],
                   stats: dict[str, dict[str, float]]) -> dict[str, float]:
    """RiC's linear preference-to-reward map: target_i = min_i + w_i * (max_i - min_i)."""
    return {name: stats[name]["min"] + w * (stats[name]["max"] - stats[name]["min"])
            for name, w in zip(objectives, weights, strict=True)}


def random_preferences(n: int, n_objectives: int, seed: int) -> np.ndarray:
    """``n`` seeded preference vectors drawn uniformly from the simplex (Dirichlet(1, ..., 1)),
    the random desired rewards of RiC's online stage."""
    return np.random.default_rng(seed).dirichlet(np.ones(n_objectives), size=n)


def condition_prompts(prompts: Sequence[str], weights: Sequence[float] | None,
                      objectives: Sequence[str], stats_path: str | Path, seed: int) -> list[str]:
    """RiC's prompt conditioning (``paretohqd.registry.Conditioning``): every prompt followed by
    the desired rewards of preference ``weights``, or of a seeded random preference per prompt
    when ``weights`` is None (the online stage); ``stats_path`` holds ``reward_stats``."""
    stats = read_json(stats_path)
    if weights is None:
        per_prompt = random_preferences(len(prompts), len(objectives), seed)
    else:
        per_prompt = [weights] * len(prompts)
        log.info("RiC targets %s", desired_scores(weights, objectives, stats))
    return [conditioned_prompt(prompt, desired_scores(w, objectives, stats))
            for prompt, w in zip(prompts, per_prompt, strict=True)]


def rejection_sample(table: pd.DataFrame, objectives: Sequence[str],
                     quantile: float) -> pd.DataFrame:
    """Multi-objective rejection sampling: the rows whose reward reaches the ``quantile`` of its
    objective (over ``table``) for at least one objective."""
    thresholds = table[list(objectives)].quantile(quantile)
    keep = (table[list(objectives)] >= thresholds).any(axis=1)
    return table[keep].reset_index(drop=True)
