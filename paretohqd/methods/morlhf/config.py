"""MORLHF's trainer settings (``baselines.morlhf`` and ``generation``). Light module: the
workflow imports it while parsing."""

from __future__ import annotations

from dataclasses import dataclass

from paretohqd.policy.config import Config, TrainerSettings, trainer_fields


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
        fields = trainer_fields(config, morlhf["steps"], seed)
        fields["batch_size"] = morlhf["prompts_per_step"] * morlhf["generations"]
        return cls(**fields, num_generations=morlhf["generations"], kl_beta=morlhf["kl_beta"],
                   temperature=generation["temperature"], top_p=generation["top_p"],
                   max_new_tokens=generation["max_new_tokens"])
