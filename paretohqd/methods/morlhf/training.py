"""MORLHF: online RL on the weighted reward sum w . r, one run per preference, with TRL's GRPO.

Every objective's scorer is a GRPO reward function, min-max normalised with the offline data's
reward range (the space the selection and the summary use), and GRPO's ``reward_weights`` are w,
so each completion's reward is w . r before GRPO's per-group normalisation.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from datasets import Dataset

from paretohqd.policy.generation import CHAT
from paretohqd.rewards.scorers import Scorer
from paretohqd.methods.morlhf.config import MORLHFSettings
from paretohqd.policy.training import fit, load_base, lora_config, run_fingerprint, trainer_args


def message_text(message: str | list[dict]) -> str:
    """The text of a plain prompt/completion, or of the last message of a conversation."""
    return message if isinstance(message, str) else message[-1]["content"]


def reward_function(name: str, scorer: Scorer, low: float, high: float,
                    batch_size: int) -> Callable[..., list[float]]:
    """A GRPO reward function: the scorer's rewards, min-max normalised with [low, high]."""
    span = high - low if high > low else 1.0

    def reward(prompts: list, completions: list, **_: object) -> list[float]:
        scores = scorer.score([message_text(p) for p in prompts],
                              [message_text(c) for c in completions], batch_size)
        return ((np.asarray(scores, dtype=float) - low) / span).tolist()

    reward.__name__ = name
    return reward


def prompt_dataset(prompts: Sequence[str], prompt_format: str) -> Dataset:
    """GRPO's prompt-only dataset (chat messages for ``chat`` models)."""
    if prompt_format == CHAT:
        return Dataset.from_dict({"prompt": [[{"role": "user", "content": p}] for p in prompts]})
    return Dataset.from_dict({"prompt": list(prompts)})


def train_morlhf(base_model: str, prompts: pd.DataFrame, weights: Sequence[float],
                 rewards: list[Callable[..., list[float]]], output_dir: Path,
                 checkpoint_dir: Path, settings: MORLHFSettings,
                 prompt_format: str) -> dict[str, float]:
    """GRPO on a fresh LoRA of the base model with reward w . r over ``rewards``."""
    from trl import GRPOConfig, GRPOTrainer

    model, tokenizer = load_base(base_model)
    args = GRPOConfig(
        reward_weights=list(weights), multi_objective_aggregation="sum_then_normalize",
        num_generations=settings.num_generations, max_completion_length=settings.max_new_tokens,
        temperature=settings.temperature, top_p=settings.top_p, beta=settings.kl_beta,
        # GRPO counts its prompt + completion tokens itself (its batches hold no input_ids)
        **{**trainer_args(settings, checkpoint_dir), "include_num_input_tokens_seen": "no"})
    trainer = GRPOTrainer(model=model, reward_funcs=rewards, args=args,
                          train_dataset=prompt_dataset(prompts["prompt"].tolist(), prompt_format),
                          processing_class=tokenizer, peft_config=lora_config(settings, model))
    fingerprint = run_fingerprint(
        [asdict(settings), base_model, list(weights),
         [r.__name__ for r in rewards]], prompts[["prompt"]])
    # every trained sequence was first generated, and scored by the reference model when the
    # KL term is on: forward passes over the same tokens
    passes = 1 + (settings.kl_beta > 0)
    metrics = fit(trainer, tokenizer, output_dir, checkpoint_dir, fingerprint, len(prompts),
                  forward_tokens=lambda trained: passes * trained)
    if trainer.is_world_process_zero():
        write_reward_log(trainer, output_dir / REWARD_LOG)
    return metrics


REWARD_LOG = "reward_log.json"


def write_reward_log(trainer, path: Path) -> None:
    """What the GRPO trainer itself paired and logged: each reward function's name with the
    weight it applied, and per logged step the weighted reward with each function's mean, so
    that a reader can check reward = sum of weight x mean by objective name."""
    names = list(trainer.reward_func_names)
    steps = [{"step": entry["step"], "reward": entry["reward"],
              "means": {name: entry[f"rewards/{name}/mean"] for name in names}}
             for entry in trainer.state.log_history if "reward" in entry]
    path.write_text(json.dumps({"weights": dict(zip(names, trainer.reward_weights.tolist())),
                                "steps": steps}, indent=2) + "\n")
