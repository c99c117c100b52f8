"""The report's answers page: for a few fixed test prompts, one answer of every evaluated model
side by side (rows: methods, columns: preferences), so that the trade-off reads from the text."""

from __future__ import annotations

from html import escape
from typing import Mapping, Sequence

import pandas as pd

from paretohqd.config import preference_text

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin-bottom: 2em; table-layout: fixed; width: 100%; }
th, td { border: 1px solid #ccc; padding: 0.4em 0.6em; vertical-align: top; text-align: left; }
thead th { background: #f0f0f0; }
tbody th { background: #fafafa; width: 10em; }
td p { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
td .scores { color: #666; font-size: 0.85em; margin-top: 0.4em; }
.prompt { white-space: pre-wrap; background: #f6f6ff; padding: 0.5em; border-left: 3px solid #88a; }
"""


def pick_answers(answers: pd.DataFrame, n_prompts: int) -> pd.DataFrame:
    """The first ``n_prompts`` prompt ids (sorted) and, per (method, pref_id, prompt), its
    first sample (smallest row id)."""
    prompt_ids = sorted(answers["prompt_id"].unique())[:n_prompts]
    picked = answers[answers["prompt_id"].isin(prompt_ids)].sort_values("row_id")
    return picked.drop_duplicates(["method", "pref_id", "prompt_id"]).reset_index(drop=True)


def _cell(row: pd.Series, objectives: Sequence[str]) -> str:
    scores = " · ".join(f"{o} {row[o]:.3g}" for o in objectives)
    return (f"<td><p>{escape(row['response']) or '<em>(empty)</em>'}</p>"
            f"<p class=\"scores\">{escape(scores)}</p></td>")


def render_answers(answers: pd.DataFrame, objectives: Sequence[str],
                   preferences: Mapping[str, Sequence[float] | None], seed: int) -> str:
    """One HTML page: per prompt, a table of answers (rows: methods in order of appearance,
    columns: ``preferences``, pref_id -> weights or None, in their order) with their rewards.
    Every text is escaped."""
    methods = list(dict.fromkeys(answers["method"]))
    prompts = answers.drop_duplicates("prompt_id").sort_values("prompt_id")
    header = "".join(
        f"<th>{escape(preference_text(None if w is None else dict(zip(objectives, w))))}</th>"
        for w in preferences.values())
    parts = ["<!DOCTYPE html>", "<html><head><meta charset=\"utf-8\">",
             f"<title>Answers side by side</title><style>{STYLE}</style></head><body>",
             "<h1>Answers side by side</h1>",
             f"<p>The first {len(prompts)} test prompts (by prompt id), one sampled answer per "
             f"model (training seed {seed}), with its rewards. Columns: preference vectors; "
             "rows: methods.</p>"]
    by_key = answers.set_index(["prompt_id", "method", "pref_id"])
    for i, prompt in enumerate(prompts.itertuples(index=False), start=1):
        parts.append(f"<h2>Prompt {i} <small>({escape(str(prompt.prompt_id))})</small></h2>")
        parts.append(f"<p class=\"prompt\">{escape(prompt.prompt)}</p>")
        parts.append(f"<table><thead><tr><th>method</th>{header}</tr></thead><tbody>")
        for method in methods:
            cells = "".join(
                _cell(by_key.loc[(prompt.prompt_id, method, pref)], objectives)
                if (prompt.prompt_id, method, pref) in by_key.index else "<td></td>"
                for pref in preferences)
            parts.append(f"<tr><th>{escape(method)}</th>{cells}</tr>")
        parts.append("</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
