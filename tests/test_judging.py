"""The second grading by independent judges (paretohqd.evaluation.judging), on hand-made files."""

import numpy as np
import pandas as pd
import pytest

from paretohqd.evaluation.comparison import comparison_markdown, comparison_table
from paretohqd.evaluation.judging import judge_stats, judged_grading, judged_score_paths
from paretohqd.evaluation.metrics import Bootstrap, build_metrics
from paretohqd.io import write_table


def test_judged_objectives_read_the_judges_tables():
    """Two points, objectives a, b, c; b and c judged: per point a from the reward model's
    table, b and c from the judge's, in objective order."""
    scores = [f"s{i}{o}" for i in range(2) for o in "abc"]
    judges = [f"j{i}{o}" for i in range(2) for o in "bc"]
    assert judged_score_paths(2, list("abc"), ["b", "c"], scores, judges) == [
        "s0a", "j0b", "j0c", "s1a", "j1b", "j1c"]
    with pytest.raises(ValueError, match="judged score inputs do not line up"):
        judged_score_paths(3, list("abc"), ["b", "c"], scores, judges)


def test_judge_frame_is_the_judges_offline_range(tmp_path):
    table = tmp_path / "a.parquet"
    write_table(pd.DataFrame({"row_id": ["r1", "r2", "r3"], "score": [0.5, -2.0, 3.0]}), table,
                provenance={"objective": "a"})
    stats = {"rewards": {"a": {"min": 0.0, "max": 1.0}, "b": {"min": -1.0, "max": 1.0}}}
    assert judge_stats(["a", "b"], stats, {"a": str(table)}) == {
        "rewards": {"a": {"min": -2.0, "max": 3.0}, "b": {"min": -1.0, "max": 1.0}}}


def _write(tmp_path, name, scores_by_objective):
    """One model's answers to prompts q0, q1 and a score table per objective."""
    prompts = ["q0", "q1"]
    responses = tmp_path / f"{name}.parquet"
    pd.DataFrame({"row_id": prompts, "prompt_id": prompts,
                  "response": ["a fine long answer"] * 2}).to_parquet(responses)
    paths = []
    for objective, values in scores_by_objective.items():
        path = tmp_path / f"{name}_{objective}.parquet"
        write_table(pd.DataFrame({"row_id": prompts, "score": values}), path,
                    provenance={"objective": objective})
        paths.append(str(path))
    return str(responses), paths


def test_over_optimisation_by_hand(tmp_path):
    """Objectives a (judged) and b (no judge), frames [0, 1] for both gradings. Under the reward
    models base sits at (0.2, 0.5) and m at (0.8, 0.5): HV 0.1 and 0.4. The judge scores m's
    answers 0.1 and 0.7 on a (mean 0.4: judged HV 0.2, base 0.1 as before). Win rates on a
    against base: 1 under the reward models (0.8 > 0.2 on both prompts), 0.5 under the judge
    (0.1 < 0.2, 0.7 > 0.2): over-optimisation 0.5, and per resample 1 minus the judged win rate
    of the drawn prompts."""
    points = [("base", "none", 1, None), ("m", "p100_000", 1, [1.0, 0.0])]
    base = _write(tmp_path, "base", {"a": [0.2, 0.2], "b": [0.5, 0.5]})
    m = _write(tmp_path, "m", {"a": [0.8, 0.8], "b": [0.5, 0.5]})
    base_j = _write(tmp_path, "base_j", {"a": [0.2, 0.2]})
    m_j = _write(tmp_path, "m_j", {"a": [0.1, 0.7]})
    offline_a = tmp_path / "judge_offline_a.parquet"
    write_table(pd.DataFrame({"row_id": ["x", "y"], "score": [0.0, 1.0]}), offline_a,
                provenance={"objective": "a"})
    stats = {"rewards": {"a": {"min": 0.0, "max": 1.0}, "b": {"min": 0.0, "max": 1.0}}}
    from paretohqd.evaluation.front import build_front

    front, per_prompt = build_front(points, ["a", "b"], [base[0], m[0]], base[1] + m[1], {})
    bootstrap = Bootstrap(resamples=200, seed=0, level=0.95)
    resamples = bootstrap.draw(per_prompt)
    costs = {name: {"train": [], "generate": []} for name in ("base", "m")}
    metrics = build_metrics(front, resamples, ["a", "b"], stats, 0.0, costs, "m", bootstrap,
                            [1], per_prompt)
    judged_front, section, _, frame = judged_grading(
        points, ["a", "b"], [base[0], m[0]], base[1] + m[1], base_j[1] + m_j[1],
        [str(offline_a)], {"a": "trained"}, stats, {}, bootstrap, 0.0, "m", [1], metrics,
        per_prompt)
    assert judged_front.set_index("method").loc["m", "a"] == pytest.approx(0.4)
    assert judged_front.set_index("method").loc["m", "b"] == pytest.approx(0.5)
    assert section["sources"] == {"a": "trained", "b": "reward model"}
    assert frame["rewards"]["a"] == {"min": 0.0, "max": 1.0}  # the judge's offline scores
    assert section["methods"]["m"]["hypervolume"] == pytest.approx(0.2)
    assert section["methods"]["base"]["vs_m"]["estimate"] == pytest.approx(0.1)
    assert "train_seconds" not in section["methods"]["m"]
    gap = metrics["methods"]["m"]["over_optimisation"]
    assert gap["per_objective"]["a"]["win_rate_trained"] == pytest.approx(1.0)
    assert gap["per_objective"]["a"]["win_rate_judged"] == pytest.approx(0.5)
    assert set(gap["per_objective"]) == {"a"}  # b has no judge: the same grader twice
    draws = np.random.default_rng(0)
    draws.integers(0, 1, size=(200, 1))  # the seed draw (one seed)
    by_hand = 1.0 - np.array([0.0, 1.0])[draws.integers(0, 2, size=(200, 2))].mean(axis=1)
    low, high = np.percentile(by_hand, [2.5, 97.5])
    assert (gap["estimate"], gap["ci_low"], gap["ci_high"]) == pytest.approx((0.5, low, high))
    assert "over_optimisation" not in metrics["methods"]["base"]

    metrics["judged"] = section
    text = comparison_markdown(comparison_table(metrics, "m"), metrics, "m")
    assert "| HV judged [95%] | HV(m) - HV judged [95%] | over-optimisation [95%] |" in text
    # IGD+ 0 (m's point is the union front), no spacing (one point), then the judged columns
    judged_hv = section["methods"]["m"]["hypervolume_ci"]
    assert (f"| m | 0.4000 [0.4000, 0.4000] |  |  | 0.0000 [0.0000, 0.0000] |  | "
            f"0.2000 [{judged_hv[0]:.4f}, {judged_hv[1]:.4f}] |  | "
            f"0.5000 [{low:.4f}, {high:.4f}] |") in text
    assert ("a: a judge trained on held-out labels [0, 1], b: its own reward model, no judge "
            "[0, 1]") in text
    assert np.isnan(comparison_table(metrics, "m").set_index("method").loc[
        "base", "over_optimisation"])
