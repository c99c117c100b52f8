"""Near-duplicate prompts: the one normalisation and similarity that every check keeping prompt
sets apart uses (held-out sets against the run's prompts and within themselves, the reward
models' and judges' label split).

Two texts are exact duplicates when their normalised forms are equal, and near duplicates when
the cosine similarity of their character n-gram TF-IDF vectors reaches a threshold
(rewordings, punctuation, spacing, a changed word or two).
"""

from __future__ import annotations

import re
from typing import Iterator, Sequence

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from sklearn.feature_extraction.text import TfidfVectorizer

NEAR_DUPLICATE = 0.8  # cosine of character 3-5-gram TF-IDF vectors
_WORDS = re.compile(r"[a-z0-9]+")
# cosine cells computed at once: bounds memory (float64) for large prompt sets
_BLOCK_CELLS = 1 << 24


def normalise(text: str) -> str:
    """Lower-case words and digits only: what an exact-duplicate check compares."""
    return " ".join(_WORDS.findall(text.lower()))


def _vectors(corpus: Sequence[str] | None, keys: Sequence[str], *more: Sequence[str]):
    """TF-IDF vectors (L2-normalised rows) of ``keys`` and of each of ``more``, weighted by the
    n-gram document frequencies of ``corpus`` (default: all of them)."""
    vectoriser = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    vectoriser.fit(corpus if corpus is not None
                   else [*keys, *(key for group in more for key in group)])
    return [vectoriser.transform(group) for group in (keys, *more)]


def _cosine_blocks(mine, theirs) -> Iterator[tuple[int, np.ndarray]]:
    """(first row, cosines of a block of ``mine``'s rows against every row of ``theirs``)."""
    rows = max(1, _BLOCK_CELLS // max(1, theirs.shape[0]))
    for start in range(0, mine.shape[0], rows):
        yield start, (mine[start:start + rows] @ theirs.T).toarray()


def best_matches(keys: Sequence[str], against: Sequence[str],
                 corpus: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For each normalised text of ``keys``: the highest cosine with any of ``against`` and
    that text's index (0 and -1 where ``against`` is empty). ``corpus``: the texts whose
    n-gram frequencies weight the vectors (default ``keys`` and ``against``)."""
    best = np.zeros(len(keys))
    where = np.full(len(keys), -1)
    if not len(keys) or not len(against):
        return best, where
    mine, theirs = _vectors(corpus, keys, against)
    for start, cosine in _cosine_blocks(mine, theirs):
        top = cosine.argmax(axis=1)
        best[start:start + len(top)] = cosine[np.arange(len(top)), top]
        where[start:start + len(top)] = top
    return best, where


def _near_pairs(keys: Sequence[str], threshold: float, corpus: Sequence[str] | None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, cosine) of every pair i > j of ``keys`` (normalised texts) at or above
    ``threshold``; equal non-empty keys always pair (an empty key has no words to compare)."""
    (vectors,) = _vectors(corpus, keys)
    first, second, value = [], [], []
    for start, cosine in _cosine_blocks(vectors, vectors):
        rows, cols = np.nonzero(cosine >= threshold)
        rows = rows + start
        earlier = cols < rows
        first.append(rows[earlier])
        second.append(cols[earlier])
        value.append(cosine[rows[earlier] - start, cols[earlier]])
    keys_array = np.asarray(keys, dtype=object)
    order = np.argsort(keys_array, kind="stable")
    equal = (keys_array[order][1:] == keys_array[order][:-1]) & (keys_array[order][1:] != "")
    first.append(np.maximum(order[1:], order[:-1])[equal])
    second.append(np.minimum(order[1:], order[:-1])[equal])
    value.append(np.ones(int(equal.sum())))
    return np.concatenate(first), np.concatenate(second), np.concatenate(value)


def near_duplicate_groups(texts: Sequence[str], threshold: float = NEAR_DUPLICATE,
                          corpus: Sequence[str] | None = None) -> np.ndarray:
    """A group number per text: texts joined by a chain of exact or near duplicates share one
    (connected components), so a split that keeps groups whole puts no near-duplicate pair on
    both sides. Numbered by each group's first text. ``corpus``: normalised texts whose n-gram
    frequencies weight the vectors (default: the texts)."""
    keys = [normalise(text) for text in texts]
    if not keys:
        return np.zeros(0, dtype=int)
    first, second, _ = _near_pairs(keys, threshold, corpus)
    graph = coo_matrix((np.ones(len(first)), (first, second)), shape=(len(keys), len(keys)))
    _, labels = connected_components(graph, directed=False)
    _, numbered = np.unique(labels, return_inverse=True)
    firsts = np.unique(labels, return_index=True)[1]
    return np.argsort(np.argsort(firsts))[numbered]


def first_of_near_duplicates(keys: Sequence[str], threshold: float = NEAR_DUPLICATE,
                             corpus: Sequence[str] | None = None
                             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Greedy deduplication of normalised texts in order: (kept mask, for each dropped text the
    index of the kept text it duplicates (-1 if kept), that pair's cosine). A text is kept
    unless an earlier kept text is an exact or near duplicate of it, so no two kept texts are
    (with the vectors weighted by ``corpus``, default the texts)."""
    kept = np.ones(len(keys), dtype=bool)
    match = np.full(len(keys), -1)
    cosine = np.zeros(len(keys))
    if not len(keys):
        return kept, match, cosine
    first, second, value = _near_pairs(keys, threshold, corpus)
    order = np.lexsort((second, first))  # by the later text, then the earlier one
    for i, j, c in zip(first[order], second[order], value[order]):
        if kept[i] and kept[j]:
            kept[i], match[i], cosine[i] = False, j, c
    return kept, match, cosine
