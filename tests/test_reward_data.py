import pandas as pd
import pytest

from paretohqd.rewards.labels import (
    conversation_pairs,
    harmless_labels,
    helpful_labels,
    read_commented_csv,
)
from paretohqd.data.offline import response_rows
from paretohqd.data.prompts import build_prompt_table, load_embedded
from paretohqd.rewards.training import binary_targets, build_reward_splits


def test_commented_csv_with_multiline_fields(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text('# version=1\nobjective,assistant_response,human_score\n'
                    'ask,"line one\nline two",1\n# trailing comment\nask2,plain,0\n')
    rows = read_commented_csv(path)
    assert [r["assistant_response"] for r in rows] == ["line one\nline two", "plain"]


def test_pyrit_labels_are_oriented_and_sized():
    harmless = harmless_labels()
    helpful = helpful_labels()
    assert 900 <= len(harmless) <= 1100 and 500 <= len(helpful) <= 620
    for frame in (harmless, helpful):
        assert frame["label"].between(0, 1).all()
        assert 0.3 < binary_targets(frame["label"]).mean() < 0.7
    # a refusal is never "helpful"
    refusals = helpful[helpful["response"].str.startswith("I'm sorry, but I can't")]
    assert len(refusals) and refusals["label"].mean() < 0.2


def test_conversation_pairs_mismatch_replies():
    prompts = pd.DataFrame({"prompt": ["a", "b", "c"], "reference": ["ra", "rb", "rc"]})
    pairs = conversation_pairs(prompts, seed=0)
    negatives = pairs[pairs["label"] == 0.0]
    assert len(pairs) == 6 and len(negatives) == 3
    own = dict(zip(prompts["prompt"], prompts["reference"]))
    assert all(own[p] != r for p, r in zip(negatives["prompt"], negatives["response"]))


def test_reward_splits_hold_out_only_human_rows():
    prompts = pd.DataFrame({"prompt": ["hi", "yo", "bye"],
                            "references": [["hello"], ["hey"], ["ciao"]],
                            "split": ["reward", "reward", "train"]})
    train, test = build_reward_splits("pyrit_helpful", prompts, 0.2, True, seed=3)
    assert test["origin"].str.startswith("pyrit/").all()
    assert set(train.loc[train["origin"] == "chatterbot/reply", "prompt"]) == {"hi", "yo"}
    assert not set(zip(train.prompt, train.response)) & set(zip(test.prompt, test.response))


def test_no_reward_training_pair_is_an_offline_row():
    """The embedded default's helpful model learns from human replies; none of them may be a
    row of the offline pool (where the selection would find them with inflated rewards)."""
    prompts = build_prompt_table(load_embedded(), 0.2, max_train=None, max_test=40, seed=42,
                                 reward_fraction=0.25)
    train_prompts = prompts[prompts["split"] == "train"]
    offline = response_rows(train_prompts, [[] for _ in range(len(train_prompts))],
                            "base-model", include_references=True)
    assert (offline["source"] == "human").sum() > 100  # the pool does hold human replies
    for recipe in ("pyrit_helpful", "pyrit_harm"):
        train, test = build_reward_splits(recipe, prompts, 0.2, True, seed=42)
        if recipe == "pyrit_helpful":
            assert (train["origin"] == "chatterbot/reply").sum() > 100
        seen = set(zip(train["prompt"], train["response"])) | set(zip(test["prompt"],
                                                                     test["response"]))
        assert not seen & set(zip(offline["prompt"], offline["response"]))
        assert not set(train["prompt"]) & set(prompts.loc[prompts.split == "test", "prompt"])


def test_judges_learn_from_labelled_prompts_the_reward_models_never_see():
    """With judges on, each recipe's labelled prompts split three ways (seeded, by groups of
    near-duplicate prompts): one test part that scores both the reward model and its judge,
    and of the rest the reward model's and the judge's training parts (label_fraction of it);
    no prompt is in two parts, and only the reward model gains chatterbot reply pairs."""
    prompts = build_prompt_table(load_embedded(), 0.2, max_train=None, max_test=40, seed=42,
                                 reward_fraction=0.25)
    for recipe, labels in (("pyrit_harm", harmless_labels), ("pyrit_helpful", helpful_labels)):
        parts = {part: build_reward_splits(recipe, prompts, 0.2, True, 42, part, 0.5)
                 for part in ("reward", "judge")}
        human = {part: pd.concat(split)[lambda f: f["origin"].str.startswith("pyrit/")]
                 for part, split in parts.items()}
        # one common test part for both graders; train parts disjoint from it and each other
        assert parts["reward"][1].equals(parts["judge"][1])
        trains = {part: set(split[0]["prompt"]) for part, split in parts.items()}
        test_prompts = set(parts["judge"][1]["prompt"])
        assert not trains["reward"] & trains["judge"]
        assert not (trains["reward"] | trains["judge"]) & test_prompts
        labelled = labels()
        assert (len(parts["reward"][0][lambda f: f["origin"].str.startswith("pyrit/")])
                + len(parts["judge"][0]) + len(parts["judge"][1]) == len(labelled))  # none lost
        share = len(trains["judge"]) / labelled["prompt"].nunique()
        assert abs(share - 0.4) < 0.05, (recipe, share)  # half of the 80% not tested
        assert (pd.concat(parts["judge"])["origin"].str.startswith("pyrit/")).all()
        # the same seed splits the same way; without judges every label trains the reward model
        again = build_reward_splits(recipe, prompts, 0.2, True, 42, "judge", 0.5)
        assert again[0].equals(parts["judge"][0])
        whole = build_reward_splits(recipe, prompts, 0.2, True, 42)
        assert (pd.concat(whole)["origin"].str.startswith("pyrit/")).sum() == len(labelled)


def test_split_by_prompt_keeps_every_pair_of_a_prompt_together():
    from paretohqd.rewards.labels import split_by_prompt

    labelled = pd.DataFrame({"prompt": list("aabbbcd"), "response": list("1234567"),
                             "label": [0, 1, 0, 1, 1, 0, 1], "origin": ["x"] * 7})
    kept, held = split_by_prompt(labelled, 0.5, seed=0)
    assert sorted(held["prompt"].unique().tolist() + kept["prompt"].unique().tolist()) == \
        list("abcd")
    assert held["prompt"].nunique() == 2 and len(kept) + len(held) == 7
    for prompt in "abcd":
        assert (prompt in set(held["prompt"])) != (prompt in set(kept["prompt"]))


@pytest.mark.parametrize("recipe", ["pyrit_harm", "pyrit_helpful"])
def test_the_judge_split_puts_no_near_duplicate_prompts_on_both_sides(recipe):
    """The default split (seed 42, half the prompts to the judges) of the installed PyRIT
    labels: no judge prompt equals a reward-model prompt after normalisation or is a near
    duplicate of one (e.g. a double space, "how to use lethal gas" / "Describe how to use
    lethal gas" in the audit of 7387502)."""
    from paretohqd.similarity import NEAR_DUPLICATE, best_matches, normalise
    from paretohqd.rewards.labels import RECIPES, split_by_prompt

    kept, held = split_by_prompt(RECIPES[recipe](), 0.5, seed=42)
    kept_keys = sorted({normalise(p) for p in kept["prompt"]})
    held_keys = sorted({normalise(p) for p in held["prompt"]})
    assert not set(kept_keys) & set(held_keys)
    best, _ = best_matches(held_keys, kept_keys)
    assert best.max() < NEAR_DUPLICATE
    assert 0.3 < held["prompt"].nunique() / RECIPES[recipe]()["prompt"].nunique() < 0.7
