"""Settings for the unit tests' tiny models, built as the workflow builds them (``from_config``
on the schema-validated embedded default), sized down and on CPU in float32."""

from __future__ import annotations

import yaml
from snakemake.utils import validate

from paretohqd.policy.generation import SamplingSettings
from workflow_runner import ROOT

TINY_SFT = {"batch_size": 2, "learning_rate": 1e-3, "lora_r": 4, "lora_alpha": 8,
            "max_length": 64, "save_steps": 1}


def merge(base: dict, overlay: dict) -> dict:
    """``base`` with ``overlay``'s keys, nested sections merged key by key."""
    return {**base, **{key: merge(base.get(key, {}), value) if isinstance(value, dict) else value
                       for key, value in overlay.items()}}


def tiny_config(**overlay: dict) -> dict:
    """config/config.yaml with schema defaults, CPU float32, seed 0 and a tiny LoRA, with
    ``overlay``'s sections merged in."""
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    validate(config, str(ROOT / "schemas/config.schema.yaml"))
    tiny = merge(config, {"seed": 0, "device": "cpu", "dtype": "float32", "sft": TINY_SFT})
    return merge(tiny, overlay)


def tiny_sampling(**fields) -> SamplingSettings:
    """The default's generation sampling, short and in small batches."""
    sampling = {**tiny_config()["generation"], "max_new_tokens": 4, "batch_size": 2, **fields}
    return SamplingSettings(seed=sampling.pop("seed", 0), **sampling)
