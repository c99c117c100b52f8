"""MODPO: DPO with a margin from the other objectives' rewards (Zhou et al., 2023).

For a preference w, the run optimises the main objective k = argmax w (the first on ties) from
chosen/rejected pairs ranked by r_k, and the other objectives enter as a margin:

    loss = -log sigmoid( (beta / w_k) * (h(y_w) - h(y_l)) - (1 / w_k) * m ),
    h(y) = log pi(y|x) - log pi_ref(y|x),   m = sum_{i != k} w_i (r_i(y_w) - r_i(y_l)).

TRL's DPO sigmoid loss is -log sigmoid(b * (h(y_w) - h(y_l))). With the trainer's b = beta / w_k
and the precomputed reference log-probability of the chosen response raised by m / beta,
it equals the MODPO loss exactly, so the trainer below only shifts the reference.
Rewards are min-max normalised over the table, as in the data selection.
"""

from __future__ import annotations

from dataclasses import asdict
from itertools import combinations
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
from datasets import Dataset
from trl import DPOTrainer

from paretohqd.selection import normalise
from paretohqd.methods.modpo.config import MODPOSettings
from paretohqd.policy.training import (fit, load_base, lora_config, run_fingerprint, sft_dataset,
                                trainer_args)

REFERENCE_SHIFT = "ref_shift"


def main_objective(weights: Sequence[float]) -> int:
    """The objective whose preference pairs a run learns from: the largest weight."""
    return int(np.argmax(np.asarray(weights, dtype=float)))


def preference_pairs(table: pd.DataFrame, objectives: Sequence[str], weights: Sequence[float],
                     normalisation: str, beta: float) -> pd.DataFrame:
    """Every pair of responses to the same prompt whose main-objective rewards differ, the better
    one chosen; with its margin m and the reference shift m / beta."""
    k = main_objective(weights)
    rewards = normalise(table[list(objectives)].to_numpy(), normalisation)
    others = np.asarray(weights, dtype=float).copy()
    others[k] = 0.0
    rows = []
    for _, group in table.reset_index(drop=True).groupby("prompt_id", sort=True):
        for a, b in combinations(group.index, 2):
            if rewards[a, k] == rewards[b, k]:
                continue
            chosen, rejected = (a, b) if rewards[a, k] > rewards[b, k] else (b, a)
            margin = float(others @ (rewards[chosen] - rewards[rejected]))
            rows.append({"prompt_id": table["prompt_id"].iloc[chosen],
                         "prompt": table["prompt"].iloc[chosen],
                         "chosen": table["response"].iloc[chosen],
                         "rejected": table["response"].iloc[rejected],
                         "margin": margin, REFERENCE_SHIFT: margin / beta})
    if not rows:
        raise ValueError(f"no preference pairs for w={list(weights)}: every prompt has a single "
                         f"response or tied {objectives[k]!r} rewards")
    return pd.DataFrame(rows)


def pair_dataset(pairs: pd.DataFrame, prompt_format: str) -> Dataset:
    """prompt/chosen/rejected records in the trainer's format (chat messages or strings)."""
    chosen = sft_dataset(pairs.rename(columns={"chosen": "response"}), prompt_format)
    rejected = sft_dataset(pairs.rename(columns={"rejected": "response"}), prompt_format)
    return Dataset.from_dict({"prompt": chosen["prompt"], "chosen": chosen["completion"],
                              "rejected": rejected["completion"],
                              REFERENCE_SHIFT: pairs[REFERENCE_SHIFT].tolist()})


class MarginDPOTrainer(DPOTrainer):
    """DPOTrainer whose precomputed reference log-probabilities of the chosen responses are
    raised by the dataset's ``ref_shift`` column (the MODPO margin over beta)."""

    reference_tokens = 0  # tokens through the reference model (forward only)

    def _precompute_ref_logps(self, dataset: Dataset, name: str, batch_size: int) -> Dataset:
        self.reference_tokens += sum(2 * len(p) + len(c) + len(r) for p, c, r in zip(
            dataset["prompt_ids"], dataset["chosen_ids"], dataset["rejected_ids"], strict=True))
        dataset = super()._precompute_ref_logps(dataset, name, batch_size)
        shifted = [logp + shift for logp, shift
                   in zip(dataset["ref_chosen_logps"], dataset[REFERENCE_SHIFT], strict=True)]
        return dataset.remove_columns("ref_chosen_logps").add_column("ref_chosen_logps", shifted)


def build_trainer(base_model: str, pairs: pd.DataFrame, weights: Sequence[float],
                  checkpoint_dir: Path, settings: MODPOSettings, prompt_format: str):
    """A MODPO trainer on a fresh LoRA of the base model (also the reference), and its
    tokenizer."""
    from trl import DPOConfig

    model, tokenizer = load_base(base_model)
    w_k = float(weights[main_objective(weights)])
    args = DPOConfig(beta=settings.beta / w_k, loss_type=["sigmoid"], precompute_ref_log_probs=True,
                     max_length=settings.max_length, **trainer_args(settings, checkpoint_dir))
    trainer = MarginDPOTrainer(model=model, args=args,
                               train_dataset=pair_dataset(pairs, prompt_format),
                               processing_class=tokenizer, peft_config=lora_config(settings, model))
    return trainer, tokenizer


def train_modpo(base_model: str, pairs: pd.DataFrame, weights: Sequence[float],
                output_dir: Path, checkpoint_dir: Path, settings: MODPOSettings,
                prompt_format: str) -> dict[str, float]:
    """Train a fresh LoRA with the MODPO loss; resumable like every trainer here."""
    trainer, tokenizer = build_trainer(base_model, pairs, weights, checkpoint_dir, settings,
                                       prompt_format)
    fingerprint = run_fingerprint([asdict(settings), base_model, list(weights)],
                                  pairs[["prompt", "chosen", "rejected", REFERENCE_SHIFT]])
    return fit(trainer, tokenizer, output_dir, checkpoint_dir, fingerprint, len(pairs),
               forward_tokens=lambda trained: trainer.reference_tokens)


def training_pairs(pairs: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """The ``n`` pairs (a seeded sample; all when fewer) that ``steps x batch`` optimiser steps
    consume in one pass, so reference log-probabilities are computed only for those."""
    if n >= len(pairs):
        return pairs.reset_index(drop=True)
    return pairs.sample(n=n, random_state=seed).reset_index(drop=True)
