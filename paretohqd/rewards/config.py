"""The settings of reward-model training (``reward_training`` section), built from the config
like the trainers' settings (paretohqd/policy/config.py). Light module: the workflow imports it
while parsing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RewardTrainingSettings:
    """Fine-tuning of a workflow-trained reward model (``reward_training`` section)."""

    epochs: float
    learning_rate: float
    batch_size: int
    max_length: int
    seed: int
    device: str
    dtype: str

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> RewardTrainingSettings:
        """The trainer's part of ``reward_training`` (its data keys stay rule params); mixed
        precision in the top-level ``dtype``."""
        section = config["reward_training"]
        keys = ("epochs", "learning_rate", "batch_size", "max_length")
        return cls(**{key: section[key] for key in keys}, seed=config["seed"],
                   device=config["device"], dtype=config["dtype"])
