import pandas as pd
import pytest

from paretohqd.io import DataError, atomic_path, read_json, read_table, write_json, write_table


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.parquet"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash")
    assert list(tmp_path.iterdir()) == []


def test_read_table_errors_name_the_culprit(tmp_path):
    with pytest.raises(DataError, match="missing.parquet: file not found"):
        read_table(tmp_path / "missing.parquet")
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet")
    with pytest.raises(DataError, match="bad.parquet: cannot be parsed"):
        read_table(bad)
    path = tmp_path / "t.parquet"
    write_table(pd.DataFrame({"prompt": ["a", " "], "x": [1, 2]}), path)
    with pytest.raises(DataError, match=r"missing required column\(s\) \['response'\]"):
        read_table(path, required=["prompt", "response"])
    with pytest.raises(DataError, match=r"column 'prompt' is empty in row\(s\) \[1\]"):
        read_table(path, nonempty_text=["prompt"])
    empty = tmp_path / "empty.parquet"
    write_table(pd.DataFrame({"prompt": []}), empty)
    with pytest.raises(DataError, match=r"empty\.parquet: has no rows$"):
        read_table(empty)


def test_duplicate_rows_are_named(tmp_path):
    path = tmp_path / "dup.parquet"
    write_table(pd.DataFrame({"row_id": ["a", "b", "a"], "x": [1, 2, 3]}), path)
    with pytest.raises(DataError, match=r"dup.parquet: duplicate rows \[0, 2\] \(same \['row_id'\]\)"):
        read_table(path, unique=["row_id"])


def test_read_json_round_trip_and_errors_name_the_file(tmp_path):
    path = tmp_path / "stats.json"
    write_json({"rows": 3, "rewards": {"a": {"min": -1.5}}}, path)
    assert read_json(path) == {"rows": 3, "rewards": {"a": {"min": -1.5}}}
    with pytest.raises(DataError, match="missing.json: file not found"):
        read_json(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(DataError, match="bad.json: cannot be parsed"):
        read_json(tmp_path / "bad.json")
