"""Fine-tune a cross-encoder reward model over (prompt, response) on soft human labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch
from datasets import Dataset
from sklearn.metrics import roc_auc_score
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    Trainer,
    TrainingArguments,
)

from paretohqd.assets import check_model_source
from paretohqd.devices import resolve_device, resolve_dtype
from paretohqd.length_groups import length_groups
from paretohqd.rewards.labels import JUDGE_PART, RECIPES, REWARD_PART, split_by_prompt
from paretohqd.rewards.labels import conversation_pairs as conversation_pairs_of
from paretohqd.rewards.scorers import ClassifierScorer
from paretohqd.rewards.config import RewardTrainingSettings

# Length groups per batch of 16 pairs on a CPU (1 elsewhere: a GPU pays little for padding and
# more for small matrices); docs/BENCHMARKS.md, lever 11
CPU_LENGTH_GROUPS = 4


class LengthGroupTrainer(Trainer):
    """A Trainer whose loss runs each batch in ``length_groups`` slices of rows of similar
    length, each cut to its own longest row (``paretohqd.length_groups``), and weights each
    slice's mean loss by its share of the rows: the same rows per step and, without dropout,
    the same loss and gradients as the whole padded batch (up to float rounding), for fewer
    padded positions. Dropout draws its masks per slice, so a trained model comes out as from
    another dropout draw.

    Why: the collator pads a batch to its longest pair, and the helpful recipe mixes short
    conversation pairs with long PyRIT rows: at batch 16 a step computed 2.07 positions per
    real token, 1.18 in four length groups (docs/BENCHMARKS.md, lever 11). Needs right padding
    (what the BERT-style cross-encoders use) and a mean loss over rows (the regression head's
    MSE).
    """

    def __init__(self, *args, length_groups: int = 1, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.length_groups = length_groups

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        if self.length_groups <= 1 or return_outputs:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        return sum(super(LengthGroupTrainer, self).compute_loss(model, part) * share
                   for part, share in length_groups(inputs, self.length_groups))


def _tokenize(frame: pd.DataFrame, tokenizer, max_length: int) -> Dataset:
    data = Dataset.from_pandas(frame[["prompt", "response", "label"]].reset_index(drop=True))

    def encode(batch):
        enc = tokenizer(batch["prompt"], batch["response"], truncation="longest_first",
                        max_length=max_length)
        enc["labels"] = [float(x) for x in batch["label"]]
        return enc

    return data.map(encode, batched=True, remove_columns=["prompt", "response", "label"])


def build_reward_splits(recipe: str, prompts: pd.DataFrame, test_fraction: float,
                        conversation_pairs: bool, seed: int, part: str = REWARD_PART,
                        judge_fraction: float = 0.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Human-labelled rows of ``recipe`` split train/test by groups of near-duplicate prompts
    (``split_by_prompt``, seeded): the test part, a ``test_fraction`` of the groups, is the same
    for the reward model and its judge, so both are scored on one labelled split. With
    ``judge_fraction`` > 0 the other groups split again: ``part`` ``reward`` trains on the
    rest, ``judge`` (an independent judge's data) on the ``judge_fraction`` share. For the
    reward part of ``pyrit_helpful`` the train part may gain chatterbot reply pairs from the
    ``reward`` prompts (never the ``train`` ones, whose human replies are offline rows the
    selection would then find inflated); a judge trains on human labels only. The test part
    holds human-labelled PyRIT rows only, of both classes."""
    if part not in (REWARD_PART, JUDGE_PART):
        raise ValueError(f"part {part!r}: expected {REWARD_PART!r} or {JUDGE_PART!r}")
    train, test = split_by_prompt(RECIPES[recipe](), test_fraction, seed)
    if len(set(binary_targets(test["label"]))) < 2:
        raise ValueError(f"reward_training.test_fraction {test_fraction}: the test part of "
                         f"recipe {recipe!r} ({len(test)} rows) holds one class only; raise it")
    if judge_fraction > 0:
        kept, held_out = split_by_prompt(train, judge_fraction, seed)
        train = held_out if part == JUDGE_PART else kept
    if recipe == "pyrit_helpful" and conversation_pairs and part == REWARD_PART:
        reward_prompts = prompts[prompts["split"] == "reward"]
        refs = reward_prompts.assign(reference=reward_prompts["references"].map(
            lambda r: r[0] if len(r) else ""))
        train = pd.concat([train, conversation_pairs_of(refs, seed)], ignore_index=True)
    return train.sample(frac=1.0, random_state=seed).reset_index(drop=True), \
        test.reset_index(drop=True)


def binary_targets(labels: pd.Series) -> np.ndarray:
    """Soft labels to classes for ROC AUC: a pair is good for the objective when label > 0.5."""
    return (labels.to_numpy(dtype=float) > 0.5).astype(int)


def train_reward_model(train: pd.DataFrame, test: pd.DataFrame, base_model: str, output_dir: Path,
                       scratch_dir: Path, settings: RewardTrainingSettings) -> dict[str, float]:
    """Train on ``train`` (columns prompt, response, label), save model and tokenizer to
    ``output_dir`` and return held-out metrics on ``test`` (``roc_auc``, sizes)."""
    base_model = check_model_source(base_model, "reward_training.base")
    device = resolve_device(settings.device)
    torch.manual_seed(settings.seed)
    tokenizer = AutoTokenizer.from_pretrained(base_model)
    model = AutoModelForSequenceClassification.from_pretrained(
        base_model, num_labels=1, problem_type="regression")
    args = TrainingArguments(
        output_dir=str(scratch_dir),
        num_train_epochs=settings.epochs,
        learning_rate=settings.learning_rate,
        per_device_train_batch_size=settings.batch_size,
        warmup_steps=0.1,
        weight_decay=0.01,
        lr_scheduler_type="linear",
        logging_steps=10,
        save_strategy="no",
        report_to=[],
        seed=settings.seed,
        use_cpu=device.type == "cpu",
        disable_tqdm=False,
        include_num_input_tokens_seen="non_padding",  # counted for the compute table
        bf16=resolve_dtype(settings.dtype, device) == torch.bfloat16,  # mixed precision
    )
    trainer = LengthGroupTrainer(model=model, args=args, processing_class=tokenizer,
                                 train_dataset=_tokenize(train, tokenizer, settings.max_length),
                                 length_groups=CPU_LENGTH_GROUPS if device.type == "cpu" else 1)
    trainer.train()
    output_dir.mkdir(parents=True, exist_ok=True)
    trainer.model.save_pretrained(output_dir)
    tokenizer.save_pretrained(output_dir)

    scorer = ClassifierScorer(str(output_dir), device=device, max_length=settings.max_length)
    scores = scorer.score(test["prompt"].tolist(), test["response"].tolist(), batch_size=32)
    return {
        "roc_auc": float(roc_auc_score(binary_targets(test["label"]), scores)),
        "n_train": int(len(train)),
        "n_test": int(len(test)),
        "train_tokens": int(trainer.state.num_input_tokens_seen),
        "parameters": int(model.num_parameters()),
        "scored_tokens": scorer.tokens,
    }
