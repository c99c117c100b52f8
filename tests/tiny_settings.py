"""Settings for the unit tests' tiny models, built as the workflow builds them (``from_config``
on the schema-validated embedded default), sized down and on CPU in float32."""

from __future__ import annotations

from paretohqd.config import load_config, merge_config
from paretohqd.policy.generation import SamplingSettings
from workflow_runner import ROOT

TINY_SFT = {"batch_size": 2, "learning_rate": 1e-3, "lora_r": 4, "lora_alpha": 8,
            "max_length": 64, "save_steps": 1}


def tiny_config(**overlay: dict) -> dict:
    """config/config.yaml with schema defaults, CPU float32, seed 0 and a tiny LoRA, with
    ``overlay``'s sections merged in."""
    config = load_config([ROOT / "config/config.yaml"], ROOT / "schemas/config.schema.yaml")
    tiny = merge_config(config, {"seed": 0, "device": "cpu", "dtype": "float32",
                                 "sft": TINY_SFT})
    return merge_config(tiny, overlay)


def tiny_sampling(**fields) -> SamplingSettings:
    """The default's generation sampling, short and in small batches."""
    sampling = {**tiny_config()["generation"], "max_new_tokens": 4, "batch_size": 2, **fields}
    return SamplingSettings(seed=sampling.pop("seed", 0), **sampling)
