import pandas as pd
import pytest

from paretohqd.data.offline import (BASE_MODEL, drop_empty_responses, merge_scores, response_rows,
                               shard_prompts)


def _prompts(n=7):
    return pd.DataFrame({"prompt_id": [f"id{i}" for i in range(n)],
                         "prompt": [f"p{i}" for i in range(n)],
                         "references": [[f"r{i}"] if i % 2 else [] for i in range(n)],
                         "split": ["train"] * (n - 1) + ["test"]})


def test_shards_partition_train_prompts():
    prompts = _prompts()
    parts = [shard_prompts(prompts, s, 3) for s in range(3)]
    ids = [i for part in parts for i in part["prompt_id"]]
    assert sorted(ids) == [f"id{i}" for i in range(6)]
    with pytest.raises(ValueError, match=r"^shard 3 is outside 0\.\.2$"):
        shard_prompts(prompts, 3, 3)


def test_response_rows_have_stable_ids():
    prompts = _prompts(3)
    rows = response_rows(prompts, [["a", "b"], ["c", "d"], ["e", "f"]], BASE_MODEL,
                         include_references=True)
    assert rows["row_id"].tolist() == ["id0-b0", "id0-b1", "id1-h0", "id1-b0", "id1-b1",
                                       "id2-b0", "id2-b1"]
    assert rows.loc[rows.row_id == "id1-h0", "source"].item() == "human"


def test_merge_scores_requires_every_row():
    rows = response_rows(_prompts(2), [["a"], ["b"]], BASE_MODEL)
    good = pd.DataFrame({"row_id": ["id1-b0", "id0-b0"], "score": [2.0, 1.0]})
    merged = merge_scores(rows, {"x": good})
    assert merged.set_index("row_id")["x"].to_dict() == {"id0-b0": 1.0, "id1-b0": 2.0}
    with pytest.raises(ValueError, match="'y' has no score for rows \\['id1-b0'\\]"):
        merge_scores(rows, {"y": good.iloc[1:]})


def test_only_empty_generations_are_an_error_naming_the_output():
    rows = response_rows(pd.DataFrame({"prompt_id": ["p1", "p2"], "prompt": ["a", "b"],
                                       "references": [[], []]}), [[" ", ""], ["\n", "ok"]],
                         source="p100_000")
    assert drop_empty_responses(rows, "pool.parquet")["response"].tolist() == ["ok"]
    with pytest.raises(ValueError, match=r"pool.parquet: generation yielded no non-empty "
                                         r"response for 2 prompts \(3 samples\)"):
        drop_empty_responses(rows[rows["response"] != "ok"], "pool.parquet")
