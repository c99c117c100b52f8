import pandas as pd
import pytest

import numpy as np

from paretohqd.io import write_json
from paretohqd.registry import load_function
from paretohqd.methods.ric.conditioning import (conditioned_prompt, desired_scores, reward_stats,
                                                sample_goals, training_rows)
from paretohqd.methods.ric.config import online_rounds, online_source, round_seed
from paretohqd.methods.ric.online import online_rows, rejection_sample, replay_rows

TABLE = pd.DataFrame({"row_id": ["a", "b", "c"], "prompt": ["Hi?", "Bye?", "Why?"],
                      "response": ["x", "y", "z"], "h": [1.0, 2.0, 3.0], "u": [0.0, 0.0, 3.0]})


def test_stats_by_hand():
    stats = reward_stats(TABLE, ["h", "u"], reference="data")
    # h: mean 2, population std sqrt(2/3); z = -1.2247, 0, 1.2247
    assert stats["h"]["mean"] == 2.0
    assert stats["h"]["std"] == pytest.approx((2 / 3) ** 0.5)
    assert stats["h"]["min"] == stats["h"]["low"] == pytest.approx(-1.224745, abs=1e-6)
    assert stats["h"]["goal_low"] == -1.2
    # u: mean 1, std sqrt(2); z = -0.7071, -0.7071, 1.4142
    assert stats["u"]["max"] == stats["u"]["high"] == pytest.approx(2 ** 0.5)
    assert stats["u"]["goal_high"] == 1.4


def test_gaussian_reference_is_the_extremes_of_rics_normal_draws():
    """As RiC's released code: the map between the extremes of 50,000 standard normal draws
    per objective, the online goals between those of one set of 100,000, whatever the data."""
    stats = reward_stats(TABLE, ["h", "u"], reference="gaussian", seed=5)
    rng = np.random.default_rng(5)
    goals = rng.standard_normal(100_000)
    for name in ("h", "u"):
        draws = rng.standard_normal(50_000)
        assert (stats[name]["low"], stats[name]["high"]) == (draws.min(), draws.max())
        assert (stats[name]["goal_low"], stats[name]["goal_high"]) == (
            round(goals.min(), 1), round(goals.max(), 1))
        assert -5.5 < stats[name]["low"] < -3.5 and 3.5 < stats[name]["high"] < 5.5
    assert stats["h"]["min"] == pytest.approx(-1.224745, abs=1e-6)  # the data's, for the log
    assert stats == reward_stats(TABLE, ["h", "u"], reference="gaussian", seed=5)
    with pytest.raises(ValueError, match="unknown RiC reference 'uniform'"):
        reward_stats(TABLE, ["h", "u"], reference="uniform")


def test_gaussian_reference_targets_by_hand():
    # low/high of a standard normal reference, rounded: -4.2 and 4.2
    stats = {"h": {"low": -4.2, "high": 4.2}, "u": {"low": -4.2, "high": 4.2}}
    # l2 at (0.5, 0.5): -4.2 + 0.7071 * 8.4 = 1.74 -> 1.7 for both
    assert desired_scores([0.5, 0.5], ["h", "u"], stats, "l2") == {"h": 1.7, "u": 1.7}
    # l2 at (0.25, 0.75): shares 0.3162 and 0.9487 -> -1.54 -> -1.5 and 3.77 -> 3.8
    assert desired_scores([0.25, 0.75], ["h", "u"], stats, "l2") == {"h": -1.5, "u": 3.8}
    assert desired_scores([1.0, 0.0], ["h", "u"], stats, "l2") == {"h": 4.2, "u": -4.2}


def test_prompt_formatting_by_hand():
    assert conditioned_prompt("What is AI?", {"harmless": 0.7, "helpful": -1.2}) == \
        "What is AI? <harmless> 0.7 <helpful> -1.2"
    rows = training_rows(TABLE, ["h", "u"], reward_stats(TABLE, ["h", "u"]))
    assert rows["prompt"].tolist() == ["Hi? <h> -1.2 <u> -0.7", "Bye? <h> 0.0 <u> -0.7",
                                       "Why? <h> 1.2 <u> 1.4"]
    assert rows["response"].tolist() == ["x", "y", "z"]


def test_preference_maps_by_hand():
    stats = {"h": {"low": -1.0, "high": 3.0}, "u": {"low": -2.0, "high": 0.0}}
    # linear: low + w (high - low)
    assert desired_scores([0.25, 0.75], ["h", "u"], stats, "linear") == {"h": 0.0, "u": -0.5}
    assert desired_scores([1.0, 0.0], ["h", "u"], stats, "linear") == {"h": 3.0, "u": -2.0}
    # l2: w / ||w|| = (0.316, 0.949) -> h -1 + 0.316 * 4 = 0.26 -> 0.3, u -2 + 0.949 * 2 -> -0.1
    assert desired_scores([0.25, 0.75], ["h", "u"], stats, "l2") == {"h": 0.3, "u": -0.1}
    # at (0.5, 0.5) l2 asks for 0.707 of each range, linear for half of it
    assert desired_scores([0.5, 0.5], ["h", "u"], stats, "l2") == {"h": 1.8, "u": -0.6}
    # linf: the dominant u asks for its max; h for low + min(2 * 0.25, 1) * 4 = 1.0
    assert desired_scores([0.25, 0.75], ["h", "u"], stats, "linf") == {"h": 1.0, "u": 0.0}
    assert desired_scores([0.5, 0.5], ["h", "u"], stats, "linf") == {"h": 3.0, "u": 0.0}
    with pytest.raises(ValueError,
                       match=r"^preference \[1\.0\] has 1 weights for 2 objectives$"):
        desired_scores([1.0], ["h", "u"], stats)
    with pytest.raises(ValueError, match="unknown RiC preference map"):
        desired_scores([0.5, 0.5], ["h", "u"], stats, "cosine")


def test_online_goals_relax_one_objective_and_max_the_others():
    stats = {"h": {"goal_low": -1.0, "goal_high": 3.0}, "u": {"goal_low": -2.0, "goal_high": 0.0},
             "f": {"goal_low": 0.0, "goal_high": 1.0}}
    goals = sample_goals(200, ["h", "u", "f"], stats, seed=7)
    assert goals == sample_goals(200, ["h", "u", "f"], stats, seed=7)
    relaxed = []
    for goal in goals:
        below = [name for name in goal if goal[name] < stats[name]["goal_high"]]
        assert len(below) <= 1
        relaxed += below
        assert all(stats[n]["goal_low"] <= v <= stats[n]["goal_high"] for n, v in goal.items())
    assert set(relaxed) == {"h", "u", "f"}  # every objective gets relaxed sometimes


def test_conditioning_by_name_writes_one_preference_or_rics_goals(tmp_path):
    stats = {"h": {"low": -1.0, "high": 3.0, "goal_low": -1.0, "goal_high": 3.0},
             "u": {"low": -2.0, "high": 0.0, "goal_low": -2.0, "goal_high": 0.0}}
    path = tmp_path / "stats.json"
    write_json(stats, path)
    condition = load_function("paretohqd.methods.ric:condition_prompts")
    assert condition(["Hi?", "Why?"], [0.25, 0.75], ["h", "u"], path, 0, map="linear") == [
        "Hi? <h> 0.0 <u> -0.5", "Why? <h> 0.0 <u> -0.5"]
    assert condition(["Hi?"], [0.25, 0.75], ["h", "u"], path, 0) == ["Hi? <h> 0.3 <u> -0.1"]
    goals = sample_goals(2, ["h", "u"], stats, seed=3)
    assert condition(["Hi?", "Why?"], None, ["h", "u"], path, 3) == [
        conditioned_prompt(p, g) for p, g in zip(["Hi?", "Why?"], goals)]


def test_rejection_sampling_keeps_rows_above_the_quantile_of_any_objective():
    table = pd.DataFrame({"row_id": list("abcde"), "h": [1.0, 2.0, 3.0, 4.0, 5.0],
                          "u": [5.0, 1.0, 2.0, 3.0, 0.0]})
    # 0.7 quantiles (linear interpolation): h 3.8 -> d, e pass; u 2.8 -> a, d pass
    kept = rejection_sample(table, ["h", "u"], 0.7)
    assert kept["row_id"].tolist() == ["a", "d", "e"]


def test_replay_is_a_seeded_sample_of_the_offline_rows_that_pass():
    offline = pd.DataFrame({"row_id": list("abcde"), "prompt": list("PQRST"),
                            "response": list("vwxyz"), "h": [1.0, 2.0, 3.0, 4.0, 5.0],
                            "u": [5.0, 1.0, 2.0, 3.0, 0.0]})
    rows = training_rows(offline, ["h", "u"], reward_stats(offline, ["h", "u"], "data"))
    # passing at 0.7 (see below): a, d, e
    replay = replay_rows(offline, rows, ["h", "u"], 0.7, 2, seed=1)
    assert len(replay) == 2 and set(replay["row_id"]) < {"a", "d", "e"}
    assert replay.equals(replay_rows(offline, rows, ["h", "u"], 0.7, 2, seed=1))
    assert set(replay_rows(offline, rows, ["h", "u"], 0.7, 10, seed=1)["row_id"]) == {"a", "d", "e"}
    assert replay_rows(offline, rows, ["h", "u"], 0.7, 0, seed=1).empty


def test_later_rounds_sample_with_their_own_seed():
    assert round_seed(7, 1) == 7  # the first round is the single-round stage of before
    later = [round_seed(7, r) for r in (2, 3)]
    assert len({7, *later}) == 3 and later == [round_seed(7, 2), round_seed(7, 3)]
    assert round_seed(8, 2) not in later
    with pytest.raises(ValueError, match="count from 1"):
        round_seed(7, 0)
    assert online_source(1) == "ric_online" and online_source(2) == "ric_online2"


def test_online_rows_replay_then_every_rounds_kept_answers():
    """Round r trains on a replay drawn with round r's seed, then the answers each round kept
    within its own round (RiC's merge_dataset accumulates its online data), in round order."""
    offline = pd.DataFrame({"row_id": list("abcde"), "prompt": list("PQRST"),
                            "response": list("vwxyz"), "h": [1.0, 2.0, 3.0, 4.0, 5.0],
                            "u": [5.0, 1.0, 2.0, 3.0, 0.0]})
    stats = reward_stats(offline, ["h", "u"], "data")
    rows = training_rows(offline, ["h", "u"], stats)
    first = pd.DataFrame({"row_id": ["o1", "o2", "o3"], "prompt": ["A?"] * 3,
                          "response": ["r1", "r2", "r3"], "h": [0.0, 1.0, 9.0],
                          "u": [0.0, 0.0, 1.0]})
    # 0.7 quantiles: in the first round h 4.2, u 0.4 (o3 passes); in the second h 8.8, u 1.6
    # (o5 passes; o4 and o6 fall short)
    second = first.assign(row_id=["o4", "o5", "o6"], response=["r4", "r5", "r6"],
                          h=[1.0, 10.0, 8.0], u=[0.0, 4.0, 0.0])
    one, kept, replayed = online_rows([first], offline, rows, ["h", "u"], stats, 0.7, 2, seed=5)
    assert kept == [1] and replayed == 2
    assert one["response"].tolist() == [
        *replay_rows(offline, rows, ["h", "u"], 0.7, 2, seed=5)["response"], "r3"]
    two, kept, _ = online_rows([first, second], offline, rows, ["h", "u"], stats, 0.7, 2, seed=5)
    assert kept == [1, 1]
    replay = replay_rows(offline, rows, ["h", "u"], 0.7, 2, seed=round_seed(5, 2))
    assert two["response"].tolist() == [*replay["response"], "r3", "r5"]
    # every online answer carries its own z-scored rewards, from the offline statistics
    z = (10.0 - stats["h"]["mean"]) / stats["h"]["std"]
    assert two["prompt"].iloc[-1] == conditioned_prompt(
        "A?", {"h": z, "u": (4.0 - stats["u"]["mean"]) / stats["u"]["std"]})
    with pytest.raises(ValueError, match="at least one round"):
        online_rows([], offline, rows, ["h", "u"], stats, 0.7, 2, seed=5)


def test_online_rounds_count_from_one_and_are_none_without_the_online_stage():
    assert online_rounds({"online": True, "online_rounds": 2}) == [1, 2]
    assert online_rounds({"online": False, "online_rounds": 2}) == []
