"""A trained run's model for any preference: the chosen adapters (``Served.choose``) merged
into the base model, answering prompts or written out as a stand-alone model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import torch
from transformers import AutoTokenizer, PreTrainedModel

from paretohqd.assets import check_model_source
from paretohqd.policy.generation import SamplingSettings, load_tokenizer, sample_responses
from paretohqd.io import atomic_new_dir
from paretohqd.policy.merging import merge_adapters

EXPORT_INFO = "paretohqd_export.json"  # what an exported model is, beside its weights


def merged_model(base_model: str | PreTrainedModel, chosen: Sequence[dict]):
    """The base model (a path, loaded in float32, or a loaded model, changed in place) with the
    chosen adapters merged in at their ``merge_weight`` (a plain ``transformers`` model):
    ``merge_adapters``, then folded into the weights."""
    base = (check_model_source(base_model, "base model") if isinstance(base_model, str)
            else base_model)
    return merge_adapters(base, [a["path"] for a in chosen],
                          [a["merge_weight"] for a in chosen]).merge_and_unload()


def answer(base_model: str, chosen: Sequence[dict], prompts: Sequence[str],
           settings: SamplingSettings, prompt_format: str, device: torch.device,
           dtype: torch.dtype) -> list[str]:
    """One sampled answer per prompt from the merged model."""
    policy = merged_model(base_model, chosen).to(device=device, dtype=dtype).eval()
    tokenizer = load_tokenizer(chosen[0]["path"])
    return [samples[0] for samples in
            sample_responses(policy, tokenizer, prompts, 1, settings, prompt_format)]


def export_merged(base_model: str, chosen: Sequence[dict], output: Path, dtype: torch.dtype,
                  info: dict) -> None:
    """Write the merged model, its tokenizer and ``info`` (``EXPORT_INFO``) to ``output``,
    atomically: a failure leaves nothing there, not even the folders made to hold it."""
    model = merged_model(base_model, chosen).to(dtype)
    tokenizer = AutoTokenizer.from_pretrained(chosen[0]["path"])
    with atomic_new_dir(output) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / EXPORT_INFO).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
