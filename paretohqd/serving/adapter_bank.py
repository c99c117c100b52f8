"""The adapters behind ``paretohqd serve``: the base model loaded once, in the serving dtype, and
LoRA adapters on it, never model copies.

Each trained adapter is loaded on first use; an interpolated preference is registered as one
more adapter, the exact weighted mix of its neighbours (PEFT's ``cat`` combination, as
``merge_adapters`` builds it: its delta is sum_i w_i B_i A_i, a LoRA of the summed rank). The
least recently used adapters are dropped past ``capacity``. One forward pass serves rows with
different adapters (PEFT's ``adapter_names``), so a batch may mix every preference asked.

Not thread-safe: one thread (the scheduler's) loads adapters and runs the model.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Hashable, Sequence

import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM

from paretohqd.assets import check_model_source

BASE = "__base__"  # PEFT's adapter name for a row that the base model alone answers


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
        self.model: PeftModel | None = None  # the base wrapped once the first adapter loads
        self._names: OrderedDict[Hashable, str] = OrderedDict()  # least recently used first
        self._serial = 0
        self.hits = self.misses = 0

    def forward_model(self):
        """The model a batch runs: the PEFT wrapper once an adapter is loaded, else the base."""
        return self.model if self.model is not None else self.base

    def _new_name(self) -> str:
        self._serial += 1
        return f"a{self._serial}"

    def _load(self, path: str) -> str:
        name = self._new_name()
        if self.model is None:
            self.model = PeftModel.from_pretrained(self.base, path, adapter_name=name)
        else:
            self.model.load_adapter(path, adapter_name=name)
        self.model.eval()  # a new adapter's dropout would otherwise draw at random
        return name

    def adapter(self, chosen: Sequence[dict], pinned: set[str] = frozenset()) -> str:
        """The name of the adapter serving ``chosen``, loading or mixing it when it is not held;
        then drops the least recently used adapters beyond ``capacity`` (never ``pinned``
        ones, nor the one returned). No adapters: ``BASE``, the base model alone."""
        if not chosen:
            return BASE
        key = adapter_key(chosen)
        if key in self._names:
            self.hits += 1
            self._names.move_to_end(key)
            return self._names[key]
        self.misses += 1
        if len(chosen) == 1 and float(chosen[0]["merge_weight"]) == 1.0:
            name = self._load(chosen[0]["path"])
        else:
            parts: list[str] = []
            for a in chosen:  # each part stays pinned until the mix is made
                parts.append(self.adapter([{**a, "merge_weight": 1.0}], pinned | set(parts)))
            name = self._new_name()
            self.model.add_weighted_adapter(parts, [float(a["merge_weight"]) for a in chosen],
                                            adapter_name=name, combination_type="cat")
            self.model.eval()
        self._names[key] = name
        self._evict(pinned | {name})
        return name

    def trim(self, pinned: set[str] = frozenset()) -> None:
        """Drop the least recently used adapters beyond ``capacity``, but ``pinned`` ones (a
        batch may have pinned more than ``capacity``)."""
        self._evict(set(pinned))

    def _evict(self, keep: set[str]) -> None:
        for key in list(self._names):
            if len(self._names) <= self.capacity:
                return
            name = self._names[key]
            if name not in keep:
                self.model.delete_adapter(name)
                del self._names[key]

    def adapter_bytes(self) -> dict[str, int]:
        """The bytes of each held adapter's weights, by name."""
        sizes = dict.fromkeys(self._names.values(), 0)
        if self.model is not None:
            for param_name, param in self.model.named_parameters():
                for part in param_name.split("."):
                    if part in sizes:
                        sizes[part] += param.numel() * param.element_size()
                        break
        return sizes

    def cache_info(self) -> dict[str, int]:
        """Hits, misses, and the adapters held now and at most."""
        return {"hits": self.hits, "misses": self.misses, "size": len(self._names),
                "max_size": self.capacity}
