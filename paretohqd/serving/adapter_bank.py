"""The adapters behind ``paretohqd serve``: the base model loaded once, in the serving dtype, and
LoRA adapters beside it, never model copies.

Each trained adapter is loaded on first use; an interpolated preference is one more adapter,
the exact weighted mix of its neighbours (``row_lora.mix``: PEFT's ``cat`` combination, as
``merge_adapters`` builds it, a LoRA of the summed rank). The least recently used adapters are
dropped past ``capacity``. One forward pass serves rows with different adapters
(``row_lora.RowLoRA``), so a batch may mix every preference asked.

Not thread-safe: one thread (the scheduler's) loads adapters and runs the model.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Hashable, Sequence

import torch
from transformers import AutoModelForCausalLM

from paretohqd.assets import check_model_source
from paretohqd.serving.row_lora import LoRA, RowLoRA, load_lora, mix


def adapter_key(chosen: Sequence[dict]) -> Hashable:
    """What identifies the adapter serving ``chosen`` (``Served.choose``'s entries): its
    trained adapters' paths and merge weights."""
    return tuple(sorted((a["path"], round(float(a["merge_weight"]), 12)) for a in chosen))


class AdapterBank:
    """The base model with the adapters that requests name, ``capacity`` at most (besides
    those a running batch pins)."""

    def __init__(self, base_model: str, device: torch.device, dtype: torch.dtype,
                 capacity: int = 16) -> None:
        if capacity < 1:
            raise ValueError(f"adapter capacity {capacity}: must be >= 1")
        self.device, self.dtype, self.capacity = device, dtype, capacity
        self.base = AutoModelForCausalLM.from_pretrained(
            check_model_source(base_model, "base model"), dtype=dtype).to(device).eval()
        self.rows = RowLoRA(self.base)
        self._held: OrderedDict[Hashable, LoRA] = OrderedDict()  # least recently used first
        self.hits = self.misses = 0

    def adapter(self, chosen: Sequence[dict], pinned: set[int] = frozenset()) -> LoRA | None:
        """The adapter serving ``chosen``, loaded or mixed when it is not held (None: no
        adapters, the base model alone); then drops the least recently used adapters beyond
        ``capacity``, never those whose ``id`` is in ``pinned``, nor the one returned."""
        if not chosen:
            return None
        key = adapter_key(chosen)
        if key in self._held:
            self.hits += 1
            self._held.move_to_end(key)
            return self._held[key]
        self.misses += 1
        if len(chosen) == 1 and float(chosen[0]["merge_weight"]) == 1.0:
            lora = load_lora(chosen[0]["path"], self.dtype, self.device)
        else:
            parts: list[LoRA] = []
            for a in chosen:  # each part stays pinned until the mix is made
                parts.append(self.adapter([{**a, "merge_weight": 1.0}],
                                          set(pinned) | {id(p) for p in parts}))
            lora = mix(parts, [float(a["merge_weight"]) for a in chosen])
        self.rows.wrap(list(lora.layers))
        self._held[key] = lora
        self.trim(set(pinned) | {id(lora)})
        return lora

    def trim(self, pinned: set[int] = frozenset()) -> None:
        """Drop the least recently used adapters beyond ``capacity``, but those whose ``id`` is
        in ``pinned`` (a batch may pin more than ``capacity``)."""
        for key in list(self._held):
            if len(self._held) <= self.capacity:
                return
            lora = self._held[key]
            if id(lora) not in pinned:
                self.rows.forget(lora)
                del self._held[key]

    def adapter_bytes(self) -> list[int]:
        """The bytes of each held adapter's weights, least recently used first."""
        return [lora.nbytes() for lora in self._held.values()]

    def cache_info(self) -> dict[str, int]:
        """Hits, misses, and the adapters held now and at most."""
        return {"hits": self.hits, "misses": self.misses, "size": len(self._held),
                "max_size": self.capacity}
