"""Rewarded soups: interpolate per-objective LoRA adapters with the preference weights."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer

SOUP = "default"  # saved at the folder's root, so it loads like any other adapter


def soup_adapter(base_model: str, adapters: Sequence[str], weights: Sequence[float],
                 output_dir: Path) -> None:
    """Write the LoRA adapter whose weight update is ``sum_i w_i * B_i A_i`` (PEFT's ``cat``
    combination: exact weight interpolation of the per-objective fine-tunes)."""
    if len(adapters) != len(weights):
        raise ValueError(f"{len(adapters)} adapters but {len(weights)} weights")
    model = AutoModelForCausalLM.from_pretrained(base_model, dtype=torch.float32)
    names = [f"objective_{i}" for i in range(len(adapters))]
    peft = PeftModel.from_pretrained(model, adapters[0], adapter_name=names[0])
    for name, path in zip(names[1:], adapters[1:]):
        peft.load_adapter(path, adapter_name=name)
    peft.add_weighted_adapter(names, [float(w) for w in weights], adapter_name=SOUP,
                              combination_type="cat")
    for name in names:
        peft.delete_adapter(name)
    output_dir.mkdir(parents=True, exist_ok=True)
    peft.save_pretrained(str(output_dir), selected_adapters=[SOUP])
    AutoTokenizer.from_pretrained(adapters[0]).save_pretrained(str(output_dir))
