"""The report's landing page (``report/workflow.rst`` includes it): what the run found, as
reStructuredText made from metrics.json and the front plot. The front figure embedded as a data
URI (the page is one HTML text, with no file of its own beside it), then every method's
hypervolume with its interval, best first, its difference to the reference method, how closely
and evenly its models cover the front of all methods (IGD+, spacing; lowest IGD+ first), and
what the intervals resample."""

from __future__ import annotations

import base64
import math
import textwrap
from typing import Sequence

from paretohqd.evaluation.comparison import COVERAGE_NOTE
from paretohqd.evaluation.coverage import MEASURES

# docutils takes a directive's argument over several lines and drops the whitespace
_URI_LINE = 76


def landing_rst(metrics: dict, png: bytes) -> str:
    """The landing fragment: the front figure, the hypervolume and coverage tables and their
    notes."""
    return "\n".join([front_figure(png, metrics["objectives"]), hypervolume_table(metrics),
                      coverage_table(metrics), interval_note(metrics), COVERAGE_NOTE]) + "\n"


def front_figure(png: bytes, objectives: Sequence[str]) -> str:
    """An rst figure of the front plot, its PNG bytes inlined as a data URI."""
    uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    lines = textwrap.wrap(uri, _URI_LINE, break_on_hyphens=False)
    return "\n".join(
        [".. figure:: " + lines[0], *("   " + line for line in lines[1:]),
         "   :width: 100%",
         f"   :alt: the achieved front, mean {' and '.join(objectives)} reward per model",
         "",
         "   The achieved front on the held-out test prompts: one point per method and "
         "preference, the mean reward of each objective over the sampled answers and the "
         "training seeds; lines join each method's non-dominated points, ``base`` is the "
         "untuned model.",
         ""])


def hypervolume_table(metrics: dict) -> str:
    """An rst list-table: per method, highest hypervolume first, its hypervolume with its
    interval, with several training seeds the mean across seeds with its t interval, and
    HV(reference) - HV with its interval (``reference`` in the reference method's row)."""
    reference = metrics["bootstrap"]["compare_to"]
    level = f"{metrics['bootstrap']['level']:.0%}"
    seeds = metrics["bootstrap"]["seeds"] > 1
    header = (["method", f"hypervolume [{level} interval]"]
              + ([f"across seeds [{level}]"] if seeds else [])
              + [f"HV({reference}) - HV [{level}]"])
    rows = []
    ranked = sorted(metrics["methods"].items(), key=lambda item: _descending(item[1]))
    for method, entry in ranked:
        low, high = entry["hypervolume_ci"]
        across = entry.get("hypervolume_across_seeds", {})
        versus = entry.get(f"vs_{reference}", {})
        rows.append(
            [_literal(method), format_interval(entry["hypervolume"], low, high)]
            + ([format_interval(across.get("mean", math.nan), across.get("ci_low", math.nan),
                                across.get("ci_high", math.nan))] if seeds else [])
            + ["reference" if method == reference else
               format_interval(versus.get("estimate", math.nan), versus.get("ci_low", math.nan),
                               versus.get("ci_high", math.nan))])
    return list_table("Hypervolume of each method's front, highest first", [header, *rows])


def coverage_table(metrics: dict) -> str:
    """An rst list-table: per method, lowest IGD+ first, its IGD+ against the union front of
    all methods and the spacing of its models, each with its interval."""
    level = f"{metrics['bootstrap']['level']:.0%}"
    header = ["method", f"IGD+ [{level}]", f"spacing [{level}]"]
    ranked = sorted(metrics["methods"].items(),
                    key=lambda item: _ascending(item[1].get("igd_plus", math.nan)))
    rows = [[_literal(method)]
            + [format_interval(entry.get(name, math.nan),
                               *entry.get(f"{name}_ci", [math.nan, math.nan]))
               for name in MEASURES]
            for method, entry in ranked]
    return list_table("How closely (IGD+) and how evenly (spacing) each method's models cover "
                      "the front of all methods, lowest IGD+ first", [header, *rows])


def list_table(title: str, rows: Sequence[Sequence[str]]) -> str:
    """An rst list-table titled ``title`` whose first row is the header."""
    lines = [f".. list-table:: {title}", "   :header-rows: 1", ""]
    for row in rows:
        lines += [f"   * - {row[0]}", *(f"     - {cell}" for cell in row[1:])]
    return "\n".join(lines) + "\n"


def interval_note(metrics: dict) -> str:
    """What the numbers are: the normalisation, the reference point, and what each interval
    resamples (the paired bootstrap; across seeds, Student's t over the training seeds)."""
    boot = metrics["bootstrap"]
    level = f"{boot['level']:.0%}"
    norm = metrics["normalisation"]
    bounds = ", ".join(f"{o} [{lo:.4g}, {hi:.4g}]" for o, lo, hi in
                       zip(metrics["objectives"], norm["min"], norm["max"]))
    seeds = boot["seeds"]
    return (
        "Hypervolume after mapping each objective's offline-data minimum to 0 and maximum to 1 "
        f"({bounds}), above the reference point {_numbers(metrics['reference_point'])}. "
        f"Each interval is the {level} percentile interval of a paired bootstrap "
        f"({boot['resamples']} resamples) that draws the {boot['prompts']} test prompts and "
        f"the {seeds} training seed{'s' if seeds != 1 else ''} together, the same draw for "
        "every method: it covers which prompts were asked and which seeds trained the models"
        + ("; 'across seeds' is the mean of the seeds' own hypervolumes with Student's t "
           "interval, which covers the training seeds alone." if seeds > 1 else
           "; with one training seed no interval covers what another seed would give.")
        + f" HV({boot['compare_to']}) - HV above zero: {boot['compare_to']} is ahead.\n")


def format_interval(estimate: float, low: float, high: float, digits: int = 4) -> str:
    """``estimate [low, high]``; the estimate alone where the interval is undefined, and an
    empty cell where the estimate is."""
    if estimate is None or math.isnan(estimate):
        return ""
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return f"{estimate:.{digits}f}"
    return f"{estimate:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def _descending(entry: dict) -> float:
    value = entry["hypervolume"]
    return math.inf if value is None or math.isnan(value) else -value


def _ascending(value: float | None) -> float:
    """Lowest first, an undefined value last."""
    return math.inf if value is None or math.isnan(value) else value


def _literal(text: str) -> str:
    """``text`` as an rst inline literal (nothing in it is markup)."""
    if not text or "`" in text or text != text.strip():
        raise ValueError(f"method name {text!r} cannot be shown as an rst literal")
    return f"``{text}``"


def _numbers(values: Sequence[float]) -> str:
    return "(" + ", ".join(f"{v:g}" for v in values) + ")"
