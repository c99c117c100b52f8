"""Score a responses table with one or several objectives' reward scorers and write one
``row_id, score`` table per objective: the one implementation behind the offline `score` rule
and the generation rules that score their own answers."""

from __future__ import annotations

import logging
from typing import Sequence

import pandas as pd
import torch

from paretohqd.io import write_table
from paretohqd.rewards.scorers import Scorer, build_scorer, check_finite
from paretohqd.runtime import log_count, phase


def write_scores(rows: pd.DataFrame, scorers: dict[str, dict], outputs: Sequence[str],
                 device: torch.device, max_length: int, batch_size: int,
                 log: logging.Logger) -> None:
    """Score ``rows`` (row_id, prompt, response) with each of ``scorers`` (objective -> scorer
    spec, in the order of ``outputs``) and write each objective's scores to its output file."""
    if len(scorers) != len(outputs):
        raise ValueError(f"{len(scorers)} scorers for {len(outputs)} score outputs")
    for (objective, spec), output in zip(scorers.items(), outputs):
        with phase(log, "load"):
            scorer = build_scorer(spec, device, max_length)
        with phase(log, "work"):
            scores = scorer.score(rows["prompt"].tolist(), rows["response"].tolist(), batch_size)
        log_scored(log, scorer)
        check_finite(scores, rows["row_id"].tolist(), objective)
        log.info("%s: %d rows scored, mean %.4f", objective, len(rows), float(scores.mean()))
        write_table(pd.DataFrame({"row_id": rows["row_id"], "score": scores}), output)
        del scorer


def log_scored(log: logging.Logger, scorer: Scorer) -> None:
    """The ``count`` lines of what ``scorer`` read: tokens, and tokens times parameters (what
    its forward FLOPs are proportional to; a job's lines add up over its scorers)."""
    log_count(log, "scored_tokens", scorer.tokens)
    log_count(log, "scored_param_tokens", scorer.parameters * scorer.tokens)
