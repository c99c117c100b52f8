"""The method comparison (comparison.csv / .md): metrics side by side, with each method's
compute relative to a reference method's."""

from __future__ import annotations

import pandas as pd


def ratio_column(reference: str) -> str:
    """The comparison's column of compute relative to ``reference``."""
    return f"compute_vs_{reference}"


def comparison_table(metrics: dict, reference: str) -> pd.DataFrame:
    """One row per method: hypervolume, collapse rate, train / generate / total seconds and the
    ratio of its total compute to the ``reference`` method's (empty when that did not run)."""
    table = pd.DataFrame.from_dict(metrics["methods"], orient="index")
    table.index.name = "method"
    seconds = metrics["methods"].get(reference, {}).get("total_seconds")
    table[ratio_column(reference)] = table["total_seconds"] / seconds if seconds else float("nan")
    columns = ["hypervolume", "collapse_rate", "train_seconds", "generate_seconds",
               "total_seconds", ratio_column(reference), "n_points"]
    return table[columns].reset_index()


def comparison_markdown(table: pd.DataFrame, metrics: dict, reference: str) -> str:
    """The comparison as a markdown table, with the normalisation and reference point."""
    header = ("| method | hypervolume | collapse rate | train s | generate s | total s "
              f"| compute / {reference} | points |\n"
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    lines = [header]
    for row, ratio in zip(table.itertuples(index=False), table[ratio_column(reference)]):
        ratio = "" if pd.isna(ratio) else f"{ratio:.2f}"
        lines.append(f"| {row.method} | {row.hypervolume:.4f} | {row.collapse_rate:.3f} "
                     f"| {row.train_seconds:.1f} | {row.generate_seconds:.1f} "
                     f"| {row.total_seconds:.1f} | {ratio} | {row.n_points} |")
    norm = metrics["normalisation"]
    bounds = ", ".join(f"{o} [{lo:.4g}, {hi:.4g}]" for o, lo, hi in
                       zip(metrics["objectives"], norm["min"], norm["max"]))
    lines.append("")
    lines.append(f"Hypervolume after mapping each objective's offline-data min to 0 and max to 1 "
                 f"({bounds}); reference point {metrics['reference_point']}. Compute is "
                 "wall-clock seconds of each method's own training and data generation; the "
                 "shared offline data, reward models and evaluation are not included.")
    return "\n".join(lines) + "\n"
