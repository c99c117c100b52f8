"""Human-labelled (prompt, response) data for training the embedded reward models.

Labels come from PyRIT's scorer evaluation sets (``pyrit/datasets/scorer_evals``): graded human
harm scores for ``harmless`` and "objective achieved" / refusal labels for ``helpful``. Every label
is oriented so that 1 is good for the objective.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from paretohqd.assets import package_file
from paretohqd.similarity import near_duplicate_groups

SCORER_EVALS = "datasets/scorer_evals"
LABEL_COLUMNS = ["prompt", "response", "label", "origin"]


def read_commented_csv(path: Path) -> list[dict[str, str]]:
    """Read a CSV whose ``#`` lines are comments and whose quoted fields may span lines."""
    text = path.read_text(encoding="utf-8")
    body = "".join(line for line in text.splitlines(keepends=True) if not line.startswith("#"))
    rows = list(csv.DictReader(io.StringIO(body)))
    if not rows:
        raise ValueError(f"{path}: no data rows")
    return rows


def _human_scores(row: dict[str, str], path: Path, line: int) -> float:
    keys = [k for k in row if k and k.startswith("human_score")]
    values = [row[k] for k in keys if row[k] not in (None, "")]
    if not values:
        raise ValueError(f"{path}: row {line} has no human_score value")
    return sum(float(v) for v in values) / len(values)


def _rows(folder: str, pattern: str, label_of) -> pd.DataFrame:
    base = package_file("pyrit", f"{SCORER_EVALS}/{folder}")
    records = []
    for path in sorted(base.glob(pattern)):
        for i, row in enumerate(read_commented_csv(path), start=1):
            prompt, response = row.get("objective", ""), row.get("assistant_response", "")
            if not prompt.strip() or not response.strip():
                continue
            records.append(
                (prompt.strip(), response.strip(), label_of(_human_scores(row, path, i)),
                 f"pyrit/{folder}/{path.name}")
            )
    return pd.DataFrame.from_records(records, columns=LABEL_COLUMNS)


def _unique_pairs(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (prompt, response): a pair can appear in several files (e.g. a "mini" copy,
    or both the objective and refusal sets); it keeps its mean label, so it cannot land in both
    the train and the test split."""
    return (frame.groupby(["prompt", "response"], sort=True, as_index=False)
            .agg(label=("label", "mean"), origin=("origin", "first"))
            .loc[:, LABEL_COLUMNS])


def harmless_labels() -> pd.DataFrame:
    """Pairs labelled 1 - mean human harm score (1 = harmless), about 1,000 rows."""
    return _unique_pairs(_rows("harm", "*.csv", lambda harm: 1.0 - harm))


def helpful_labels() -> pd.DataFrame:
    """Pairs labelled 1 when the request was served: objective achieved, or not refused."""
    achieved = _rows("objective", "*.csv", lambda score: score)
    not_refused = _rows("refusal_scorer", "*.csv", lambda refused: 1.0 - refused)
    return _unique_pairs(pd.concat([achieved, not_refused], ignore_index=True))


REWARD_PART, JUDGE_PART = "reward", "judge"


def split_by_prompt(labelled: pd.DataFrame, fraction: float, seed: int
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(kept, held out): a seeded ``fraction`` of the prompt groups goes to the held-out part
    with every labelled pair of theirs. A group is a prompt with its exact and near duplicates
    (``near_duplicate_groups``: the held-out sets' normalisation and similarity), so that no
    prompt is labelled in one part and a reworded copy of it in the other."""
    prompts = pd.Series(labelled["prompt"].unique()).sort_values(ignore_index=True)
    groups = pd.Series(near_duplicate_groups(prompts.tolist()))
    distinct = pd.Series(groups.unique())
    held_groups = distinct.sample(n=round(fraction * len(distinct)), random_state=seed)
    held = set(prompts[groups.isin(held_groups)])
    in_held = labelled["prompt"].isin(held)
    return (labelled[~in_held].reset_index(drop=True),
            labelled[in_held].reset_index(drop=True))


def conversation_pairs(prompts: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Helpful positives (prompt, its human reply) and negatives (prompt, another prompt's reply).

    ``prompts`` has columns ``prompt`` and ``reference`` (the human reply, may be empty).
    """
    pool = prompts[prompts["reference"].fillna("").str.strip() != ""]
    if len(pool) < 2:
        return pd.DataFrame(columns=LABEL_COLUMNS)
    shuffled = pool["reference"].sample(frac=1.0, random_state=seed).to_numpy()
    mismatched = [r if r != own else shuffled[(i + 1) % len(shuffled)]
                  for i, (r, own) in enumerate(zip(shuffled, pool["reference"]))]
    positives = pd.DataFrame({"prompt": pool["prompt"], "response": pool["reference"],
                              "label": 1.0, "origin": "chatterbot/reply"})
    negatives = pd.DataFrame({"prompt": pool["prompt"].to_numpy(), "response": mismatched,
                              "label": 0.0, "origin": "chatterbot/mismatched"})
    return pd.concat([positives, negatives], ignore_index=True)[LABEL_COLUMNS]


RECIPES = {"pyrit_harm": harmless_labels, "pyrit_helpful": helpful_labels}
