"""MODPO's trainer settings (``baselines.modpo``). Light module: the workflow imports it while
parsing."""

from __future__ import annotations

from dataclasses import dataclass

from paretohqd.policy.config import Config, TrainerSettings, trainer_fields


@dataclass(frozen=True)
class MODPOSettings(TrainerSettings):
    """MODPO (TRL's DPOTrainer with a margin): ``beta`` is the KL strength before division by
    the main objective's weight."""

    max_length: int
    beta: float

    @classmethod
    def from_config(cls, config: Config, seed: int) -> MODPOSettings:
        """``baselines.modpo`` (steps, beta) on the shared LoRA settings, training ``seed``."""
        modpo = config["baselines"]["modpo"]
        return cls(**trainer_fields(config, modpo["steps"], seed),
                   max_length=config["sft"]["max_length"], beta=modpo["beta"])
