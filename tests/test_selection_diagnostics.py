"""Diagnostics of selected training sets, by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from paretohqd.evaluation.selection_diagnostics import (diagnostics_markdown, diagnostics_table,
                                                        set_diagnostics, set_hypervolumes)
from paretohqd.io import write_table
from paretohqd.selection import select_rows

LOW, HIGH = [0.0, 0.0], [4.0, 2.0]


def test_one_set_by_hand():
    """Points (4, 0) and (2, 1) normalise to (1, 0) and (0.5, 0.5); the ray of w = (1, 0) runs
    from the ideal point (1, 1) to (1, 0): distances 0 and 0.5."""
    table = pd.DataFrame({"a": [4.0, 2.0], "b": [0.0, 1.0], "layer": [1, 2]})
    got = set_diagnostics(table, ["a", "b"], [1.0, 0.0], LOW, HIGH)
    assert got == {"rows": 2, "mean_layer": 1.5, "mean_a": 0.75, "mean_b": 0.25,
                   "ray_distance": pytest.approx(0.25)}
    shared = set_diagnostics(table.drop(columns="layer"), ["a", "b"], None, LOW, HIGH)
    assert math.isnan(shared["mean_layer"]) and math.isnan(shared["ray_distance"])


def test_only_selected_sets_and_their_hypervolume(tmp_path):
    """Two preferences' sets selected from one table (select_rows writes rank and layer), the
    whole table beside them (no rank: left out); the sets' means' hypervolume by hand."""
    table = pd.DataFrame({"row_id": list("pqrs"), "prompt": "x", "response": "y",
                          "a": [4.0, 0.0, 2.0, 1.0], "b": [0.0, 2.0, 1.0, 0.5]})
    write_table(table, tmp_path / "all.parquet")
    sets = [{"method": "m", "label": "whole", "pref": "none", "seed": 1, "weights": None,
             "path": str(tmp_path / "all.parquet")}]
    for pref, weights in (("p100_000", [1.0, 0.0]), ("p000_100", [0.0, 1.0])):
        rows = select_rows(table, ["a", "b"], weights, 1)
        write_table(rows, tmp_path / f"{pref}.parquet")
        sets.append({"method": "m", "label": "stage 1", "pref": pref, "seed": 1,
                     "weights": weights, "path": str(tmp_path / f"{pref}.parquet")})
    out = diagnostics_table(sets, ["a", "b"], LOW, HIGH)
    assert out["label"].tolist() == ["stage 1", "stage 1"]
    # each extreme takes its own corner: (1, 0) and (0, 1), both on their rays, layer 1
    assert out[["mean_a", "mean_b"]].to_numpy().tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert out["ray_distance"].tolist() == [0.0, 0.0] and out["mean_layer"].tolist() == [1, 1]
    hv = set_hypervolumes(out, ["a", "b"], [0.0, 0.0], {"methods": {"m": {"hypervolume": 0.3}}})
    # two corner points dominate nothing above the reference but the axes: HV 0
    assert hv.to_dict("records") == [{"method": "m", "label": "stage 1", "sets": 2,
                                      "hypervolume_of_set_means": 0.0,
                                      "hypervolume_of_models": 0.3}]
    text = diagnostics_markdown(out, hv, ["a", "b"])
    assert "| m | stage 1 | p100_000 | 1 | 1 | 1 | 0 | 0 |" in text
    assert "| m | stage 1 | 2 | 0.0000 | 0.3000 |" in text


def test_set_means_hypervolume_averages_seeds_per_preference():
    sets = pd.DataFrame({"method": "m", "label": "stage 2", "pref": ["p1", "p1", "p2"],
                         "seed": [1, 2, 1], "mean_a": [0.4, 0.6, 0.2], "mean_b": [0.5, 0.5, 0.8]})
    hv = set_hypervolumes(sets, ["a", "b"], [0.0, 0.0], {"methods": {}})
    # p1's mean point (0.5, 0.5), p2's (0.2, 0.8): 0.25 + 0.2 * 0.3
    assert hv["hypervolume_of_set_means"].iloc[0] == pytest.approx(0.25 + 0.2 * 0.3)
    assert np.isnan(hv["hypervolume_of_models"].iloc[0])
