"""Desired vs obtained rewards of a prompt-conditioned method (RiC), against hand computations."""

import numpy as np
import pandas as pd
import pytest

from paretohqd.evaluation.comparison import comparison_markdown, comparison_table
from paretohqd.evaluation.conditioning import conditioning_fit, desired_rewards
from paretohqd.evaluation.metrics import Bootstrap, build_metrics
from paretohqd.evaluation.uncertainty import pearson_samples
from paretohqd.io import write_json

STATS = {"h": {"mean": 1.0, "std": 2.0, "low": -4.2, "high": 4.2},
         "u": {"mean": -1.0, "std": 0.5, "low": -4.2, "high": 4.2}}
WEIGHTS = [(1.0, 0.0), (0.5, 0.5), (0.25, 0.75)]


def _front(obtained: list[tuple[float, float]]) -> pd.DataFrame:
    return pd.DataFrame({"method": ["ric"] * 3 + ["base"], "pref_id": ["p0", "p1", "p2", "none"],
                         "w_h": [w[0] for w in WEIGHTS] + [np.nan],
                         "w_u": [w[1] for w in WEIGHTS] + [np.nan],
                         "h": [o[0] for o in obtained] + [0.0],
                         "u": [o[1] for o in obtained] + [0.0],
                         "collapse_rate": 0.0, "n_eval": 2, "n_seeds": 1})


def test_rics_desired_rewards_by_hand(tmp_path):
    """l2 map at (1, 0), (0.5, 0.5), (0.25, 0.75) in z-units (test_ric: 4.2/-4.2, 1.7/1.7,
    -1.5/3.8), back through z * std + mean: h = 1 + 2 z, u = -1 + 0.5 z."""
    write_json(STATS, tmp_path / "stats.json")
    targets = {"ric": {"function": "paretohqd.methods.ric:desired_rewards",
                       "input": str(tmp_path / "stats.json"), "options": {"map": "l2"}}}
    asked = desired_rewards(_front([(0, 0)] * 3), ["h", "u"], targets)
    assert set(asked) == {"ric"}
    np.testing.assert_allclose(asked["ric"], [[9.4, -3.1], [4.4, -0.15], [-2.0, 0.9]])


def test_pearson_by_hand():
    # x = (0, 1, 2); y = (1, 3, 2): centred (-1, 0, 1) . (-1, 1, 0) = 1; norms sqrt 2 each
    assert pearson_samples([0, 1, 2], [[1, 3, 2]])[0] == pytest.approx(0.5)
    assert np.isnan(pearson_samples([1, 1, 1], [[1, 3, 2]])[0])  # nothing asked to vary


def test_fit_follows_the_asked_rewards_and_its_interval_covers_the_prompts():
    """h obtained = 0.5 * asked + 1 on every prompt but one: r = 1, slope 0.5; u obtained in
    the opposite order: r = -1 (the conditioning on u was not learned)."""
    asked = np.array([[9.4, -3.1], [4.4, -0.15], [-2.0, 0.9]])
    obtained = [(0.5 * a + 1.0, -0.1 * b) for a, b in asked]
    front = _front(obtained)
    noise = np.random.default_rng(0).normal(scale=0.05, size=(1, 30, 2))
    per_prompt = {("ric", f"p{i}"): np.full((1, 30, 2), o) + noise for i, o in enumerate(obtained)}
    per_prompt[("base", "none")] = np.zeros((1, 30, 2))
    resamples = Bootstrap(resamples=200, seed=0, level=0.9).draw(per_prompt)
    fit = conditioning_fit(front, resamples, ["h", "u"], {"ric": asked}, 0.9)
    assert set(fit) == {"ric"}
    h, u = fit["ric"]["h"], fit["ric"]["u"]
    assert h["desired"] == {"p0": 9.4, "p1": 4.4, "p2": -2.0}
    assert h["obtained"] == pytest.approx({"p0": 5.7, "p1": 3.2, "p2": 0.0})
    assert h["slope"] == pytest.approx(0.5)
    # the same noise shifts every point alike: every resample keeps r exactly
    assert h["pearson"]["estimate"] == pytest.approx(1.0)
    assert h["pearson"]["ci_low"] == pytest.approx(1.0) and h["pearson"]["se"] < 1e-9
    assert u["pearson"]["estimate"] == pytest.approx(-1.0)
    assert u["slope"] == pytest.approx(-0.1)


def test_metrics_and_comparison_carry_the_fit():
    asked = np.array([[9.4, -3.1], [4.4, -0.15], [-2.0, 0.9]])
    obtained = [(0.5 * a + 1.0, -0.1 * b) for a, b in asked]
    front = _front(obtained)
    per_prompt = {("ric", f"p{i}"): np.full((1, 4, 2), o) for i, o in enumerate(obtained)}
    per_prompt[("base", "none")] = np.zeros((1, 4, 2))
    bootstrap = Bootstrap(resamples=20, seed=0, level=0.95)
    stats = {"rewards": {"h": {"min": -3.0, "max": 6.0}, "u": {"min": -1.0, "max": 1.0}}}
    costs = {m: {"train": [], "generate": []} for m in ("ric", "base")}
    metrics = build_metrics(front, bootstrap.draw(per_prompt), ["h", "u"], stats, 0.0, costs,
                            "ric", bootstrap, [0], per_prompt, {"ric": asked})
    assert "conditioning" not in metrics["methods"]["base"]
    assert metrics["methods"]["ric"]["conditioning"]["u"]["pearson"]["estimate"] == \
        pytest.approx(-1.0)
    table = comparison_table(metrics, "ric").set_index("method")
    assert table.loc["ric", "fit_h"] == pytest.approx(1.0) and np.isnan(table.loc["base", "fit_h"])
    text = comparison_markdown(table.reset_index(), metrics, "ric")
    assert "| r asked-obtained h [95%] | r asked-obtained u [95%] |" in text
    assert "1.00 [1.00, 1.00] | -1.00 [-1.00, -1.00] |" in text
    assert "r asked-obtained: for prompt-conditioned methods" in text
    del metrics["methods"]["ric"]["conditioning"]  # no conditioned method: no such columns
    assert "asked-obtained" not in comparison_markdown(comparison_table(metrics, "ric"),
                                                       metrics, "ric")
