"""The achieved fronts: table, hypervolume in a stated normalisation, and plots."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import moocore  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from paretohqd.benchmarks import benchmark_seconds  # noqa: E402
from paretohqd.evaluation import evaluation_point  # noqa: E402
from paretohqd.io import atomic_path, read_table  # noqa: E402


def normalised(points: np.ndarray, low: Sequence[float], high: Sequence[float]) -> np.ndarray:
    """Map mean-reward points to the offline data's [min, max] box: low -> 0, high -> 1."""
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    return (np.asarray(points, dtype=float) - low) / np.where(high > low, high - low, 1.0)


def hypervolume(points: np.ndarray, reference: Sequence[float]) -> float:
    """Hypervolume (maximising) dominated by ``points`` above ``reference`` (moocore); points
    that do not strictly dominate the reference add nothing."""
    points = np.atleast_2d(np.asarray(points, dtype=float))
    reference = np.asarray(reference, dtype=float)
    inside = points[(points > reference).all(axis=1)]
    return float(moocore.hypervolume(inside, ref=reference, maximise=True)) if len(inside) else 0.0


def method_metrics(front: pd.DataFrame, objectives: Sequence[str], low: Sequence[float],
                   high: Sequence[float], reference: Sequence[float]) -> dict[str, dict]:
    """Per method: hypervolume of its points (normalised), mean collapse rate, point count."""
    out = {}
    for method, rows in front.groupby("method", sort=False):
        points = normalised(rows[list(objectives)].to_numpy(), low, high)
        out[method] = {"hypervolume": hypervolume(points, reference),
                       "collapse_rate": float(rows["collapse_rate"].mean()),
                       "n_points": int(len(rows))}
    return out


def build_front(points: Sequence, objectives: Sequence[str], response_paths: Sequence[str],
                score_paths: Sequence[str], collapse: dict) -> pd.DataFrame:
    """One row per evaluated model: ``method``, ``pref_id``, ``w_<objective>``, the mean reward
    of each objective, ``collapse_rate`` and ``n_eval``.

    ``points`` lists (method, pref_id, weights or None); ``response_paths`` has one file per
    point in the same order, ``score_paths`` one per (point, objective), objectives innermost.
    """
    m = len(objectives)
    if len(response_paths) != len(points) or len(score_paths) != len(points) * m:
        raise ValueError("summary inputs do not line up with the evaluated points")
    rows = []
    for i, (method, pref_id, weights) in enumerate(points):
        table = read_table(response_paths[i], required=["row_id", "response"],
                           unique=["row_id"])
        for objective, path in zip(objectives, score_paths[i * m:(i + 1) * m]):
            scores = read_table(path, required=["row_id", "score"], unique=["row_id"])
            scores = scores.set_index("row_id")["score"]
            table[objective] = table["row_id"].map(scores)
            if table[objective].isna().any():
                raise ValueError(f"{path}: scores missing for some rows of {response_paths[i]}")
        row = {"method": method, "pref_id": pref_id}
        row.update({f"w_{o}": (float(w) if weights is not None else float("nan"))
                    for o, w in zip(objectives, weights if weights is not None else [None] * m)})
        row.update(evaluation_point(table, objectives, **collapse))
        rows.append(row)
    return pd.DataFrame(rows)


def build_metrics(front: pd.DataFrame, objectives: Sequence[str], stats: dict,
                  reference: float, costs: dict[str, dict[str, list[str]]]) -> dict:
    """metrics.json: objectives, the normalisation (offline data min/max), the reference point
    and per method hypervolume, collapse rate and compute seconds."""
    low = [stats["rewards"][o]["min"] for o in objectives]
    high = [stats["rewards"][o]["max"] for o in objectives]
    ref = [float(reference)] * len(objectives)
    methods = method_metrics(front, objectives, low, high, ref)
    for method, entry in methods.items():
        cost = costs.get(method, {"train": [], "generate": []})
        entry["train_seconds"] = benchmark_seconds(cost["train"])
        entry["generate_seconds"] = benchmark_seconds(cost["generate"])
        entry["total_seconds"] = entry["train_seconds"] + entry["generate_seconds"]
    return {"objectives": list(objectives), "normalisation": {"min": low, "max": high},
            "reference_point": ref, "methods": methods}


def save_figure(fig, paths: Sequence[str]) -> None:
    """Save a figure to every path (format from the suffix), atomically."""
    for path in paths:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=Path(path).suffix.lstrip("."), dpi=150)
    plt.close(fig)


def plot_front(front: pd.DataFrame, objectives: Sequence[str]):
    """Scatter every method's mean-reward points and join each method's non-dominated ones;
    one panel per pair of objectives. Returns the figure."""
    pairs = [(a, b) for i, a in enumerate(objectives) for b in objectives[i + 1:]]
    fig, axes = plt.subplots(1, len(pairs), figsize=(5.5 * len(pairs), 4.8), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (x, y) in zip(axes[0], pairs):
        for i, (method, rows) in enumerate(front.groupby("method", sort=False)):
            colour = colours[i % len(colours)]
            xy = rows[[x, y]].to_numpy()
            marker = "*" if len(rows) == 1 else "o"
            ax.scatter(xy[:, 0], xy[:, 1], color=colour, marker=marker, s=70, label=method,
                       zorder=3)
            best = xy[moocore.is_nondominated(xy, maximise=True)]
            best = best[np.argsort(best[:, 0])]
            if len(best) > 1:
                ax.plot(best[:, 0], best[:, 1], color=colour, alpha=0.6, zorder=2)
            for (px, py), pid in zip(xy, rows["pref_id"]):
                if pid != "none":
                    ax.annotate(pid, (px, py), fontsize=6, alpha=0.7,
                                textcoords="offset points", xytext=(3, 3))
        ax.set_xlabel(f"mean {x} reward")
        ax.set_ylabel(f"mean {y} reward")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.suptitle("Achieved fronts: one point per (method, preference)")
    fig.tight_layout()
    return fig


def comparison_table(metrics: dict) -> pd.DataFrame:
    """One row per method: hypervolume, collapse rate, train / generate / total seconds and the
    ratio of its total compute to ParetoHqD's (empty when ParetoHqD did not run)."""
    table = pd.DataFrame.from_dict(metrics["methods"], orient="index")
    table.index.name = "method"
    reference = metrics["methods"].get("paretohqd", {}).get("total_seconds")
    table["compute_vs_paretohqd"] = (table["total_seconds"] / reference
                                     if reference else float("nan"))
    columns = ["hypervolume", "collapse_rate", "train_seconds", "generate_seconds",
               "total_seconds", "compute_vs_paretohqd", "n_points"]
    return table[columns].reset_index()


def comparison_markdown(table: pd.DataFrame, metrics: dict) -> str:
    """The comparison as a markdown table, with the normalisation and reference point."""
    header = ("| method | hypervolume | collapse rate | train s | generate s | total s "
              "| compute / ParetoHqD | points |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    lines = [header]
    for row in table.itertuples(index=False):
        ratio = "" if pd.isna(row.compute_vs_paretohqd) else f"{row.compute_vs_paretohqd:.2f}"
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
