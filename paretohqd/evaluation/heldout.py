"""How far each method's front carries from the test prompts to a held-out prompt set: the
hypervolume on each, in the same frame (the offline data's, per grading), and the drop
HV(test) - HV(held-out) with a bootstrap interval, beside the drop less the base model's (how
much more a method's front shrinks than the untrained model's on the same sets, which
separates a method's shift from how hard the set is), from the same draws.

The two sets are answered by the same trained models, so a resample draws the training seeds
once for both (the same seed draw) and each set's prompts independently (the held-out set's
from a stream of its own, ``prompt_stream``): the interval covers both sets' prompts and the
seeds. Tables: one row per (grading, method).
"""

from __future__ import annotations

import zlib
from typing import Sequence

import numpy as np
import pandas as pd

from paretohqd.evaluation.grading import Grading
from paretohqd.html import html_note, html_page, html_table
from paretohqd.evaluation.metrics import frame_hypervolume
from paretohqd.evaluation.uncertainty import hypervolume_samples, summarise

DROP_COLUMNS = ["grading", "method", "hv_test", "hv_heldout", "drop", "drop_se",
                "drop_ci_low", "drop_ci_high", "drop_vs_base", "drop_vs_base_ci_low",
                "drop_vs_base_ci_high", "test_prompts", "heldout_prompts", "seeds"]
BASE_METHOD = "base"  # the untrained model, as the evaluation names it


def prompt_stream(name: str) -> int:
    """The held-out set ``name``'s own stream of bootstrap prompt draws (stable across runs
    and whatever other sets a config lists)."""
    return zlib.crc32(name.encode("utf-8"))


def _fronts(graded: Grading) -> dict[str, pd.DataFrame]:
    fronts = {"reward models": graded.front}
    if "judges" in graded.resamples:
        fronts["judges"] = graded.judged_front
    return fronts


def hypervolume_drops(test: Grading, heldout: Grading, objectives: Sequence[str],
                      level: float) -> pd.DataFrame:
    """Per grading and method: HV on the test prompts, on the held-out set, the drop and its
    percentile interval, and the drop less the base model's with its interval from the same
    draws (NaN without a ``base`` row) (``DROP_COLUMNS``), both sets in the test grading's
    frame."""
    reference = test.metrics["reference_point"]
    rows = []
    held_fronts = _fronts(heldout)
    for grading, front in _fronts(test).items():
        score = frame_hypervolume(*test.frames[grading], reference)
        points = list(zip(front["method"], front["pref_id"]))
        samples = {name: hypervolume_samples(graded.resamples[grading], points, score)
                   for name, graded in (("test", test), ("heldout", heldout))}
        held = held_fronts[grading].set_index(["method", "pref_id"])
        drops = {}
        for method, rows_test in front.groupby("method", sort=False):
            keys = list(zip(rows_test["method"], rows_test["pref_id"]))
            hv_test = score(rows_test[list(objectives)].to_numpy())
            hv_heldout = score(held.loc[keys, list(objectives)].to_numpy())
            drops[method] = (hv_test, hv_heldout, hv_test - hv_heldout,
                             samples["test"][method] - samples["heldout"][method])
        base = drops.get(BASE_METHOD)
        for method, (hv_test, hv_heldout, estimate, draws) in drops.items():
            drop = summarise(estimate, draws, level)
            relative = (summarise(estimate - base[2], draws - base[3], level) if base
                        else {"estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan})
            rows.append({"grading": grading, "method": method, "hv_test": hv_test,
                         "hv_heldout": hv_heldout, "drop": drop["estimate"],
                         "drop_se": drop["se"], "drop_ci_low": drop["ci_low"],
                         "drop_ci_high": drop["ci_high"],
                         "drop_vs_base": relative["estimate"],
                         "drop_vs_base_ci_low": relative["ci_low"],
                         "drop_vs_base_ci_high": relative["ci_high"],
                         "test_prompts": test.resamples[grading].n_prompts,
                         "heldout_prompts": heldout.resamples[grading].n_prompts,
                         "seeds": test.resamples[grading].n_seeds})
    return pd.DataFrame(rows, columns=DROP_COLUMNS)


def _interval(estimate: float, low: float, high: float) -> str:
    return "-" if np.isnan(estimate) else f"{estimate:+.4f} [{low:+.4f}, {high:+.4f}]"


def _cells(drops: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    headers = ["set", "grading", "method", "HV test", "HV held-out", "drop [interval]",
               "drop - base's drop [interval]", "prompts (test / held-out)", "seeds"]
    rows = [[r.set, r.grading, r.method, f"{r.hv_test:.4f}", f"{r.hv_heldout:.4f}",
             f"{r.drop:+.4f} [{r.drop_ci_low:+.4f}, {r.drop_ci_high:+.4f}]",
             _interval(r.drop_vs_base, r.drop_vs_base_ci_low, r.drop_vs_base_ci_high),
             f"{r.test_prompts} / {r.heldout_prompts}", str(r.seeds)]
            for r in drops.itertuples(index=False)]
    return headers, rows


def drops_note(level: float) -> str:
    """What the drop table's numbers are and what their intervals resample."""
    return (f"HV test and HV held-out: each method's hypervolume on the run's test prompts and "
            f"on the held-out set, both in the test grading's frame (the offline data's min "
            f"and max per objective, as scored by that grading's scorers). drop = HV test - "
            f"HV held-out (positive: the front shrinks away from the training distribution); "
            f"drop - base's drop: how much more the method's front shrinks than the untrained "
            f"base model's on the same two prompt sets (the base model's drop measures how much "
            f"harder the held-out set is). {level:.0%} percentile intervals of a bootstrap "
            f"that draws the training seeds once for both sets and each set's prompts "
            f"independently, the same draws for every method.")


def drops_markdown(drops: pd.DataFrame, level: float) -> str:
    """The drop table (every set's rows) as Markdown, with its note."""
    headers, rows = _cells(drops)
    lines = ["| " + " | ".join(headers) + " |", "| --- | --- | --- |" + " ---: |" * 6]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return "\n".join([*lines, "", drops_note(level)]) + "\n"


def drops_html(drops: pd.DataFrame, level: float) -> str:
    """The drop table as an HTML page for the report."""
    headers, rows = _cells(drops)
    return html_page("Test prompts against held-out prompts",
                     [html_table(headers, rows, numeric=range(3, len(headers))),
                      html_note(drops_note(level))])
