"""The method comparison (comparison.csv / .md / .html): metrics side by side, each hypervolume
with its bootstrap interval (and across training seeds when there are several), its difference
to the reference method with the share of resamples in which the reference is ahead, how
closely and evenly its models cover the front of all methods (IGD+, spacing), the
preference-order rank correlations, the steering measures, and compute relative to the
reference method's."""

from __future__ import annotations

import math

import pandas as pd

from paretohqd.evaluation.coverage import MEASURES
from paretohqd.html import html_note, html_page, html_table

# what IGD+ and spacing are, for every page that shows them
COVERAGE_NOTE = (
    "IGD+ (lower is better; 0: every point of the reference front is weakly dominated by one of "
    "the method's points): the mean over the points of the reference front, the non-dominated "
    "union of all methods' points (the base model's included), of the distance to the nearest "
    "of the method's points counting only the objectives where that point falls short, in the "
    "same normalised frame. spacing (0: evenly spread; larger: bunched into clusters with gaps "
    "between; empty with one point): the standard deviation of the L1 edge lengths of a "
    "minimum spanning tree over the method's points in that frame; noise in the means biases it "
    "upwards (an even spread can only look less even). The bootstrap recomputes the union "
    "front in every resample.")


def ratio_column(reference: str) -> str:
    """The comparison's column of compute relative to ``reference``."""
    return f"compute_vs_{reference}"


def comparison_table(metrics: dict, reference: str) -> pd.DataFrame:
    """One row per method: hypervolume with its interval, the mean across training seeds with
    Student's t interval (``hv_seeds*``), HV(reference) - HV(method) with its bootstrap
    interval, across seeds (``difference_seeds*``) and the share of resamples in which the
    reference is ahead, IGD+ against the union front of all methods (``igd_plus``) and the
    spread of its models (``spacing``) with their bootstrap intervals, Spearman's rho of each
    objective (w_i vs mean reward i), the range of each objective's normalised mean reward
    across the preferences (``range_<objective>``) and
    the mean angle to the preference rays (``angle``), for prompt-conditioned methods Pearson's
    r of each objective's asked-for vs obtained reward (``fit_<objective>``, with its interval;
    columns only when some method has it), collapse rate, train / generate / total seconds and
    the ratio of its total compute to the ``reference`` method's (empty when that did not
    run). Every interval has ``_ci_low`` and ``_ci_high`` columns."""
    objectives = metrics["objectives"]
    seconds = metrics["methods"].get(reference, {}).get("total_seconds")
    conditioned = _has_conditioning(metrics)
    judged = "judged" in metrics
    rows = []
    for method, entry in metrics["methods"].items():
        versus = entry.get(f"vs_{reference}", {})
        rho = entry.get("rank_correlation", {})
        steering = entry.get("steering", {})
        row = {"method": method, "hypervolume": entry["hypervolume"],
               "hypervolume_ci_low": entry["hypervolume_ci"][0],
               "hypervolume_ci_high": entry["hypervolume_ci"][1]}
        _put(row, "hv_seeds", entry.get("hypervolume_across_seeds", {}), "mean")
        row.update({f"hv_{reference}_minus_method": versus.get("estimate", math.nan),
                    "difference_ci_low": versus.get("ci_low", math.nan),
                    "difference_ci_high": versus.get("ci_high", math.nan)})
        _put(row, "difference_seeds", entry.get(f"vs_{reference}_across_seeds", {}), "mean")
        row[f"share_{reference}_better"] = versus.get(f"share_{reference}_better", math.nan)
        for measure in MEASURES:
            _put(row, measure, _stored_interval(entry, measure))
        if judged:
            graded = metrics["judged"]["methods"].get(method, {})
            _put(row, "hv_judged", _stored_interval(graded, "hypervolume"))
            _put(row, "difference_judged", graded.get(f"vs_{reference}", {}))
            _put(row, "over_optimisation", entry.get("over_optimisation", {}))
        for objective in objectives:
            _put(row, f"rho_{objective}", rho.get(objective, {}))
        for objective in objectives:
            _put(row, f"range_{objective}", steering.get("range", {}).get(objective, {}))
        _put(row, "angle", steering.get("angle", {}).get("mean", {}))
        if conditioned:
            for objective in objectives:
                _put(row, f"fit_{objective}",
                     entry.get("conditioning", {}).get(objective, {}).get("pearson", {}))
        row.update({key: entry[key] for key in ("collapse_rate", "train_seconds",
                                                 "generate_seconds", "total_seconds")})
        row[ratio_column(reference)] = entry["total_seconds"] / seconds if seconds else math.nan
        row["n_points"] = entry["n_points"]
        rows.append(row)
    return pd.DataFrame(rows)


def _put(row: dict, column: str, interval: dict, estimate: str = "estimate") -> None:
    """``column``, ``column_ci_low`` and ``column_ci_high`` from an interval of metrics.json
    (NaN where the method has none)."""
    row[column] = interval.get(estimate, math.nan)
    row[f"{column}_ci_low"] = interval.get("ci_low", math.nan)
    row[f"{column}_ci_high"] = interval.get("ci_high", math.nan)


def _stored_interval(entry: dict, name: str) -> dict:
    """A measure that metrics.json keeps as ``name`` and ``name_ci`` ([low, high]) as an
    interval (NaN where the method has none)."""
    low, high = entry.get(f"{name}_ci", [math.nan, math.nan])
    return {"estimate": entry.get(name, math.nan), "ci_low": low, "ci_high": high}


def _several_seeds(metrics: dict) -> bool:
    return metrics["bootstrap"]["seeds"] > 1


def _has_conditioning(metrics: dict) -> bool:
    return any("conditioning" in entry for entry in metrics["methods"].values())


def _interval(estimate: float, low: float, high: float, digits: int = 4) -> str:
    """``estimate [low, high]``, or empty when there is none."""
    if pd.isna(estimate):
        return ""
    return f"{estimate:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def _comparison_cells(table: pd.DataFrame, metrics: dict,
                      reference: str) -> tuple[list[str], list[list[str]]]:
    """The comparison's column headers and, per method, its cells as text (the same for the
    Markdown and the HTML table)."""
    objectives = metrics["objectives"]
    level = f"{metrics['bootstrap']['level']:.0%}"
    conditioned = _has_conditioning(metrics)
    seeds = _several_seeds(metrics)
    judged = "judged" in metrics
    headers = (["method", f"hypervolume [{level}]"]
               + ([f"HV across seeds [{level}]"] if seeds else [])
               + [f"HV({reference}) - HV [{level}]"]
               + ([f"HV({reference}) - HV across seeds [{level}]"] if seeds else [])
               + [f"resamples with {reference} ahead", f"IGD+ [{level}]",
                  f"spacing [{level}]"]
               + ([f"HV judged [{level}]", f"HV({reference}) - HV judged [{level}]",
                   f"over-optimisation [{level}]"] if judged else [])
               + [f"rho {o} [{level}]" for o in objectives]
               + [f"range {o} [{level}]" for o in objectives]
               + [f"angle to ray, degrees [{level}]"]
               + [f"r asked-obtained {o} [{level}]" for o in objectives if conditioned]
               + ["collapse rate", "train s", "generate s", "total s", f"compute / {reference}",
                  "points"])
    rows = []
    for _, row in table.iterrows():
        ratio = row[ratio_column(reference)]
        share = row[f"share_{reference}_better"]
        cell = lambda column, digits=4: _interval(  # noqa: E731
            row[column], row[f"{column}_ci_low"], row[f"{column}_ci_high"], digits)
        rows.append(
            [str(row["method"]),
             _interval(row["hypervolume"], row["hypervolume_ci_low"],
                       row["hypervolume_ci_high"])]
            + ([cell("hv_seeds")] if seeds else [])
            + [_interval(row[f"hv_{reference}_minus_method"], row["difference_ci_low"],
                         row["difference_ci_high"])]
            + ([cell("difference_seeds")] if seeds else [])
            + ["" if pd.isna(share) else f"{share:.3f}"]
            + [cell(measure) for measure in MEASURES]
            + ([cell("hv_judged"), cell("difference_judged"), cell("over_optimisation")]
               if judged else [])
            + [cell(f"rho_{o}", 2) for o in objectives]
            + [cell(f"range_{o}", 3) for o in objectives]
            + [cell("angle", 1)]
            + [cell(f"fit_{o}", 2) for o in objectives if conditioned]
            + [f"{row['collapse_rate']:.3f}", f"{row['train_seconds']:.1f}",
               f"{row['generate_seconds']:.1f}", f"{row['total_seconds']:.1f}",
               "" if pd.isna(ratio) else f"{ratio:.2f}", str(row["n_points"])])
    return headers, rows


def _comparison_note(metrics: dict, reference: str) -> str:
    """What the numbers are: the normalisation, the reference point, the bootstrap."""
    objectives = metrics["objectives"]
    boot = metrics["bootstrap"]
    level = f"{boot['level']:.0%}"
    norm = metrics["normalisation"]
    bounds = ", ".join(f"{o} [{lo:.4g}, {hi:.4g}]" for o, lo, hi in
                       zip(objectives, norm["min"], norm["max"]))
    return (
        f"Hypervolume after mapping each objective's offline-data min to 0 and max to 1 "
        f"({bounds}); reference point {metrics['reference_point']}. Intervals: {level} "
        f"percentile intervals of a paired bootstrap ({boot['resamples']} resamples) that "
        f"resamples {boot['prompts']} test prompts and {boot['seeds']} training seed(s) "
        "together, the same draw for every method"
        + (f"; 'across seeds': the mean over the {boot['seeds']} training seeds' hypervolumes "
           "(each seed's front from its own answers) with Student's t interval, which covers "
           "the training seeds alone (metrics.json adds where a re-run with a new seed would "
           "land)" if _several_seeds(metrics) else
           "; with one training seed no interval covers what another seed would give")
        + f". 'resamples with {reference} ahead' is the share of bootstrap resamples in which "
        f"{reference}'s hypervolume is the larger (not a probability about the methods). "
        + COVERAGE_NOTE + " rho: "
        "Spearman correlation across a method's preferences between w_i and mean reward i (1: "
        "the preferences order the answers as asked). range: the largest minus the smallest "
        "normalised mean reward of the objective across the preferences. angle: the mean over "
        "the preferences of the angle between a model's offset from the ideal point (1, ..., 1) "
        "and its preference ray w - 1 (0: every model lands on its ray). "
        + ("r asked-obtained: for prompt-conditioned methods, Pearson correlation across "
           "preferences between the reward of objective i the prompt asks for and the mean "
           "reward obtained (1: the conditioning was learned). " if _has_conditioning(metrics)
           else "")
        + (_judged_note(metrics) if "judged" in metrics else "")
        + "The "
        "hypervolume of noisy means is biased upwards, more so for methods with many alike "
        "points. Compute is wall-clock seconds of each method's own training and data "
        f"generation per training seed (the mean over {boot['seeds']} seed(s)); the shared "
        "offline data, reward models and evaluation are not included.")


def _judged_note(metrics: dict) -> str:
    """What the judged columns are: who grades each objective, in which frame."""
    sources = metrics["judged"]["sources"]
    norm = metrics["judged"]["normalisation"]
    graders = ", ".join(
        f"{o}: {_GRADERS[source]} [{lo:.4g}, {hi:.4g}]" for o, source, lo, hi in
        zip(metrics["objectives"], sources.values(), norm["min"], norm["max"]))
    return ("HV judged: the same answers graded by independent judges that no method trained "
            f"or selected on ({graders}; each frame is the judge's min and max over the "
            "offline data), with the same bootstrap draw. over-optimisation: a method's win "
            "rate against the base model (the share of its answers that score above the base "
            "model's answer to the same prompt, ties half) under the reward models minus under "
            "the judges, averaged over the judged objectives: one unit for both graders "
            "(positive: part of its wins do not survive an independent grader). ")


_GRADERS = {"trained": "a judge trained on held-out labels", "model": "a ready judge model",
            "reward model": "its own reward model, no judge"}


def comparison_markdown(table: pd.DataFrame, metrics: dict, reference: str) -> str:
    """The comparison as a markdown table, with the normalisation, the reference point and the
    bootstrap behind the intervals."""
    headers, rows = _comparison_cells(table, metrics, reference)
    lines = ["| " + " | ".join(headers) + " |", "| --- |" + " ---: |" * (len(headers) - 1)]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    lines += ["", _comparison_note(metrics, reference)]
    return "\n".join(lines) + "\n"


def comparison_html(table: pd.DataFrame, metrics: dict, reference: str) -> str:
    """The comparison as an HTML page for the report: the same table and notes as
    comparison_markdown (each interval small below its estimate), every text escaped."""
    headers, rows = _comparison_cells(table, metrics, reference)
    # "estimate [low, high]": the estimate, its interval small below it
    rows = [[row[0]] + [tuple(cell.split(" ", 1)) if " [" in cell else cell for cell in row[1:]]
            for row in rows]
    return html_page("Method comparison",
                     [html_table(headers, rows, numeric=range(1, len(headers))),
                      html_note(_comparison_note(metrics, reference))])
