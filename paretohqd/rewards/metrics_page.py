"""The report's reward-model page: every workflow-trained reward model's held-out metrics
(its metrics.json, written by rule reward_model) as one HTML table."""

from __future__ import annotations

import json
import math
from typing import Any, Mapping, Sequence

from paretohqd.html import html_note, html_page, html_table

# the columns of metrics.json in this order first; any other key after them, sorted by name
FIRST = ("objective", "part", "recipe", "roc_auc", "n_train", "n_test")
HEADERS = {"roc_auc": "ROC AUC (held out)", "n_train": "train rows", "n_test": "test rows"}


def _text(value: Any) -> str:
    """A metric as text: floats to 4 decimals, integers as they are, missing as empty,
    anything else (lists, mappings) as JSON."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool) or isinstance(value, (int, str)):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4f}"
    return json.dumps(value, sort_keys=True)


def reward_models_html(metrics: Sequence[Mapping[str, Any]], base: str) -> str:
    """One HTML page: a row per reward model (``metrics``: the metrics.json contents, in
    order), a column per key (objective, recipe, ROC AUC, train and test rows, then any other
    key by name), and a note naming the ``base`` model they were fine-tuned from. Every text
    is escaped."""
    keys = [key for key in FIRST if any(key in m for m in metrics)]
    keys += sorted({key for m in metrics for key in m} - set(FIRST))
    rows = [[_text(m.get(key)) for key in keys] for m in metrics]
    numeric = [i for i, key in enumerate(keys)
               if all(isinstance(m.get(key), (int, float)) for m in metrics if key in m)]
    note = (f"Each objective's reward model is {base} fine-tuned by the workflow (rule "
            "reward_model) on its recipe's human labels; ROC AUC on a seeded held-out split of "
            "human-labelled PyRIT rows it never saw (0.5: chance, 1: every positive answer "
            "scored above every negative one). Rows of part 'judge' are the independent "
            "judges (rule judge_model, from the model in column base): trained the same way "
            "on the labelled prompts held out from the reward model, used only to grade.")
    return html_page("Reward models: held-out metrics",
                     [html_table([HEADERS.get(key, key) for key in keys], rows, numeric),
                      html_note(note)])
