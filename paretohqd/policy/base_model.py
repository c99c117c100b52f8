"""Turn a GGUF checkpoint into a plain Hugging Face model folder, once."""

from __future__ import annotations

import copy
from pathlib import Path

import torch
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

from paretohqd.assets import resolve_model_source


def convert_gguf(source: str, gguf_file: str, output_dir: Path,
                 dtype: torch.dtype = torch.bfloat16) -> None:
    """Dequantise ``gguf_file`` in ``source`` (a folder, or ``package:<name>``) and save it with
    its tokenizer (chat template and eos included) as a regular ``from_pretrained`` folder.

    A GGUF-loaded model refuses ``save_pretrained``, so the weights are moved into a fresh model
    built from the same config without its ``quantization_config``.
    """
    folder = resolve_model_source(source)
    if not (Path(folder) / gguf_file).is_file():
        raise FileNotFoundError(f"GGUF file {gguf_file!r} not found in {folder}")
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=gguf_file)
    # Parsing the GGUF metadata takes seconds: parse the config once and hand it to the loader.
    loaded_config = AutoConfig.from_pretrained(folder, gguf_file=gguf_file)
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf_file,
                                                  config=loaded_config, dtype=torch.float32)
    config = copy.deepcopy(loaded.config)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())
    model.generation_config = loaded.generation_config
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    output_dir.mkdir(parents=True, exist_ok=True)
    model.to(dtype).save_pretrained(output_dir)
    tokenizer.save_pretrained(output_dir)
