"""Weighted interpolation of LoRA adapters: Rewarded Soups' per-preference models, and models
between trained preferences (the ``interpolate`` rule, the ``paretohqd`` CLI)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel

SOUP = "default"  # saved at the folder's root, so it loads like any other adapter


def merge_adapters(base_model: str | PreTrainedModel, adapters: Sequence[str],
                   weights: Sequence[float]) -> PeftModel:
    """The base model (a path, loaded in float32, or a loaded model, which is changed in place)
    with one active adapter whose weight update is ``sum_i w_i * B_i A_i`` (PEFT's ``cat``
    combination: exact weight interpolation)."""
    if len(adapters) != len(weights):
        raise ValueError(f"{len(adapters)} adapters but {len(weights)} weights")
    model = (AutoModelForCausalLM.from_pretrained(base_model, dtype=torch.float32)
             if isinstance(base_model, str) else base_model)
    names = [f"adapter_{i}" for i in range(len(adapters))]
    peft = PeftModel.from_pretrained(model, adapters[0], adapter_name=names[0])
    for name, path in zip(names[1:], adapters[1:]):
        peft.load_adapter(path, adapter_name=name)
    peft.add_weighted_adapter(names, [float(w) for w in weights], adapter_name=SOUP,
                              combination_type="cat")
    peft.set_adapter(SOUP)
    for name in names:
        peft.delete_adapter(name)
    return peft


def soup_adapter(base_model: str, adapters: Sequence[str], weights: Sequence[float],
                 output_dir: Path) -> None:
    """Write the merged adapter of ``merge_adapters`` (and the first adapter's tokenizer)."""
    peft = merge_adapters(base_model, adapters, weights)
    output_dir.mkdir(parents=True, exist_ok=True)
    peft.save_pretrained(str(output_dir), selected_adapters=[SOUP])
    AutoTokenizer.from_pretrained(adapters[0]).save_pretrained(str(output_dir))
