import json

import numpy as np
import pandas as pd
import pytest

from paretohqd.benchmarks import benchmark_seconds, rule_times
from paretohqd.comparison import comparison_markdown, comparison_table
from paretohqd.front import build_front
from paretohqd.metrics import build_metrics, hypervolume, normalised
from paretohqd.plots import plot_front, save_figure


def test_hypervolume_by_hand():
    assert hypervolume(np.array([[0.5, 0.5]]), [0, 0]) == pytest.approx(0.25)
    # two boxes 1 x 0.2 and 0.2 x 1 overlapping in 0.2 x 0.2
    assert hypervolume(np.array([[1.0, 0.2], [0.2, 1.0]]), [0, 0]) == pytest.approx(0.36)
    # a dominated point adds nothing; a point below the reference adds nothing
    assert hypervolume(np.array([[1.0, 0.2], [0.2, 1.0], [0.1, 0.1], [-1, 5]]),
                       [0, 0]) == pytest.approx(0.36)
    assert hypervolume(np.array([[0.5, 0.5, 0.5]]), [0, 0, 0]) == pytest.approx(0.125)
    assert hypervolume(np.array([[-0.5, 0.5]]), [0, 0]) == 0.0


def test_normalised_maps_min_max_to_unit_box():
    np.testing.assert_allclose(normalised([[2.0, -1.0], [4.0, 1.0]], [2, -1], [4, 1]),
                               [[0, 0], [1, 1]])


def _bench(path, seconds):
    path.write_text("s\th:m:s\tmax_rss\n" + f"{seconds}\t0:00:01\t10\n")
    return str(path)


def test_metrics_and_front_from_files(tmp_path):
    objectives = ["a", "b"]
    points = [("base", "none", None), ("m", "p000_100", [0.0, 1.0]),
              ("m", "p100_000", [1.0, 0.0])]
    responses, scores = [], []
    for i, (method, pref, _) in enumerate(points):
        path = tmp_path / f"{method}_{pref}.parquet"
        pd.DataFrame({"row_id": ["x", "y"], "response": ["fine answer here", "ok"]}).to_parquet(path)
        responses.append(str(path))
        for j, objective in enumerate(objectives):
            spath = tmp_path / f"{method}_{pref}_{objective}.parquet"
            pd.DataFrame({"row_id": ["y", "x"], "score": [i + j, i + j + 2.0]}).to_parquet(spath)
            scores.append(str(spath))
    collapse = {"min_words": 3, "max_repeated_share": 0.5}
    front = build_front(points, objectives, responses, scores, collapse)
    assert front.columns.tolist() == ["method", "pref_id", "w_a", "w_b", "a", "b",
                                      "collapse_rate", "n_eval"]
    assert front["a"].tolist() == [1.0, 2.0, 3.0] and front["b"].tolist() == [2.0, 3.0, 4.0]
    assert front["collapse_rate"].tolist() == [0.5] * 3 and np.isnan(front.loc[0, "w_a"])

    stats = {"rewards": {"a": {"min": 0.0, "max": 4.0}, "b": {"min": 0.0, "max": 8.0}}}
    costs = {"base": {"train": [], "generate": []},
             "m": {"train": [_bench(tmp_path / "t1.tsv", 10.5), _bench(tmp_path / "t2.tsv", 1)],
                   "generate": [_bench(tmp_path / "g.tsv", 2)]}}
    metrics = build_metrics(front, objectives, stats, 0.0, costs)
    assert metrics["normalisation"] == {"min": [0.0, 0.0], "max": [4.0, 8.0]}
    assert metrics["reference_point"] == [0.0, 0.0]
    base, m = metrics["methods"]["base"], metrics["methods"]["m"]
    assert base["hypervolume"] == pytest.approx(0.25 * 0.25)
    # points (0.5, 0.375) and (0.75, 0.5): the second dominates
    assert m["hypervolume"] == pytest.approx(0.75 * 0.5)
    assert (m["train_seconds"], m["generate_seconds"], m["total_seconds"]) == (11.5, 2.0, 13.5)
    json.dumps(metrics)  # serialisable

    save_figure(plot_front(front, objectives), [tmp_path / "f.png", tmp_path / "f.svg"])
    assert (tmp_path / "f.png").stat().st_size > 1000
    assert "<svg" in (tmp_path / "f.svg").read_text()[:500]


def test_build_front_rejects_misaligned_inputs(tmp_path):
    with pytest.raises(ValueError, match="do not line up"):
        build_front([("m", "p", [1.0, 0.0])], ["a", "b"], ["r.parquet"], ["s.parquet"], {})


def test_benchmark_seconds(tmp_path):
    assert benchmark_seconds([_bench(tmp_path / "a.tsv", 1.25), _bench(tmp_path / "b.tsv", 2)]) \
        == pytest.approx(3.25)
    assert benchmark_seconds([]) == 0.0


def test_rule_times_groups_by_rule(tmp_path):
    (tmp_path / "sft_stage1").mkdir()
    (tmp_path / "score/offline/a").mkdir(parents=True)
    for name, seconds in (("sft_stage1/p1.tsv", 4), ("sft_stage1/p2.tsv", 2),
                          ("score/offline/a/shard0.tsv", 1)):
        (tmp_path / name).write_text(f"s\th:m:s\tmax_rss\n{seconds}\t0\t{seconds * 10}\n")
    table = rule_times(tmp_path).set_index("rule")
    assert table.loc["sft_stage1"].tolist() == [2, 6, 3, 40]
    assert table.loc["score", "jobs"] == 1


def test_comparison_table_ratio_and_markdown():
    metrics = {"objectives": ["a", "b"], "normalisation": {"min": [0, 1], "max": [2, 3]},
               "reference_point": [0.0, 0.0],
               "methods": {
                   "base": {"hypervolume": 0.1, "collapse_rate": 0.0, "n_points": 1,
                            "train_seconds": 0, "generate_seconds": 0, "total_seconds": 0},
                   "paretohqd": {"hypervolume": 0.5, "collapse_rate": 0.1, "n_points": 5,
                                 "train_seconds": 30, "generate_seconds": 10,
                                 "total_seconds": 40},
                   "sft": {"hypervolume": 0.3, "collapse_rate": 0.2, "n_points": 1,
                           "train_seconds": 100, "generate_seconds": 0, "total_seconds": 100}}}
    table = comparison_table(metrics, "paretohqd")
    assert table.set_index("method")["compute_vs_paretohqd"].to_dict() == {
        "base": 0.0, "paretohqd": 1.0, "sft": 2.5}
    text = comparison_markdown(table, metrics, "paretohqd")
    assert "| sft | 0.3000 | 0.200 | 100.0 | 0.0 | 100.0 | 2.50 | 1 |" in text
    assert "| compute / paretohqd |" in text
    assert "reference point [0.0, 0.0]" in text and "a [0, 2]" in text
    by_sft = comparison_table(metrics, "sft").set_index("method")["compute_vs_sft"]
    assert by_sft.to_dict() == {"base": 0.0, "paretohqd": 0.4, "sft": 1.0}
    assert comparison_table(metrics, "ric")["compute_vs_ric"].isna().all()  # did not run
