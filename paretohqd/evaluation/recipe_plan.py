"""What ParetoHqD's and RiC's recipes run, counted from the settings alone: models trained,
training sequences, and answers their own models generate (each scored by every reward model)
to make more training data. With mean token counts and model sizes it gives a FLOPs estimate by
the formula the compute table uses (``paretohqd.evaluation.compute``), so that compute can be
projected to sizes this machine cannot run (``bench/paper_scale_compute.py``). The test runs
check the counts against what their jobs counted."""

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


def plan_flops(plan: RecipePlan, policy_params: float, reward_params: Sequence[float],
               sequence_tokens: float, answer_tokens: float) -> float:
    """FLOPs of ``plan``: LoRA training of every sequence (``sequence_tokens`` each, 4 N T)
    and, per generated answer (prompt and new tokens, ``answer_tokens``), one forward pass of
    the policy and of every reward model (2 N T each)."""
    factor = FLOPS_PER_PARAM_TOKEN
    train = factor["lora_train_param_tokens"] * policy_params * sequence_tokens
    answer = answer_tokens * (factor["forward_param_tokens"] * policy_params
                              + factor["scored_param_tokens"] * sum(reward_params))
    return plan.sequences * train + plan.answers * answer
