"""Hub-ready model folders: an evaluated adapter's files, a tokenizer and a model card
(paretohqd/publishing/cards.py) in a folder that ``PeftModel.from_pretrained`` and the hub take
as is."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd
import pyarrow.parquet as pq

from paretohqd.publishing.cards import DataSet, Reward

# PEFT's placeholder card (replaced by ours) and the trainer's pickled arguments (not needed to
# load the adapter, and a pickle)
SKIPPED = frozenset({"README.md", "training_args.bin"})
TOKENIZER_CONFIG = "tokenizer_config.json"


def copy_adapter(adapter: Path, folder: Path, base_model: str) -> None:
    """Copy the adapter's files into ``folder``; its config names ``base_model`` (what the card
    names) instead of the path it was trained from."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(adapter.iterdir()):
        if path.is_file() and path.name not in SKIPPED:
            shutil.copy2(path, folder / path.name)
    config_path = folder / "adapter_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["base_model_name_or_path"] = base_model
    config_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


def ensure_tokenizer(folder: Path, base_model: str) -> bool:
    """Save ``base_model``'s tokenizer into ``folder`` unless it has one; whether it did."""
    if (folder / TOKENIZER_CONFIG).is_file():
        return False
    from transformers import AutoTokenizer

    AutoTokenizer.from_pretrained(base_model).save_pretrained(str(folder))
    return True


def data_set(label: str, path: str, objectives: Sequence[str]) -> DataSet:
    """A training table's size and the mean of each objective column it has."""
    columns = [o for o in objectives if o in pq.read_schema(path).names]
    means = pd.read_parquet(path, columns=columns).mean() if columns else {}
    return DataSet(label=label, path=path, rows=pq.ParquetFile(path).metadata.num_rows,
                   means={o: float(means[o]) for o in columns})


def measured_rewards(front: pd.DataFrame, method: str, pref_id: str,
                     objectives: Sequence[str]) -> tuple[dict[str, Reward], pd.Series]:
    """A model's mean reward and standard error per objective, and its front.csv row."""
    rows = front[(front["method"] == method) & (front["pref_id"].astype(str) == pref_id)]
    if len(rows) != 1:
        raise ValueError(f"front.csv has {len(rows)} rows for ({method}, {pref_id}), not 1")
    row = rows.iloc[0]
    return {o: Reward(float(row[o]), float(row[f"se_{o}"])) for o in objectives}, row


def model_folder(root: Path, method: str, seed: int, pref_id: str) -> Path:
    """``<root>/<method>/seed<seed>/<pref>``: where one evaluated adapter is published."""
    return root / method / f"seed{seed}" / pref_id


def training_sets(data: Mapping[str, str], objectives: Sequence[str]) -> list[DataSet]:
    """Every registered training set of a model (label -> table path)."""
    return [data_set(label, path, objectives) for label, path in data.items()]
