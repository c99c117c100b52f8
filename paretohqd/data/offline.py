"""The offline dataset: human references plus base-model samples, sharded and then scored."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd

from paretohqd.io import read_scores, read_table

RESPONSE_COLUMNS = ["row_id", "prompt_id", "prompt", "response", "source"]
HUMAN, BASE_MODEL = "human", "base-model"


def shard_prompts(prompts: pd.DataFrame, shard: int, n_shards: int,
                  split: str = "train") -> pd.DataFrame:
    """The prompts of ``split`` that belong to ``shard`` (every ``n_shards``-th by prompt id)."""
    if not 0 <= shard < n_shards:
        raise ValueError(f"shard {shard} is outside 0..{n_shards - 1}")
    part = prompts[prompts["split"] == split].sort_values("prompt_id").reset_index(drop=True)
    return part.iloc[shard::n_shards].reset_index(drop=True)


def sample_prompts(prompts: pd.DataFrame, n: int | None, seed: int,
                   split: str = "train") -> pd.DataFrame:
    """A seeded sample of ``n`` prompts of ``split`` (all of them when ``n`` is None or larger),
    in prompt-id order."""
    part = prompts[prompts["split"] == split]
    if n is not None and n < len(part):
        part = part.sample(n=n, random_state=seed)
    return part.sort_values("prompt_id").reset_index(drop=True)


def response_rows(prompts: pd.DataFrame, samples: Sequence[Sequence[str]], source: str,
                  include_references: bool = False) -> pd.DataFrame:
    """One row per (prompt, response) with a stable ``row_id``: ``<prompt_id>-h<i>`` for human
    references, ``<prompt_id>-b<j>`` for the j-th base-model sample and
    ``<prompt_id>-<source>-<j>`` for other models' samples."""
    tag = "b" if source == BASE_MODEL else f"{source}-"
    records = []
    for prompt_row, responses in zip(prompts.itertuples(index=False), samples, strict=True):
        if include_references:
            for i, ref in enumerate(prompt_row.references):
                records.append((f"{prompt_row.prompt_id}-h{i}", prompt_row.prompt_id,
                                prompt_row.prompt, ref, HUMAN))
        for j, response in enumerate(responses):
            records.append((f"{prompt_row.prompt_id}-{tag}{j}", prompt_row.prompt_id,
                            prompt_row.prompt, response, source))
    return pd.DataFrame.from_records(records, columns=RESPONSE_COLUMNS)


def drop_empty_responses(rows: pd.DataFrame, where: str) -> pd.DataFrame:
    """The rows with a non-blank response; an error naming ``where`` if none is left (a model
    that only emits end-of-sequence must not silently yield an empty training set)."""
    kept = rows[rows["response"].str.strip() != ""]
    if kept.empty:
        raise ValueError(f"{where}: generation yielded no non-empty response for "
                         f"{rows['prompt_id'].nunique()} prompts ({len(rows)} samples)")
    return kept


def merge_scores(responses: pd.DataFrame, scores: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Join each objective's ``row_id -> score`` table onto the responses as a column named by
    the objective; every row must have every score."""
    table = responses.copy()
    for objective, frame in scores.items():
        by_id = frame.set_index("row_id")["score"]
        missing = set(table["row_id"]) - set(by_id.index)
        if missing:
            raise ValueError(f"objective {objective!r} has no score for rows {sorted(missing)[:10]}")
        table[objective] = table["row_id"].map(by_id).astype(float)
    return table.sort_values("row_id").reset_index(drop=True)


def scored_table(response_paths: Sequence[str], score_paths: Sequence[str],
                 objectives: Sequence[str]) -> pd.DataFrame:
    """Read response shards and per-objective score shards (``.../<objective>/<part>.parquet``)
    into one table with a column per objective."""
    responses = pd.concat([read_table(p, required=RESPONSE_COLUMNS, nonempty_text=["response"],
                                      unique=["row_id"])
                           for p in response_paths], ignore_index=True)
    duplicated = responses["row_id"][responses["row_id"].duplicated()]
    if len(duplicated):
        raise ValueError(f"duplicate row ids across shards: {sorted(set(duplicated))[:10]}")
    scores = {name: pd.concat([read_scores(p, name)
                               for p in score_paths if Path(p).parent.name == name],
                              ignore_index=True)
              for name in objectives}
    return merge_scores(responses, scores)


def table_stats(table: pd.DataFrame, objectives: Sequence[str]) -> dict:
    """Size of the scored table and per-objective reward statistics."""
    return {
        "rows": int(len(table)),
        "prompts": int(table["prompt_id"].nunique()),
        "by_source": {k: int(v) for k, v in table["source"].value_counts().sort_index().items()},
        "rewards": {name: {stat: float(getattr(table[name], stat)())
                           for stat in ("min", "max", "mean", "std")}
                    for name in objectives},
    }
