"""What ParetoHqD's and RiC's recipes run, counted from the settings alone: models trained,
training sequences, and answers their own models generate (each scored by every reward model)
to make more training data. With each method's own mean token counts and the model sizes it
gives FLOPs by the formula the compute table uses (``paretohqd.evaluation.compute``), as three
lines (training, generation, scoring) and their total, so that compute can be projected to sizes
this machine cannot run (``bench/paper_scale_compute.py``). FLOPs, not GPU-hours: the hours also
depend on utilisation, which differs between the lines (generation is memory-bound). The test
runs check the counts against what their jobs counted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from paretohqd.config import objective_names, preference_id
from paretohqd.evaluation.compute import FLOPS_PER_PARAM_TOKEN
from paretohqd.methods.paretohqd.config import stage2_steps
from paretohqd.selection import representatives


@dataclass(frozen=True)
class RecipePlan:
    """One method's training work: ``models`` trained (LoRA adapters), ``sequences`` seen by
    them (steps x global batch), ``answers`` their own models generate for training data."""

    models: int
    sequences: int
    answers: int


def global_batch(config: Mapping[str, Any]) -> int:
    """Sequences per optimiser step: ``sft.batch_size`` on each of the accelerate processes."""
    return config["sft"]["batch_size"] * config["accelerate"]["num_processes"]


def paretohqd_plan(config: Mapping[str, Any], train_prompts: int) -> RecipePlan:
    """ParetoHqD: two adapters per preference (``sft.steps``, then stage 2's steps); its M + 1
    representative stage-1 models each answer ``stage2.prompts`` train prompts (at most all
    ``train_prompts``) ``stage2.samples_per_prompt`` times."""
    preferences = {preference_id(w): w for w in config["preferences"]}
    stage2 = config["stage2"]
    steps = len(preferences) * (config["sft"]["steps"] + stage2_steps(config))
    generators = representatives(preferences, len(objective_names(config)))
    answers = (len(generators) * min(stage2["prompts"], train_prompts)
               * stage2["samples_per_prompt"])
    return RecipePlan(models=2 * len(preferences), sequences=steps * global_batch(config),
                      answers=answers)


def ric_plan(config: Mapping[str, Any], train_prompts: int) -> RecipePlan:
    """RiC (``baselines.ric``): one adapter trained ``steps`` on the offline rows, then with
    ``online`` per round one answer to ``online_prompts`` train prompts (at most all of them)
    and ``online_steps`` more steps."""
    ric = config["baselines"]["ric"]
    rounds = ric["online_rounds"] if ric["online"] else 0
    steps = ric["steps"] + rounds * ric["online_steps"]
    return RecipePlan(models=1 + rounds, sequences=steps * global_batch(config),
                      answers=rounds * min(ric["online_prompts"], train_prompts))


@dataclass(frozen=True)
class TokenLengths:
    """One method's own mean tokens per training sequence and per answer its models generate
    for training data (prompt and new tokens; RiC's prompts carry its reward prefix)."""

    sequence: float
    answer: float


@dataclass(frozen=True)
class PlanFlops:
    """FLOPs of one plan by line: LoRA ``training`` of its sequences, ``generation`` of its
    answers by the policy, ``scoring`` of them by every reward model."""

    training: float
    generation: float
    scoring: float

    @property
    def total(self) -> float:
        """The three lines together."""
        return self.training + self.generation + self.scoring


def plan_flops(plan: RecipePlan, tokens: TokenLengths, policy_params: float,
               reward_params: Sequence[float]) -> PlanFlops:
    """FLOPs of ``plan`` with its method's ``tokens``: 4 N T per training sequence, 2 N T per
    answer for the policy's forward pass and 2 N T per answer for each reward model's."""
    factor = FLOPS_PER_PARAM_TOKEN
    answer_tokens = plan.answers * tokens.answer
    return PlanFlops(
        training=factor["lora_train_param_tokens"] * policy_params * plan.sequences
        * tokens.sequence,
        generation=factor["forward_param_tokens"] * policy_params * answer_tokens,
        scoring=factor["scored_param_tokens"] * sum(reward_params) * answer_tokens)
