"""RiC's online stage: it asks the trained model for RiC's random goals (every objective at its
high but one, drawn uniformly; ``paretohqd.methods.ric.conditioning.sample_goals``), keeps what
scores high on any objective (multi-objective rejection sampling) and trains on it with a replay
of offline rows that pass the same test; with several rounds, each round asks the previous
round's model and trains on every answer kept so far.
"""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from paretohqd.methods.ric.conditioning import training_rows
from paretohqd.methods.ric.config import round_seed


def rejection_sample(table: pd.DataFrame, objectives: Sequence[str],
                     quantile: float) -> pd.DataFrame:
    """Multi-objective rejection sampling: the rows whose reward reaches the ``quantile`` of its
    objective (over ``table``) for at least one objective."""
    thresholds = table[list(objectives)].quantile(quantile)
    keep = (table[list(objectives)] >= thresholds).any(axis=1)
    return table[keep].reset_index(drop=True)


def replay_rows(offline: pd.DataFrame, ric_rows: pd.DataFrame, objectives: Sequence[str],
                quantile: float, n: int, seed: int) -> pd.DataFrame:
    """RiC's replay in an online round (its ``merge_dataset``): a seeded sample of up to ``n``
    offline rows among those that pass the rejection sampling of the online answers (any
    objective at its ``quantile`` over ``offline``), as RiC training rows (``ric_rows``, rows of
    ``training_rows`` with the same ``row_id``)."""
    passing = set(rejection_sample(offline, objectives, quantile)["row_id"])
    pool = ric_rows[ric_rows["row_id"].isin(passing)]
    return pool.sample(n=min(n, len(pool)), random_state=seed).reset_index(drop=True)


def online_rows(rounds: Sequence[pd.DataFrame], offline: pd.DataFrame, ric_rows: pd.DataFrame,
                objectives: Sequence[str], stats: dict[str, dict[str, float]], quantile: float,
                replay: int, seed: int) -> tuple[pd.DataFrame, list[int], int]:
    """The training rows of the last of ``rounds`` (the scored online answers of rounds 1..r),
    as RiC's ``merge_dataset`` builds them: a replay of offline rows (``replay_rows`` with
    ``round_seed(seed, r)``), then the answers every round kept (``rejection_sample`` within
    its own round), each with its own rewards in the prompt. Also the kept count per round and
    the replay's size."""
    if not rounds:
        raise ValueError("online_rows needs the answers of at least one round")
    kept = [rejection_sample(answers, objectives, quantile) for answers in rounds]
    replayed = replay_rows(offline, ric_rows, objectives, quantile, replay,
                           round_seed(seed, len(rounds)))
    rows = pd.concat([replayed, *(training_rows(k, objectives, stats) for k in kept)],
                     ignore_index=True)
    return rows, [len(k) for k in kept], len(replayed)
