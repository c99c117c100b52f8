"""One settings type per trainer, each built from its config section in ``from_config``.

The schema (schemas/config.schema.yaml) holds every default: ``snakemake.utils.validate`` fills
them into the config, so these types have none. Rules pass ``dataclasses.asdict`` of a
settings object as a param (plain values, which Snakemake's params trigger can compare) and
scripts rebuild it with ``Type(**params)``. Light module: the workflow imports it while parsing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Config = dict[str, Any]


@dataclass(frozen=True)
class TrainerSettings:
    """What every LoRA trainer here shares: optimiser steps and batch, learning rate and its
    schedule, the LoRA, checkpoint interval, seed, device and dtype (``sft`` section, top-level
    device/dtype; the seed is the training seed of the job, one of ``seeds``)."""

    steps: int
    batch_size: int
    learning_rate: float
    lr_scheduler: str
    lora_r: int
    lora_alpha: int
    lora_dropout: float
    save_steps: int
    seed: int
    device: str
    dtype: str


def _trainer_fields(config: Config, steps: int, seed: int) -> dict[str, Any]:
    """The shared fields from the config, with a trainer's own ``steps`` and training ``seed``."""
    sft = config["sft"]
    keys = ("batch_size", "learning_rate", "lr_scheduler", "lora_r", "lora_alpha", "lora_dropout",
            "save_steps")
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
        return cls(**_trainer_fields(config, steps, seed),
                   max_length=config["sft"]["max_length"])


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
        return cls(**_trainer_fields(config, modpo["steps"], seed),
                   max_length=config["sft"]["max_length"], beta=modpo["beta"])


@dataclass(frozen=True)
class MORLHFSettings(TrainerSettings):
    """MORLHF (TRL's GRPOTrainer on w . r): ``batch_size`` is the completions per optimiser step
    (``num_generations`` per prompt); sampling as the offline data's ``generation`` section."""

    num_generations: int
    kl_beta: float
    temperature: float
    top_p: float
    max_new_tokens: int

    @property
    def prompts_per_step(self) -> int:
        """Prompts one optimiser step samples completions for."""
        return self.batch_size // self.num_generations

    @classmethod
    def from_config(cls, config: Config, seed: int) -> MORLHFSettings:
        """``baselines.morlhf`` and ``generation`` on the shared LoRA settings, training
        ``seed``."""
        morlhf, generation = config["baselines"]["morlhf"], config["generation"]
        fields = _trainer_fields(config, morlhf["steps"], seed)
        fields["batch_size"] = morlhf["prompts_per_step"] * morlhf["generations"]
        return cls(**fields, num_generations=morlhf["generations"], kl_beta=morlhf["kl_beta"],
                   temperature=generation["temperature"], top_p=generation["top_p"],
                   max_new_tokens=generation["max_new_tokens"])


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
    def from_config(cls, config: Config) -> RewardTrainingSettings:
        """The trainer's part of ``reward_training`` (its data keys stay rule params); mixed
        precision in the top-level ``dtype``."""
        section = config["reward_training"]
        keys = ("epochs", "learning_rate", "batch_size", "max_length")
        return cls(**{key: section[key] for key in keys}, seed=config["seed"],
                   device=config["device"], dtype=config["dtype"])
