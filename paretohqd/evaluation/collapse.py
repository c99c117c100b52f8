"""Evaluation of responses: the documented collapse rule and per-model reward means."""

from __future__ import annotations

from typing import Sequence

import pandas as pd

MIN_WORDS = 3
NGRAM = 3
MAX_REPEATED_SHARE = 0.5


def repeated_ngram_share(text: str, n: int = NGRAM) -> float:
    """Share of a text's word n-grams that repeat an earlier one (0 = none repeat)."""
    words = text.split()
    grams = [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]
    return 1.0 - len(set(grams)) / len(grams) if grams else 0.0


def is_collapsed(text: str, min_words: int = MIN_WORDS,
                 max_repeated_share: float = MAX_REPEATED_SHARE) -> bool:
    """A response has collapsed when it has fewer than ``min_words`` words, or when more than
    ``max_repeated_share`` of its word 3-grams repeat earlier ones (degenerate loops)."""
    return len(text.split()) < min_words or repeated_ngram_share(text) > max_repeated_share


def evaluation_point(table: pd.DataFrame, objectives: Sequence[str], min_words: int = MIN_WORDS,
                     max_repeated_share: float = MAX_REPEATED_SHARE) -> dict[str, float]:
    """Mean reward per objective, collapse rate and size of one model's scored test responses."""
    point = {name: float(table[name].mean()) for name in objectives}
    collapsed = table["response"].fillna("").map(
        lambda text: is_collapsed(text, min_words, max_repeated_share))
    point["collapse_rate"] = float(collapsed.mean())
    point["n_eval"] = int(len(table))
    return point
