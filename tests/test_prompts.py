import pandas as pd

from paretohqd.data.prompts import build_prompt_table, clean_text, load_embedded, prompt_id


def _raw(n_benign=40, n_risky=60):
    rows = [{"prompt": f"benign question {i}?", "references": [f"answer {i}"],
             "category": "benign/x"} for i in range(n_benign)]
    rows += [{"prompt": f"risky  request\n{i}", "references": [], "category": "risky/y"}
             for i in range(n_risky)]
    return pd.DataFrame(rows)


def test_clean_text_collapses_whitespace():
    assert clean_text("  a \t b   c ") == "a b c"
    assert clean_text("\n\nHuman:  hi \r\n\nAssistant:") == "\n\nHuman: hi\n\nAssistant:"


def test_split_is_seeded_stratified_and_capped():
    table = build_prompt_table(_raw(), test_fraction=0.25, max_train=None, max_test=None, seed=1)
    assert len(table) == 100
    test = table[table["split"] == "test"]
    assert (test["category"] == "benign/x").sum() == 10
    assert (test["category"] == "risky/y").sum() == 15
    again = build_prompt_table(_raw(), 0.25, None, None, seed=1)
    pd.testing.assert_frame_equal(table, again)
    other = build_prompt_table(_raw(), 0.25, None, None, seed=2)
    assert set(other.loc[other.split == "test", "prompt"]) != set(test["prompt"])
    capped = build_prompt_table(_raw(), 0.25, max_train=7, max_test=3, seed=1)
    assert capped["split"].value_counts().to_dict() == {"train": 7, "test": 3}


def test_duplicates_and_blank_prompts_are_dropped():
    raw = pd.concat([_raw(3, 0), _raw(3, 0)], ignore_index=True)
    raw.loc[len(raw)] = {"prompt": "   ", "references": [], "category": "benign/x"}
    table = build_prompt_table(raw, 0.34, None, None, seed=0)
    assert len(table) == 3
    for _, part in table.groupby("split"):
        assert part["prompt_id"].is_monotonic_increasing
    assert set(table["prompt_id"]) == {prompt_id(p) for p in table["prompt"]}


def test_embedded_corpora_load_offline():
    raw = load_embedded()
    kinds = raw["category"].str.split("/").str[0].value_counts()
    assert 700 <= kinds["benign"] <= 800
    assert 900 <= kinds["risky"] <= 960
    benign = raw[raw["category"].str.startswith("benign")]
    assert benign["references"].map(len).gt(0).all()
    assert raw["prompt"].is_unique


def test_reward_split_is_carved_from_train_and_leaves_test_alone():
    plain = build_prompt_table(_raw(), 0.25, None, None, seed=1)
    table = build_prompt_table(_raw(), 0.25, None, None, seed=1, reward_fraction=0.2)
    assert table["split"].value_counts().to_dict() == {"train": 55, "test": 25, "reward": 20}
    assert (table.loc[table.split == "reward", "category"] == "benign/x").sum() == 8
    test = set(table.loc[table.split == "test", "prompt"])
    assert test == set(plain.loc[plain.split == "test", "prompt"])
    capped = build_prompt_table(_raw(), 0.25, max_train=7, max_test=3, seed=1, reward_fraction=0.2)
    assert capped["split"].value_counts().to_dict() == {"train": 7, "test": 3, "reward": 20}
