"""LoRA adapters applied row by row in one batch: every row of a forward pass gets its own
blend of adapters' updates, with one pair of matrix products per layer whatever the number of
adapters or blends.

Why not PEFT's ``adapter_names``: it loops over the batch's adapters in every LoRA layer and
indexes their rows; on a CPU that made a 16-row step with one adapter 3.5x slower than the
merged model and with five adapters 6.6x. Here each wrapped linear layer holds the batch's
distinct trained adapters side by side, A = [A_1; ...; A_U] (summed rank R) and B = [s_1 B_1,
..., s_U B_U], and a mask gives each row the weight of each adapter on that adapter's rank
slice:

    y = W x + B (m_row * (A x))

Exact: a row blending adapters u at weights w_u gets sum_u w_u s_u B_u A_u x, the update of
PEFT's ``cat`` combination of those adapters (an interpolated preference); a trained
preference is one adapter at weight 1. An interpolated preference therefore costs no weights of
its own, and R counts each trained adapter once however many blends use it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import torch
from safetensors.torch import load_file
from torch import nn

CONFIG = "adapter_config.json"
WEIGHTS = "adapter_model.safetensors"
PREFIX = "base_model.model."  # PEFT's prefix of a saved adapter's weight names


def unsupported_features(config: dict[str, Any]) -> list[str]:
    """What in an ``adapter_config.json`` a plain LoRA server (this one, vLLM, TGI) does not
    apply as PEFT does: DoRA, ``modules_to_save``, biases, per-layer rank or alpha."""
    problems = []
    if config.get("peft_type") != "LORA":
        problems.append(f"peft_type {config.get('peft_type')!r} is not LORA")
    if config.get("use_dora"):
        problems.append("DoRA (use_dora)")
    if config.get("modules_to_save"):
        problems.append(f"modules_to_save {config['modules_to_save']}")
    if config.get("bias", "none") != "none":
        problems.append(f"bias {config['bias']!r}")
    for key in ("rank_pattern", "alpha_pattern"):
        if config.get(key):
            problems.append(f"a per-layer {key}")
    return problems


@dataclass(frozen=True)
class LoRA:
    """One adapter's update per linear layer (by module name): A (r, in) and B (out, r) with
    the scaling folded into B."""

    layers: dict[str, tuple[torch.Tensor, torch.Tensor]]

    def nbytes(self) -> int:
        """The bytes of its weights."""
        return sum(a.numel() * a.element_size() + b.numel() * b.element_size()
                   for a, b in self.layers.values())


def load_lora(path: str | Path, dtype: torch.dtype, device: torch.device) -> LoRA:
    """A saved PEFT LoRA adapter (``adapter_config.json`` and safetensors weights)."""
    path = Path(path)
    config = json.loads((path / CONFIG).read_text())
    problems = unsupported_features(config)
    if problems:
        raise ValueError(f"{path / CONFIG}: {', '.join(problems)}: not served (plain LoRA "
                         "only)")
    rank, alpha = config["r"], config["lora_alpha"]
    scaling = alpha / math.sqrt(rank) if config.get("use_rslora") else alpha / rank
    weights = load_file(str(path / WEIGHTS))
    layers = {}
    for key, a in weights.items():
        if not key.endswith(".lora_A.weight"):
            continue
        module = key.removeprefix(PREFIX).removesuffix(".lora_A.weight")
        b = weights[key.replace(".lora_A.", ".lora_B.")]
        layers[module] = (a.to(device=device, dtype=dtype),
                          (b.float() * scaling).to(device=device, dtype=dtype))
    if not layers:
        raise ValueError(f"{path / WEIGHTS}: no LoRA weights")
    return LoRA(layers)


@dataclass(frozen=True)
class Blend:
    """What one row adds to the base model: trained adapters at merge weights (a trained
    preference: its adapter at weight 1). ``key`` names it (its adapters' paths and weights)."""

    parts: tuple[tuple[LoRA, float], ...]
    key: tuple[tuple[str, float], ...]

    def adapters(self) -> list[LoRA]:
        """Its adapters."""
        return [lora for lora, _ in self.parts]


class RowLoRALinear(nn.Module):
    """A linear layer plus each row's LoRA update (``RowLoRA.use`` sets them)."""

    def __init__(self, base: nn.Linear) -> None:
        super().__init__()
        self.base = base
        self.a: torch.Tensor | None = None  # (R, in): the stacked adapters' A
        self.b: torch.Tensor | None = None  # (out, R)
        self.slots: torch.Tensor | None = None  # (R,): which stacked adapter a column is of
        self.mask: torch.Tensor | None = None  # (rows, 1, R): a row's weight of each column

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.base(x)
        if self.a is None:
            return y
        return y + ((x @ self.a.T) * self.mask) @ self.b.T


class RowLoRA:
    """A model whose linear layers take a blend of LoRA updates per row.

    The adapters stacked in the layers change only when a row needs one that is not stacked:
    an adapter whose rows have left stays (its columns masked off) until then, so rows leaving
    and joining cost a new mask, not a new stack.
    """

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.wrapped: dict[str, RowLoRALinear] = {}
        self.stacked: list[LoRA] = []

    def wrap(self, modules: Sequence[str]) -> None:
        """Wrap the named linear layers (those an adapter updates), once each."""
        for name in modules:
            if name in self.wrapped:
                continue
            parent, _, child = name.rpartition(".")
            owner = self.model.get_submodule(parent)
            layer = getattr(owner, child)
            if not isinstance(layer, nn.Linear):
                raise ValueError(f"LoRA on {name}: a {type(layer).__name__}, not a linear layer")
            self.wrapped[name] = RowLoRALinear(layer)
            setattr(owner, child, self.wrapped[name])
            self.stacked = []  # the new layer has no stack yet

    def _stack(self, adapters: list[LoRA]) -> None:
        self.stacked = adapters
        for name, layer in self.wrapped.items():
            present = [(slot, a) for slot, a in enumerate(adapters) if name in a.layers]
            if not present:
                layer.a = layer.b = layer.slots = None
                continue
            layer.a = torch.cat([a.layers[name][0] for _, a in present])
            layer.b = torch.cat([a.layers[name][1] for _, a in present], dim=1)
            layer.slots = torch.cat([torch.full((a.layers[name][0].shape[0],), slot,
                                                device=layer.a.device) for slot, a in present])

    def use(self, rows: Sequence[Blend | None]) -> None:
        """Give each row of the next forward passes its blend (None: the base model)."""
        distinct = list({id(a): a for blend in rows if blend is not None
                         for a in blend.adapters()}.values())
        stacked = {id(a) for a in self.stacked}
        if any(id(a) not in stacked for a in distinct):
            self._stack(distinct)
        slot_of = {id(a): slot for slot, a in enumerate(self.stacked)}
        weights = torch.zeros(len(rows), max(len(self.stacked), 1))  # (rows, adapters)
        for row, blend in enumerate(rows):
            for lora, weight in blend.parts if blend is not None else ():
                weights[row, slot_of[id(lora)]] += weight
        model = next(self.model.parameters())
        weights = weights.to(device=model.device, dtype=model.dtype)
        for layer in self.wrapped.values():
            if layer.a is not None:
                layer.mask = weights[:, layer.slots][:, None, :]

    def forget(self, adapter: LoRA) -> None:
        """Unstack ``adapter`` (it is being dropped) at the next ``use``."""
        if any(a is adapter for a in self.stacked):
            self.stacked = []
