"""Atomic writes and validated reads of the workflow's tables and JSON files."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

# the parquet schema metadata key under which a table records what produced it
PROVENANCE_KEY = b"paretohqd.provenance"


class DataError(ValueError):
    """A data file is missing, unreadable or malformed; the message names file, column, row."""


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it into place only if the block succeeds,
    so a crash never leaves a half-written file that a later run would trust."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; rename it to ``path`` only if the block
    succeeds (``path`` must not exist, or be an empty folder), else delete it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        yield tmp
        if path.is_dir():
            path.rmdir()  # empty, or this raises and nothing is replaced
        os.rename(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


@contextmanager
def atomic_new_dir(path: str | Path) -> Iterator[Path]:
    """``atomic_dir``, and on failure also remove the parent folders it made for ``path``:
    a failure leaves nothing there."""
    made = [folder for folder in Path(path).absolute().parents if not folder.exists()]
    try:
        with atomic_dir(path) as tmp:
            yield tmp
    except BaseException:
        for folder in made:  # innermost first; atomic_dir has removed its temporary folder
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def write_table(frame: pd.DataFrame, path: str | Path,
                provenance: dict[str, Any] | None = None) -> None:
    """Write a parquet table atomically; ``provenance`` (JSON-able: what produced the rows) goes
    into the file's schema metadata, where ``read_provenance`` finds it."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if provenance is not None:
        metadata = {**(table.schema.metadata or {}), PROVENANCE_KEY: json.dumps(provenance)}
        table = table.replace_schema_metadata(metadata)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def read_provenance(path: str | Path) -> dict[str, Any] | None:
    """What produced a table written by ``write_table`` (None if it recorded nothing)."""
    metadata = pq.read_schema(path).metadata or {}
    return json.loads(metadata[PROVENANCE_KEY]) if PROVENANCE_KEY in metadata else None


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes (hex)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def write_json(data: Any, path: str | Path) -> None:
    """Write indented JSON atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")


def read_json(path: str | Path) -> Any:
    """Read a JSON file written by ``write_json``; errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DataError(f"{path}: cannot be parsed ({err})") from err


def read_table(path: str | Path, required: Sequence[str] = (),
               nonempty_text: Sequence[str] = (), unique: Sequence[str] = ()) -> pd.DataFrame:
    """Read a parquet or CSV table and check it: it exists, parses, has rows, has the
    ``required`` columns, the ``nonempty_text`` columns hold no empty strings, and no two rows
    share their ``unique`` columns."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        frame = pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)
    except Exception as err:  # the parsers raise many types; the file is the culprit either way
        raise DataError(f"{path}: cannot be parsed ({type(err).__name__}: {err})") from err
    if frame.empty:
        raise DataError(f"{path}: has no rows")
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing required column(s) {missing}; has {list(frame.columns)}")
    for column in nonempty_text:
        blank = frame.index[frame[column].fillna("").astype(str).str.strip() == ""]
        if len(blank):
            raise DataError(f"{path}: column {column!r} is empty in row(s) {list(blank[:10])}")
    if unique:
        repeated = frame.index[frame.duplicated(list(unique), keep=False)]
        if len(repeated):
            raise DataError(f"{path}: duplicate rows {list(repeated[:10])} (same "
                            f"{list(unique)})")
    return frame


def read_scores(path: str | Path, objective: str) -> pd.DataFrame:
    """Read a ``row_id, score`` table as ``objective``'s scores; refuse one whose metadata names
    another objective's scorer, or no scorer (paretohqd.rewards.scoring writes it)."""
    frame = read_table(path, required=["row_id", "score"], unique=["row_id"])
    scorer = read_provenance(path) or {}
    if "objective" not in scorer:
        raise DataError(f"{path}: read as objective {objective!r}'s scores but records no "
                        "scorer (written before score tables recorded theirs): delete it and "
                        "run the workflow again to re-score its answers")
    if scorer["objective"] != objective:
        raise DataError(f"{path}: read as objective {objective!r}'s scores but scored by "
                        f"objective {scorer['objective']!r}'s scorer ({scorer.get('kind')} "
                        f"{scorer.get('model')})")
    return frame
