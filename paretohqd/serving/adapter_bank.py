"""The adapters behind ``paretohqd serve``: the base model loaded once, in the serving dtype, and
LoRA adapters beside it, never model copies.

Each trained adapter is loaded on first use and the least recently used are dropped past
``capacity``. A preference is a ``Blend`` of trained adapters at merge weights: its nearest
trained adapter at weight 1, or its interpolating neighbours at theirs (the exact update of
PEFT's ``cat`` combination, as ``merge_adapters`` builds it), so an interpolated preference
holds no weights of its own. One forward pass serves rows with different blends
(``row_lora.RowLoRA``), so a batch may mix every preference asked.

Not thread-safe: one thread (the scheduler's) loads adapters and runs the model.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

import torch
from transformers import AutoModelForCausalLM

from paretohqd.assets import check_model_source
from paretohqd.serving.row_lora import Blend, LoRA, RowLoRA, load_lora


class AdapterBank:
    """The base model with the trained adapters that requests name, ``capacity`` at most
    (besides those a running batch pins)."""

    def __init__(self, base_model: str, device: torch.device, dtype: torch.dtype,
                 capacity: int = 16) -> None:
        if capacity < 1:
            raise ValueError(f"adapter capacity {capacity}: must be >= 1")
        self.device, self.dtype, self.capacity = device, dtype, capacity
        self.base = AutoModelForCausalLM.from_pretrained(
            check_model_source(base_model, "base model"), dtype=dtype).to(device).eval()
        self.rows = RowLoRA(self.base)
        self._held: OrderedDict[str, LoRA] = OrderedDict()  # least recently used first
        self.hits = self.misses = 0

    def adapter(self, chosen: Sequence[dict], pinned: set[int] = frozenset()) -> Blend | None:
        """The blend serving ``chosen`` (None: no adapters, the base model alone), its trained
        adapters loaded when they are not held; then drops the least recently used adapters
        beyond ``capacity``, never those whose ``id`` is in ``pinned``, nor the blend's."""
        if not chosen:
            return None
        parts: list[tuple[LoRA, float]] = []
        for a in chosen:
            lora = self._trained(a["path"])
            parts.append((lora, float(a["merge_weight"])))
        self.trim(set(pinned) | {id(lora) for lora, _ in parts})
        key = tuple(sorted((a["path"], weight) for a, (_, weight) in zip(chosen, parts)))
        return Blend(tuple(parts), key)

    def _trained(self, path: str) -> LoRA:
        """The trained adapter at ``path``, loaded on first use."""
        if path in self._held:
            self.hits += 1
            self._held.move_to_end(path)
            return self._held[path]
        self.misses += 1
        lora = load_lora(path, self.dtype, self.device)
        self.rows.wrap(list(lora.layers))
        self._held[path] = lora
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
