"""The key/value cache of the prompt template's shared beginning, per blend of adapters.

A chat template puts the same tokens before every conversation (the default's system prompt
and the user turn's header: 24 of the serving benchmark's 44 prompt tokens), and a prompt's
first pass was a fifth of a 16-row batch's time on a CPU. Their keys and values depend on the row's adapters
(LoRA changes every layer), so the cache holds them per blend, computed by the first row of
that blend and reused by every later one; a prompt that does not begin with the shared tokens
(its own system message) runs whole.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Hashable, Sequence

import torch

KeysValues = list[tuple[torch.Tensor, torch.Tensor]]  # per layer: (1, heads, tokens, dim) each


class PrefixCache:
    """The shared prefix ``tokens`` and its keys and values for up to ``capacity`` blends,
    least recently used out first."""

    def __init__(self, tokens: Sequence[int], capacity: int = 64) -> None:
        if capacity < 1:
            raise ValueError(f"prefix cache capacity {capacity}: must be >= 1")
        self.tokens, self.capacity = list(tokens), capacity
        self._held: OrderedDict[Hashable, KeysValues] = OrderedDict()
        self.hits = self.misses = 0

    def covers(self, prompt: Sequence[int]) -> bool:
        """Whether ``prompt`` begins with the prefix and has tokens of its own after it."""
        return bool(self.tokens) and len(prompt) > len(self.tokens) and \
            list(prompt[:len(self.tokens)]) == self.tokens

    def get(self, key: Hashable) -> KeysValues | None:
        """The prefix's keys and values for the blend ``key``, if held."""
        held = self._held.get(key)
        if held is None:
            self.misses += 1
            return None
        self.hits += 1
        self._held.move_to_end(key)
        return held

    def put(self, key: Hashable, keys_values: KeysValues) -> None:
        """Hold the prefix's keys and values for the blend ``key``."""
        self._held[key] = keys_values
        self._held.move_to_end(key)
        while len(self._held) > self.capacity:
            self._held.popitem(last=False)
