"""The summary's figures: every method's points and front, one panel per pair of objectives;
hypervolume against compute."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import moocore  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from paretohqd.io import atomic_path  # noqa: E402


def save_figure(fig, paths: Sequence[str]) -> None:
    """Save a figure to every path (format from the suffix), atomically."""
    for path in paths:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=Path(path).suffix.lstrip("."), dpi=150)
    plt.close(fig)


def plot_front(front: pd.DataFrame, objectives: Sequence[str], prompts: str = "test prompts"):
    """Scatter every method's mean-reward points and join each method's non-dominated ones;
    one panel per pair of objectives; with ``se_<objective>`` columns, error bars of 1.96
    standard errors (about a 95% interval); ``prompts`` names the prompt set in the title.
    Returns the figure."""
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
            if {f"se_{x}", f"se_{y}"} <= set(rows.columns):
                ax.errorbar(xy[:, 0], xy[:, 1], xerr=1.96 * rows[f"se_{x}"],
                            yerr=1.96 * rows[f"se_{y}"], fmt="none", ecolor=colour, alpha=0.4,
                            zorder=2)
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
    # two lines: one would be wider than a one-panel figure
    fig.suptitle(f"Achieved fronts on the {prompts}:\none point per (method, preference), "
                 "bars 1.96 SE")
    fig.tight_layout()
    return fig


def plot_hypervolume_vs_compute(table: pd.DataFrame):
    """Each method's hypervolume (with its interval) against its FLOPs per training seed, log
    scale; methods without training compute (the base model) are left out. Returns the
    figure."""
    methods = table[(table["kind"] == "method") & (table["flops"] > 0)
                    & table["hypervolume"].notna()]
    fig, ax = plt.subplots(figsize=(6.5, 4.8))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, row in enumerate(methods.itertuples(index=False)):
        colour = colours[i % len(colours)]
        error = [[row.hypervolume - row.hypervolume_ci_low],
                 [row.hypervolume_ci_high - row.hypervolume]]
        ax.errorbar([row.flops], [row.hypervolume], yerr=error, fmt="o", color=colour,
                    capsize=3, label=row.name)
    ax.set_xscale("log")
    ax.set_xlabel("FLOPs per training seed (training and own data generation)")
    ax.set_ylabel("hypervolume (bars: bootstrap interval)")
    ax.grid(alpha=0.3, which="both")
    if len(methods):
        ax.legend(fontsize=8)
    ax.set_title("Hypervolume against compute")
    fig.tight_layout()
    return fig
