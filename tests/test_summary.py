import json
import math
from html import escape

import numpy as np
import pandas as pd
import pytest

from paretohqd.evaluation.costs import benchmark_seconds, rule_times
from paretohqd.evaluation.comparison import (comparison_html, comparison_markdown,
                                             comparison_table)
from paretohqd.evaluation.front import build_front
from paretohqd.evaluation.metrics import Bootstrap, build_metrics, hypervolume, normalised, standard_errors, uncertainty
from paretohqd.evaluation.plots import plot_front, save_figure
from paretohqd.io import write_table


def test_hypervolume_by_hand():
    assert hypervolume(np.array([[0.5, 0.5]]), [0, 0]) == pytest.approx(0.25)
    # two boxes 1 x 0.2 and 0.2 x 1 overlapping in 0.2 x 0.2
    assert hypervolume(np.array([[1.0, 0.2], [0.2, 1.0]]), [0, 0]) == pytest.approx(0.36)
    # a dominated point adds nothing; a point below the reference adds nothing
    assert hypervolume(np.array([[1.0, 0.2], [0.2, 1.0], [0.1, 0.1], [-1, 5]]),
                       [0, 0]) == pytest.approx(0.36)
    assert hypervolume(np.array([[0.5, 0.5, 0.5]]), [0, 0, 0]) == pytest.approx(0.125)
    assert hypervolume(np.array([[-0.5, 0.5]]), [0, 0]) == 0.0


def test_hypervolume_with_a_non_zero_reference_by_hand():
    """Boxes from the reference (0.1, 0.2): 0.9 x 0.3 and 0.4 x 0.8, overlapping in 0.4 x 0.3;
    a point above the origin but not above the reference adds nothing."""
    points = np.array([[1.0, 0.5], [0.5, 1.0], [0.05, 0.9]])
    assert hypervolume(points, [0.1, 0.2]) == pytest.approx(0.27 + 0.32 - 0.12)


def test_three_objective_hypervolume_by_inclusion_exclusion():
    """Three points, each 1 on one objective and 0.5 on the others: boxes of 0.25, every
    intersection (pairwise and all three) the cube 0.5^3; union 3(0.25) - 3(0.125) + 0.125.
    Then asymmetric points above the reference (0.1, 0.2, 0): A (0.9, 0.6, 0.3), B (0.5, 1,
    0.4) and C (0.3, 0.4, 0.8) span boxes 0.8x0.4x0.3 = 0.096, 0.4x0.8x0.4 = 0.128 and
    0.2x0.2x0.8 = 0.032; A&B 0.4x0.4x0.3 = 0.048, A&C 0.2x0.2x0.3 = 0.012, B&C 0.2x0.2x0.4 =
    0.016, A&B&C 0.2x0.2x0.3 = 0.012. D (0.4, 0.5, 0.2) is dominated by A, E is not above the
    reference on the first objective and F not on the third: they add nothing."""
    cube = np.array([[1.0, 0.5, 0.5], [0.5, 1.0, 0.5], [0.5, 0.5, 1.0]])
    assert hypervolume(cube, [0, 0, 0]) == pytest.approx(0.75 - 0.375 + 0.125)
    points = np.array([[0.9, 0.6, 0.3], [0.5, 1.0, 0.4], [0.3, 0.4, 0.8], [0.4, 0.5, 0.2],
                       [0.05, 0.9, 0.9], [0.95, 0.95, -0.1]])
    expected = (0.096 + 0.128 + 0.032) - (0.048 + 0.012 + 0.016) + 0.012
    assert hypervolume(points, [0.1, 0.2, 0.0]) == pytest.approx(expected)


def _front(rows: list[tuple[str, str, list[float]]], objectives: list[str]) -> pd.DataFrame:
    """A front table by hand: (method, pref_id, mean rewards) per row, no weights."""
    return pd.DataFrame([{"method": m, "pref_id": p, **{f"w_{o}": np.nan for o in objectives},
                          **dict(zip(objectives, values)), "collapse_rate": 0.0, "n_eval": 2,
                          "n_seeds": 1} for m, p, values in rows])


def _two_point_metrics(reference: float, resamples: int) -> dict:
    """metrics.json of m's points (2, 6) and (3.6, 2) and base's (0.4, 4) in a in [0, 4], b in
    [0, 8]; every prompt scores the point's mean, so every resample repeats the estimate."""
    objectives = ["a", "b"]
    rows = [("m", "p1", [2.0, 6.0]), ("m", "p2", [3.6, 2.0]), ("base", "none", [0.4, 4.0])]
    front = _front(rows, objectives)
    per_prompt = {(m, p): np.full((1, 2, 2), values) for m, p, values in rows}
    stats = {"rewards": {"a": {"min": 0.0, "max": 4.0}, "b": {"min": 0.0, "max": 8.0}}}
    bootstrap = Bootstrap(resamples=resamples, seed=0, level=0.95)
    costs = {m: {"train": [], "generate": []} for m in ("m", "base")}
    return build_metrics(front, bootstrap.draw(per_prompt), objectives, stats, reference, costs,
                         "m", bootstrap, seeds=[0], per_prompt=per_prompt)


def test_metrics_use_the_reference_point_in_estimate_and_interval():
    """Reference 0.2 in the [0, 1] box of a in [0, 4], b in [0, 8]: m's points normalise to
    (0.5, 0.75) and (0.9, 0.25), boxes 0.3 x 0.55 and 0.7 x 0.05 overlapping in 0.3 x 0.05;
    base's (0.1, 0.5) is below the reference on a (it would count 0.05 from the origin). Every
    prompt scores the point's mean, so every resample's hypervolume is the estimate."""
    metrics = _two_point_metrics(0.2, 50)
    assert metrics["reference_point"] == [0.2, 0.2]
    m, base = metrics["methods"]["m"], metrics["methods"]["base"]
    expected = 0.3 * 0.55 + 0.7 * 0.05 - 0.3 * 0.05
    assert m["hypervolume"] == pytest.approx(expected)
    assert m["hypervolume_ci"] == pytest.approx([expected, expected])
    assert base["hypervolume"] == 0.0 and base["hypervolume_ci"] == [0.0, 0.0]
    assert base["vs_m"]["estimate"] == pytest.approx(expected)


@pytest.mark.parametrize("level,interval", [(0.95, (0.0, 1.0)), (0.80, (1 / 6, 5 / 6))])
def test_confidence_level_sets_the_interval(level, interval):
    """One model, three prompts scoring 0, 1 and 2 in the range [0, 2]: a resample's mean is
    s / 3 for a sum s of three draws, s = 0..6 with probability (1, 3, 6, 7, 6, 3, 1) / 27
    (cumulative 3.7%, 14.8%, 37%, 63%, 85.2%, 96.3%, 100%), and its hypervolume that mean / 2.
    The 95% interval (2.5th and 97.5th percentiles) is s in [0, 6], hypervolume [0, 1]; the
    80% interval (10th and 90th) is s in [1, 5], hypervolume [1/6, 5/6], narrower. A base
    model scoring 0 everywhere has hypervolume 0, so m's lead over it has the same interval."""
    front = _front([("m", "p", [1.0]), ("base", "none", [0.0])], ["a"])
    per_prompt = {("m", "p"): np.array([[[0.0], [1.0], [2.0]]]),
                  ("base", "none"): np.zeros((1, 3, 1))}
    bootstrap = Bootstrap(resamples=20000, seed=0, level=level)
    stats = {"rewards": {"a": {"min": 0.0, "max": 2.0}}}
    costs = {m: {"train": [], "generate": []} for m in ("m", "base")}
    metrics = build_metrics(front, bootstrap.draw(per_prompt), ["a"], stats, 0.0, costs, "m",
                            bootstrap, seeds=[0], per_prompt=per_prompt)
    assert metrics["bootstrap"]["level"] == level
    m, base = metrics["methods"]["m"], metrics["methods"]["base"]
    assert m["hypervolume"] == pytest.approx(0.5)
    assert m["hypervolume_ci"] == pytest.approx(list(interval))
    assert [base["vs_m"]["ci_low"], base["vs_m"]["ci_high"]] == pytest.approx(list(interval))


def test_normalised_maps_min_max_to_unit_box():
    np.testing.assert_allclose(normalised([[2.0, -1.0], [4.0, 1.0]], [2, -1], [4, 1]),
                               [[0, 0], [1, 1]])


def _bench(path, seconds):
    path.write_text("s\th:m:s\tmax_rss\n" + f"{seconds}\t0:00:01\t10\n")
    return str(path)


def test_metrics_and_front_from_files(tmp_path):
    objectives = ["a", "b"]
    points = [("base", "none", 42, None), ("m", "p000_100", 42, [0.0, 1.0]),
              ("m", "p100_000", 42, [1.0, 0.0])]
    responses, scores = [], []
    for i, (method, pref, _, _) in enumerate(points):
        path = tmp_path / f"{method}_{pref}.parquet"
        pd.DataFrame({"row_id": ["x", "y"], "prompt_id": ["px", "py"],
                      "response": ["fine answer here", "ok"]}).to_parquet(path)
        responses.append(str(path))
        for j, objective in enumerate(objectives):
            spath = tmp_path / f"{method}_{pref}_{objective}.parquet"
            write_table(pd.DataFrame({"row_id": ["y", "x"], "score": [i + j, i + j + 2.0]}),
                        spath, provenance={"objective": objective})
            scores.append(str(spath))
    collapse = {"min_words": 3, "max_repeated_share": 0.5}
    front, per_prompt = build_front(points, objectives, responses, scores, collapse)
    np.testing.assert_array_equal(per_prompt[("m", "p000_100")], [[[3.0, 4.0], [1.0, 2.0]]])
    assert front.columns.tolist() == ["method", "pref_id", "w_a", "w_b", "a", "b",
                                      "collapse_rate", "n_eval", "n_seeds"]
    assert front["a"].tolist() == [1.0, 2.0, 3.0] and front["b"].tolist() == [2.0, 3.0, 4.0]
    assert front["collapse_rate"].tolist() == [0.5] * 3 and np.isnan(front.loc[0, "w_a"])

    stats = {"rewards": {"a": {"min": 0.0, "max": 4.0}, "b": {"min": 0.0, "max": 8.0}}}
    costs = {"base": {"train": [], "generate": []},
             "m": {"train": [_bench(tmp_path / "t1.tsv", 10.5), _bench(tmp_path / "t2.tsv", 1)],
                   "generate": [_bench(tmp_path / "g.tsv", 2)]}}
    bootstrap = Bootstrap(resamples=400, seed=0, level=0.95)
    metrics = build_metrics(front, bootstrap.draw(per_prompt), objectives, stats, 0.0, costs,
                            "m", bootstrap, seeds=[42], per_prompt=per_prompt)
    assert metrics["seeds"] == [42]
    assert metrics["bootstrap"] == {"resamples": 400, "level": 0.95, "prompts": 2, "seeds": 1,
                                    "compare_to": "m"}
    assert metrics["normalisation"] == {"min": [0.0, 0.0], "max": [4.0, 8.0]}
    assert metrics["reference_point"] == [0.0, 0.0]
    base, m = metrics["methods"]["base"], metrics["methods"]["m"]
    assert base["hypervolume"] == pytest.approx(0.25 * 0.25)
    # points (0.5, 0.375) and (0.75, 0.5): the second dominates
    assert m["hypervolume"] == pytest.approx(0.75 * 0.5)
    assert (m["train_seconds"], m["generate_seconds"], m["total_seconds"]) == (11.5, 2.0, 13.5)
    # every model is better on prompt x than on y by the same amount, and m's points dominate
    # the base model's in every resample: m is better with probability 1
    assert m["hypervolume_ci"][0] <= m["hypervolume"] <= m["hypervolume_ci"][1]
    assert base["vs_m"]["share_m_better"] == 1.0 and base["vs_m"]["ci_low"] > 0
    assert base["vs_m"]["estimate"] == pytest.approx(m["hypervolume"] - base["hypervolume"])
    assert "vs_m" not in m and "rank_correlation" not in m  # two preferences are too few
    json.dumps(metrics)  # serialisable

    with_se = standard_errors(front, bootstrap.draw(per_prompt), objectives)
    # two prompts 2 apart: resampled means are -1, 0 or +1 from the mean, se sqrt(1/2)
    assert with_se["se_a"].to_numpy() == pytest.approx([np.sqrt(0.5)] * 3, rel=0.1)
    save_figure(plot_front(with_se, objectives), [tmp_path / "f.png", tmp_path / "f.svg"])
    assert (tmp_path / "f.png").stat().st_size > 1000
    assert "<svg" in (tmp_path / "f.svg").read_text()[:500]


def test_build_front_rejects_misaligned_inputs(tmp_path):
    with pytest.raises(ValueError, match="^summary inputs do not line up with the evaluated "
                                         "points$"):
        build_front([("m", "p", 1, [1.0, 0.0])], ["a", "b"], ["r.parquet"], ["s.parquet"], {})


def _answers(tmp_path, name, prompt_rewards, response="a fine long answer"):
    """One model's evaluation files: one answer per prompt, objective ``a`` scoring as given."""
    prompts = [f"q{i}" for i in range(len(prompt_rewards))]
    responses, scores = tmp_path / f"{name}.parquet", tmp_path / f"{name}_a.parquet"
    pd.DataFrame({"row_id": prompts, "prompt_id": prompts,
                  "response": [response] * len(prompts)}).to_parquet(responses)
    write_table(pd.DataFrame({"row_id": prompts, "score": prompt_rewards}), scores,
                provenance={"objective": "a"})
    return str(responses), str(scores)


def test_front_averages_over_seeds_and_resamples_them(tmp_path):
    """Two seeds of one model, listed seed 2 first: seed 1 scores (0, 2) on the two prompts and
    seed 2 (4, 6). The row is the mean over both seeds and prompts, 3; the per-prompt array is
    (seeds sorted, prompts, objectives); the standard error counts the seeds' spread: resampling
    seeds moves the mean by +-2, far more than one seed's prompts (+-1) would. Compute is per
    seed: 10 s of benchmarks over two seeds are 5 s."""
    files = [_answers(tmp_path, "s2", [4.0, 6.0]), _answers(tmp_path, "s1", [0.0, 2.0], "ok")]
    points = [("m", "p100", 2, [1.0]), ("m", "p100", 1, [1.0])]
    front, per_prompt = build_front(points, ["a"], [r for r, _ in files], [s for _, s in files],
                                    {"min_words": 3, "max_repeated_share": 0.5})
    assert front[["method", "pref_id", "a", "n_eval", "n_seeds"]].values.tolist() == [
        ["m", "p100", 3.0, 4, 2]]
    assert front.loc[0, "collapse_rate"] == 0.5  # seed 1's two answers are too short
    np.testing.assert_array_equal(per_prompt[("m", "p100")], [[[0.0], [2.0]], [[4.0], [6.0]]])

    bootstrap = Bootstrap(resamples=4000, seed=0, level=0.95)
    resamples = bootstrap.draw(per_prompt)
    assert (resamples.n_seeds, resamples.n_prompts) == (2, 2)
    # seed draw: mean 1, 3 or 5 (1/4, 1/2, 1/4), variance 2; prompt draw: -1, 0, +1 (1/4, 1/2,
    # 1/4), variance 1/2; independent: se sqrt(2.5)
    se = standard_errors(front, resamples, ["a"])["se_a"].iloc[0]
    assert se == pytest.approx(np.sqrt(2.5), rel=0.05)
    stats = {"rewards": {"a": {"min": 0.0, "max": 8.0}}}
    costs = {"m": {"train": [_bench(tmp_path / "t1.tsv", 4), _bench(tmp_path / "t2.tsv", 6)],
                   "generate": []}}
    metrics = build_metrics(front, resamples, ["a"], stats, 0.0, costs, "m", bootstrap,
                            seeds=[2, 1], per_prompt=per_prompt)
    assert metrics["seeds"] == [2, 1] and metrics["bootstrap"]["seeds"] == 2
    assert metrics["methods"]["m"]["train_seconds"] == 5.0
    hv, (low, high) = metrics["methods"]["m"]["hypervolume"], metrics["methods"]["m"][
        "hypervolume_ci"]
    assert hv == pytest.approx(3 / 8) and low < hv < high
    # per seed (sorted: 1 then 2) the seed's own mean, 1 and 5 of [0, 8]; across the two
    # seeds mean 3/8, sd (1/2) / sqrt 2, t(1) = 12.706 for the 95% interval of the mean
    m = metrics["methods"]["m"]
    assert m["hypervolume_per_seed"] == pytest.approx([1 / 8, 5 / 8])
    spread = m["hypervolume_across_seeds"]
    half = 12.706204736174698 * (0.5 / np.sqrt(2)) / np.sqrt(2)
    assert (spread["mean"], spread["sd"], spread["n_seeds"]) == pytest.approx(
        (3 / 8, 0.5 / np.sqrt(2), 2))
    assert (spread["ci_low"], spread["ci_high"]) == pytest.approx((3 / 8 - half, 3 / 8 + half))


def test_every_seed_must_answer_the_same_prompts(tmp_path):
    files = [_answers(tmp_path, "s1", [0.0, 2.0]), _answers(tmp_path, "s2", [1.0])]
    with pytest.raises(ValueError, match=r"s2\.parquet answers other test prompts than .*"
                                         r"s1\.parquet: every model must answer the same ones"):
        build_front([("m", "p", 1, [1.0]), ("m", "p", 2, [1.0])], ["a"],
                    [r for r, _ in files], [s for _, s in files], {})


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


def comparison_metrics() -> dict:
    """metrics.json of three methods: base, paretohqd (the reference) and sft."""
    return {"objectives": ["a", "b"], "normalisation": {"min": [0, 1], "max": [2, 3]},
               "reference_point": [0.0, 0.0],
               "bootstrap": {"resamples": 1000, "level": 0.95, "prompts": 40, "seeds": 1,
                             "compare_to": "paretohqd"},
               "methods": {
                   "base": {"hypervolume": 0.1, "hypervolume_ci": [0.05, 0.15],
                            "vs_paretohqd": {"estimate": 0.4, "ci_low": 0.3, "ci_high": 0.5,
                                             "share_paretohqd_better": 1.0},
                            "collapse_rate": 0.0, "n_points": 1,
                            "train_seconds": 0, "generate_seconds": 0, "total_seconds": 0},
                   "paretohqd": {"hypervolume": 0.5, "hypervolume_ci": [0.45, 0.55],
                                 "igd_plus": 0.01, "igd_plus_ci": [0.0, 0.02],
                                 "spacing": 0.03, "spacing_ci": [0.02, 0.05],
                                 "rank_correlation": {
                                     "a": {"estimate": 0.9, "ci_low": 0.5, "ci_high": 1.0},
                                     "b": {"estimate": 0.7, "ci_low": 0.1, "ci_high": 1.0}},
                                 "collapse_rate": 0.1, "n_points": 5,
                                 "train_seconds": 30, "generate_seconds": 10,
                                 "total_seconds": 40},
                   "sft": {"hypervolume": 0.3, "hypervolume_ci": [0.2, 0.4],
                           "igd_plus": 0.12, "igd_plus_ci": [0.1, 0.15],
                           "spacing": math.nan, "spacing_ci": [math.nan, math.nan],
                           "vs_paretohqd": {"estimate": 0.2, "ci_low": -0.01, "ci_high": 0.3,
                                            "share_paretohqd_better": 0.96},
                           "collapse_rate": 0.2, "n_points": 1,
                           "train_seconds": 100, "generate_seconds": 0, "total_seconds": 100}}}


def test_comparison_table_ratio_and_markdown():
    metrics = comparison_metrics()
    table = comparison_table(metrics, "paretohqd")
    assert table.set_index("method")["compute_vs_paretohqd"].to_dict() == {
        "base": 0.0, "paretohqd": 1.0, "sft": 2.5}
    text = comparison_markdown(table, metrics, "paretohqd")
    assert ("| sft | 0.3000 [0.2000, 0.4000] | 0.2000 [-0.0100, 0.3000] | 0.960 "
            "| 0.1200 [0.1000, 0.1500] |  |  |  |  |  |  | 0.200 | 100.0 | 0.0 | 100.0 | 2.50 | 1 |"
            ) in text
    assert ("| paretohqd | 0.5000 [0.4500, 0.5500] |  |  | 0.0100 [0.0000, 0.0200] "
            "| 0.0300 [0.0200, 0.0500] | 0.90 [0.50, 1.00] | 0.70 [0.10, 1.00]") in text
    assert "| compute / paretohqd |" in text and "40 test prompts and 1 training seed(s)" in text
    assert "| resamples with paretohqd ahead |" in text and "across seeds" not in text.split(
        "\n")[0]
    assert "with one training seed no interval covers what another seed would give" in text
    assert "per training seed (the mean over 1 seed(s))" in text
    assert "reference point [0.0, 0.0]" in text and "a [0, 2]" in text
    by_sft = comparison_table(metrics, "sft").set_index("method")["compute_vs_sft"]
    assert by_sft.to_dict() == {"base": 0.0, "paretohqd": 0.4, "sft": 1.0}
    assert comparison_table(metrics, "ric")["compute_vs_ric"].isna().all()  # did not run


def test_comparison_shows_igd_plus_and_spacing_beside_the_hypervolume():
    """IGD+ and spacing with their intervals follow the hypervolume's columns (``_ci_low``,
    ``_ci_high``); a method without them (an older metrics.json) has empty cells; the note
    says what they are and which way is better."""
    metrics = comparison_metrics()
    table = comparison_table(metrics, "paretohqd").set_index("method")
    assert table.loc["sft", ["igd_plus", "igd_plus_ci_low", "igd_plus_ci_high"]].tolist() == [
        0.12, 0.1, 0.15]
    assert table.loc["paretohqd", ["spacing", "spacing_ci_low", "spacing_ci_high"]].tolist() \
        == [0.03, 0.02, 0.05]
    assert table.loc["base", ["igd_plus", "spacing"]].isna().all()
    assert table.loc["sft", "hypervolume"] == 0.3  # the hypervolume's columns as they were
    text = comparison_markdown(table.reset_index(), metrics, "paretohqd")
    assert ("| resamples with paretohqd ahead | IGD+ [95%] | spacing [95%] | rho a [95%] |"
            in text.splitlines()[0])
    assert "| base | 0.1000 [0.0500, 0.1500] | 0.4000 [0.3000, 0.5000] | 1.000 |  |  |" in text
    note = text.splitlines()[-1]
    assert "IGD+ (lower is better" in note and "non-dominated union of all methods' points" in note
    assert "spacing (0: evenly spread" in note and "minimum spanning tree" in note


def test_metrics_json_carries_igd_plus_and_spacing_with_intervals():
    """build_metrics adds ``igd_plus`` and ``spacing`` with ``_se`` and ``_ci`` beside the
    hypervolume: m's two points (0.5, 0.75) and (0.9, 0.25) form the union front above base's
    (0.1, 0.5) (IGD+ 0, base's the mean of 0.4 and 0.8 short on a), one tree edge (spacing 0);
    every prompt scores the point's mean, so every resample repeats the estimate."""
    metrics = _two_point_metrics(0.0, 20)
    m, base = metrics["methods"]["m"], metrics["methods"]["base"]
    assert (m["igd_plus"], m["igd_plus_se"], m["igd_plus_ci"]) == (0.0, 0.0, [0.0, 0.0])
    assert (m["spacing"], m["spacing_ci"]) == (0.0, [0.0, 0.0])
    # base to (0.5, 0.75): 0.4 on a, 0.25 on b; to (0.9, 0.25): 0.8 on a only
    expected = (math.hypot(0.4, 0.25) + 0.8) / 2
    assert base["igd_plus"] == pytest.approx(expected)
    assert base["igd_plus_ci"] == pytest.approx([expected, expected])
    assert math.isnan(base["spacing"]) and all(math.isnan(v) for v in base["spacing_ci"])


def test_comparison_shows_seeds_and_steering():
    """With three training seeds the table adds the hypervolume and the difference across
    seeds (mean with its t interval); a method with steering measures shows its ranges and
    mean angle; the note says what each interval resamples."""
    metrics = comparison_metrics()
    metrics["bootstrap"]["seeds"] = 3
    sft = metrics["methods"]["sft"]
    sft["hypervolume_across_seeds"] = {"mean": 0.31, "ci_low": 0.21, "ci_high": 0.41}
    sft["vs_paretohqd_across_seeds"] = {"mean": 0.19, "ci_low": -0.05, "ci_high": 0.43}
    metrics["methods"]["paretohqd"]["steering"] = {
        "range": {"a": {"estimate": 0.61, "ci_low": 0.5, "ci_high": 0.7},
                  "b": {"estimate": 0.4, "ci_low": 0.3, "ci_high": 0.5}},
        "angle": {"mean": {"estimate": 12.34, "ci_low": 10.0, "ci_high": 15.0}}}
    table = comparison_table(metrics, "paretohqd").set_index("method")
    assert table.loc["sft", "hv_seeds"] == 0.31 and table.loc["sft", "difference_seeds_ci_low"] \
        == -0.05 and table.loc["paretohqd", "range_a"] == 0.61
    text = comparison_markdown(table.reset_index(), metrics, "paretohqd")
    header = text.splitlines()[0]
    assert ("| hypervolume [95%] | HV across seeds [95%] | HV(paretohqd) - HV [95%] "
            "| HV(paretohqd) - HV across seeds [95%] | resamples with paretohqd ahead |") in header
    assert "| range a [95%] | range b [95%] | angle to ray, degrees [95%] |" in header
    assert ("| sft | 0.3000 [0.2000, 0.4000] | 0.3100 [0.2100, 0.4100] | 0.2000 [-0.0100, "
            "0.3000] | 0.1900 [-0.0500, 0.4300] | 0.960 |") in text
    assert "| 0.610 [0.500, 0.700] | 0.400 [0.300, 0.500] | 12.3 [10.0, 15.0] |" in text
    assert "the mean over the 3 training seeds' hypervolumes" in text


def test_comparison_html_is_the_markdown_table_escaped():
    """The HTML page holds the Markdown table's header and cells, one row per method in order,
    and its note; method names are escaped."""
    metrics = comparison_metrics()
    metrics["methods"]["<b>&sft"] = metrics["methods"].pop("sft")
    table = comparison_table(metrics, "paretohqd")
    page = comparison_html(table, metrics, "paretohqd")
    markdown = comparison_markdown(table, metrics, "paretohqd")
    lines = markdown.splitlines()
    headers = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert page.startswith("<!DOCTYPE html>") and "<title>Method comparison</title>" in page
    assert page.count("<tr>") == 1 + 3 and page.count("<th>") == len(headers) + 3
    assert "".join(f"<th>{escape(h)}</th>" for h in headers) in page
    assert "<th>HV(paretohqd) - HV [95%]</th>" in page
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:5]]
    assert [r[0] for r in rows] == ["base", "paretohqd", "<b>&sft"]
    for cells in rows:  # an interval small below its estimate
        expected = f"<tr><th>{escape(cells[0])}</th>" + "".join(
            f"<td class=\"num\">{escape(c)}</td>".replace(" [", "<span class=\"detail\">[", 1)
            .replace("]</td>", "]</span></td>") for c in cells[1:])
        assert expected + "</tr>" in page
    assert ("<td class=\"num\">0.1000<span class=\"detail\">[0.0500, 0.1500]</span></td>"
            in page)
    assert "<th>&lt;b&gt;&amp;sft</th>" in page and "<b>&sft" not in page
    assert f"<p class=\"note\">{escape(lines[-1])}</p>" in page
    assert "reference point [0.0, 0.0]" in page


def test_rank_correlation_and_standard_errors():
    """Three preferences whose means rise with w_a on every prompt: rho(w_a, a) = 1 in every
    resample; b falls as w_a rises: rho(w_b, b) = 1 as well."""
    weights = [(0.0, 1.0), (0.5, 0.5), (1.0, 0.0)]
    front = pd.DataFrame({"method": ["m"] * 3, "pref_id": ["p0", "p1", "p2"],
                          "w_a": [w[0] for w in weights], "w_b": [w[1] for w in weights],
                          "a": [0.1, 0.5, 0.9], "b": [0.9, 0.5, 0.1]})
    noise = np.random.default_rng(0).normal(scale=0.01, size=(1, 20, 1))
    per_prompt = {("m", f"p{i}"): np.concatenate([np.full((1, 20, 1), a) + noise,
                                                  np.full((1, 20, 1), b) - noise], axis=2)
                  for i, (a, b) in enumerate(zip(front["a"], front["b"]))}
    bootstrap = Bootstrap(resamples=200, seed=1, level=0.95)
    resamples = bootstrap.draw(per_prompt)
    result = uncertainty(front, resamples, ["a", "b"], [0, 0], [1, 1], [0, 0], "m", 0.95)
    for objective in ("a", "b"):
        rho = result["m"]["rank_correlation"][objective]
        assert rho["estimate"] == 1.0 and rho["ci_low"] == rho["ci_high"] == 1.0
    # steering: each objective moves from 0.1 to 0.9; the extremes miss their axis rays by
    # atan(0.1 / 0.9) = 6.34 degrees, the balanced model is on its ray
    steering = result["m"]["steering"]
    assert steering["range"]["a"]["estimate"] == pytest.approx(0.8)
    assert steering["range"]["b"]["ci_low"] < 0.8 < steering["range"]["b"]["ci_high"]
    off_axis = np.degrees(np.arctan(0.1 / 0.9))
    angles = steering["angle"]["per_preference"]
    assert [angles[p]["estimate"] for p in ("p0", "p1", "p2")] == pytest.approx(
        [off_axis, 0.0, off_axis], abs=1e-9)
    assert steering["angle"]["mean"]["estimate"] == pytest.approx(2 * off_axis / 3)
    with_se = standard_errors(front, resamples, ["a", "b"])
    # the standard error of a mean of 20 values with sd 0.01 is about 0.01 / sqrt(20)
    assert with_se["se_a"].iloc[0] == pytest.approx(0.01 / np.sqrt(20), rel=0.35)
