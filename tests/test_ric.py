import pandas as pd
import pytest

import numpy as np

from paretohqd.io import write_json
from paretohqd.registry import load_function
from paretohqd.ric import (conditioned_prompt, desired_scores, random_preferences,
                         rejection_sample, reward_stats, training_rows)

TABLE = pd.DataFrame({"row_id": ["a", "b", "c"], "prompt": ["Hi?", "Bye?", "Why?"],
                      "response": ["x", "y", "z"], "h": [1.0, 2.0, 3.0], "u": [0.0, 0.0, 3.0]})


def test_stats_by_hand():
    stats = reward_stats(TABLE, ["h", "u"])
    # h: mean 2, population std sqrt(2/3); z = -1.2247, 0, 1.2247
    assert stats["h"]["mean"] == 2.0
    assert stats["h"]["std"] == pytest.approx((2 / 3) ** 0.5)
    assert stats["h"]["min"] == pytest.approx(-1.224745, abs=1e-6)
    # u: mean 1, std sqrt(2); z = -0.7071, -0.7071, 1.4142
    assert stats["u"]["max"] == pytest.approx(2 ** 0.5)


def test_prompt_formatting_by_hand():
    assert conditioned_prompt("What is AI?", {"harmless": 0.7, "helpful": -1.2}) == \
        "What is AI? <harmless> 0.70 <helpful> -1.20"
    rows = training_rows(TABLE, ["h", "u"], reward_stats(TABLE, ["h", "u"]))
    assert rows["prompt"].tolist() == ["Hi? <h> -1.22 <u> -0.71", "Bye? <h> 0.00 <u> -0.71",
                                       "Why? <h> 1.22 <u> 1.41"]
    assert rows["response"].tolist() == ["x", "y", "z"]


def test_preference_to_targets_by_hand():
    stats = {"h": {"min": -1.0, "max": 3.0}, "u": {"min": -2.0, "max": 0.0}}
    assert desired_scores([0.25, 0.75], ["h", "u"], stats) == {"h": 0.0, "u": -0.5}
    assert desired_scores([1.0, 0.0], ["h", "u"], stats) == {"h": 3.0, "u": -2.0}
    with pytest.raises(ValueError):
        desired_scores([1.0], ["h", "u"], stats)


def test_random_preferences_are_seeded_points_of_the_simplex():
    weights = random_preferences(50, 3, seed=7)
    assert weights.shape == (50, 3) and (weights >= 0).all()
    assert np.allclose(weights.sum(axis=1), 1.0)
    assert np.array_equal(weights, random_preferences(50, 3, seed=7))
    assert not np.array_equal(weights, random_preferences(50, 3, seed=8))


def test_conditioning_by_name_writes_one_preference_or_random_ones(tmp_path):
    stats = tmp_path / "stats.json"
    write_json({"h": {"min": -1.0, "max": 3.0}, "u": {"min": -2.0, "max": 0.0}}, stats)
    condition = load_function("paretohqd.ric:condition_prompts")
    assert condition(["Hi?", "Why?"], [0.25, 0.75], ["h", "u"], stats, 0) == [
        "Hi? <h> 0.00 <u> -0.50", "Why? <h> 0.00 <u> -0.50"]
    random = condition(["Hi?", "Why?"], None, ["h", "u"], stats, 3)
    w = random_preferences(2, 2, seed=3)
    assert random == [f"Hi? <h> {-1 + 4 * w[0, 0]:.2f} <u> {-2 + 2 * w[0, 1]:.2f}",
                      f"Why? <h> {-1 + 4 * w[1, 0]:.2f} <u> {-2 + 2 * w[1, 1]:.2f}"]


def test_rejection_sampling_keeps_rows_above_the_quantile_of_any_objective():
    table = pd.DataFrame({"row_id": list("abcde"), "h": [1.0, 2.0, 3.0, 4.0, 5.0],
                          "u": [5.0, 1.0, 2.0, 3.0, 0.0]})
    # 0.7 quantiles (linear interpolation): h 3.8 -> d, e pass; u 2.8 -> a, d pass
    kept = rejection_sample(table, ["h", "u"], 0.7)
    assert kept["row_id"].tolist() == ["a", "d", "e"]
