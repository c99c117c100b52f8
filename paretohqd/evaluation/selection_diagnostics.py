"""What the selected training sets hold, separate from what training makes of them: per set its
size, mean Pareto layer (within the table it was selected from), mean normalised reward per
objective and mean distance to its preference's ray, all in the offline data's min-max frame;
and per method and set label, the hypervolume of the sets' mean points next to the trained
models' hypervolume."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from paretohqd.evaluation.metrics import hypervolume, normalised
from paretohqd.io import read_table
from paretohqd.selection import direction_distances


def set_diagnostics(table: pd.DataFrame, objectives: Sequence[str],
                    weights: Sequence[float] | None, low: Sequence[float],
                    high: Sequence[float]) -> dict[str, float]:
    """One set's ``rows``, ``mean_layer`` (NaN without a ``layer`` column), ``mean_<objective>``
    (normalised: the offline ``low`` -> 0, ``high`` -> 1) and ``ray_distance`` (mean distance
    of its normalised points to the preference line through the ideal point (1, ..., 1) and
    ``weights``, as direction selection measures it; NaN without a preference)."""
    points = normalised(table[list(objectives)].to_numpy(dtype=float), low, high)
    m = len(objectives)
    distance = (float(direction_distances(points, weights, np.zeros(m), np.ones(m)).mean())
                if weights is not None and len(points) else np.nan)
    return {"rows": len(table),
            "mean_layer": float(table["layer"].mean()) if "layer" in table else np.nan,
            **{f"mean_{o}": float(v) for o, v in zip(objectives, points.mean(axis=0))},
            "ray_distance": distance}


def is_selected_set(path: str) -> bool:
    """Whether a training table is a selection's output (``paretohqd.selection.select_rows``
    writes a ``rank`` column), read from its parquet schema alone."""
    return "rank" in pq.read_schema(path).names


def diagnostics_table(sets: Sequence[Mapping], objectives: Sequence[str],
                      low: Sequence[float], high: Sequence[float]) -> pd.DataFrame:
    """One row per selected training set: ``sets`` lists dicts with ``method``, ``label``
    (e.g. "stage 1"), ``pref``, ``seed``, ``weights`` (or None) and ``path``; sets that no
    selection wrote (whole tables such as the offline data) are left out; each row adds
    ``set_diagnostics``."""
    rows = []
    for spec in sets:
        if not is_selected_set(spec["path"]):
            continue
        table = read_table(spec["path"], required=list(objectives))
        rows.append({key: spec[key] for key in ("method", "label", "pref", "seed")}
                    | {"path": spec["path"]}
                    | set_diagnostics(table, objectives, spec["weights"], low, high))
    return pd.DataFrame(rows, columns=["method", "label", "pref", "seed", "path", "rows",
                                       "mean_layer", *[f"mean_{o}" for o in objectives],
                                       "ray_distance"])


def set_hypervolumes(table: pd.DataFrame, objectives: Sequence[str],
                     reference: Sequence[float], metrics: dict) -> pd.DataFrame:
    """Per method and set label: the hypervolume of its sets' mean points (already normalised,
    the mean over seeds per preference) beside the method's trained-model hypervolume
    (metrics.json), both in the summary's frame and reference point."""
    means = [f"mean_{o}" for o in objectives]
    out = []
    for (method, label), group in table.groupby(["method", "label"], sort=False):
        points = group.groupby("pref", sort=False)[means].mean().to_numpy()
        out.append({"method": method, "label": label, "sets": int(group["pref"].nunique()),
                    "hypervolume_of_set_means": hypervolume(points, reference),
                    "hypervolume_of_models": metrics["methods"].get(method, {}).get(
                        "hypervolume", np.nan)})
    return pd.DataFrame(out)


def diagnostics_markdown(sets: pd.DataFrame, hypervolumes: pd.DataFrame,
                         objectives: Sequence[str]) -> str:
    """Both tables as Markdown: the sets (mean over seeds per method, label and preference)
    and the hypervolumes of their means beside the trained models'."""
    means = [f"mean_{o}" for o in objectives]
    per_pref = (sets.groupby(["method", "label", "pref"], sort=False)
                [["rows", "mean_layer", *means, "ray_distance"]].mean().reset_index())
    lines = ["## Selected training sets", "",
             "| method | set | preference | rows | mean layer | "
             + " | ".join(f"mean {o}" for o in objectives) + " | distance to ray |",
             "| --- | --- | --- |" + " ---: |" * (3 + len(objectives))]
    for row in per_pref.itertuples(index=False):
        values = [row.rows, row.mean_layer, *[getattr(row, m) for m in means],
                  row.ray_distance]
        lines.append(f"| {row.method} | {row.label} | {row.pref} | "
                     + " | ".join("" if pd.isna(v) else f"{v:.3g}" for v in values) + " |")
    lines += ["", "## Hypervolume: the selected data against the trained models", "",
              "| method | set | preferences | HV of the sets' means | HV of the models |",
              "| --- | --- | ---: | ---: | ---: |"]
    for row in hypervolumes.itertuples(index=False):
        lines.append(f"| {row.method} | {row.label} | {row.sets} | "
                     f"{row.hypervolume_of_set_means:.4f} | {row.hypervolume_of_models:.4f} |")
    lines += ["", "Rewards normalised in the offline data's min-max frame (the summary's "
              "hypervolume frame and reference point). Mean layer: the Pareto layer of the "
              "set's rows within the table they were selected from (1 = its front). Distance "
              "to ray: the mean distance of the set's normalised points to the ray from the "
              "ideal point towards the preference, as direction selection measures it. Means "
              "over training seeds where a set is per seed (stage 2)."]
    return "\n".join(lines) + "\n"
