"""RiC's parse-time helpers, which the rules import: the online rounds, and the sampling seed
and the answers' ``source`` of each. Light module: the workflow imports it while parsing."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np


def round_seed(seed: int, round: int) -> int:
    """The sampling seed of online round ``round`` (from 1): the training seed itself in the
    first round; a seed derived from both in later rounds, so that each round samples other
    prompts, goals and replay rows (RiC draws them afresh every round)."""
    if round < 1:
        raise ValueError(f"online rounds count from 1, got {round}")
    if round == 1:
        return seed
    return int(np.random.SeedSequence([seed, round]).generate_state(1)[0])


def online_source(round: int) -> str:
    """The ``source`` of online round ``round``'s answers (part of their row ids)."""
    return "ric_online" if round == 1 else f"ric_online{round}"


def online_rounds(ric: Mapping[str, Any]) -> list[int]:
    """The online stage's rounds, from 1 (``baselines.ric``: ``online_rounds`` of them with
    ``online``, none without)."""
    return list(range(1, ric["online_rounds"] + 1)) if ric["online"] else []
