"""The settings every LoRA trainer here shares, and those of LoRA SFT; each method's trainer
settings derive from ``TrainerSettings`` in its own ``paretohqd/methods/<name>/config.py``.

One settings type per trainer, each built from its config section in ``from_config``. The schema
(schemas/config.schema.yaml) holds every default: ``snakemake.utils.validate`` fills them into
the config, so these types have none. Rules pass ``dataclasses.asdict`` of a settings object as
a param (plain values, which Snakemake's params trigger can compare) and scripts rebuild it with
``Type(**params)``. Light module: the workflow imports it while parsing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Config = dict[str, Any]
ALL_LINEAR = "all-linear"


@dataclass(frozen=True)
class TrainerSettings:
    """What every LoRA trainer here shares: optimiser steps and batch, learning rate and its
    schedule, the LoRA (rank, alpha, dropout and the layers it adapts: ``ALL_LINEAR`` or module
    names), checkpoint interval, seed, device and dtype (``sft`` section, top-level
    device/dtype; the seed is the training seed of the job, one of ``seeds``)."""

    steps: int
    batch_size: int
    learning_rate: float
    lr_scheduler: str
    lora_r: int
    lora_alpha: int
    lora_dropout: float
    lora_target_modules: str | list[str]
    save_steps: int
    seed: int
    device: str
    dtype: str


def trainer_fields(config: Config, steps: int, seed: int) -> dict[str, Any]:
    """The shared fields from the config, with a trainer's own ``steps`` and training ``seed``."""
    sft = config["sft"]
    keys = ("batch_size", "learning_rate", "lr_scheduler", "lora_r", "lora_alpha", "lora_dropout",
            "lora_target_modules", "save_steps")
    return {"steps": steps, **{key: sft[key] for key in keys}, "seed": seed,
            "device": config["device"], "dtype": config["dtype"]}


@dataclass(frozen=True)
class SFTSettings(TrainerSettings):
    """LoRA SFT (TRL's SFTTrainer): ``max_length`` tokens per example."""

    max_length: int

    @classmethod
    def from_config(cls, config: Config, steps: int, seed: int) -> SFTSettings:
        """The ``sft`` section with ``steps`` (each SFT rule says whose steps it trains) and the
        training ``seed``."""
        return cls(**trainer_fields(config, steps, seed),
                   max_length=config["sft"]["max_length"])
