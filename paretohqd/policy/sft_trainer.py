"""TRL's SFTTrainer, with the loss taken from the model's own logits where that is cheaper."""

from __future__ import annotations

import logging

import torch
from transformers import Trainer
from trl import SFTTrainer


log = logging.getLogger(__name__)


def check_examples(trainer: SFTTrainer, rows: int, max_length: int) -> None:
    """Say how many of ``rows`` the trainer dropped because their prompt alone fills
    ``max_length`` tokens (no answer token left to learn from); fail, naming the setting, when
    none is left."""
    kept = len(trainer.train_dataset)
    if kept == 0:
        raise ValueError(f"all {rows} training rows have prompts of {max_length} tokens or more "
                         f"(sft.max_length = {max_length}), so no answer token is left to train "
                         f"on: raise sft.max_length")
    if kept < rows:
        log.warning("%d of %d training rows dropped: their prompts fill sft.max_length = %d "
                    "tokens", rows - kept, rows, max_length)


class LogitsLossSFTTrainer(SFTTrainer):
    """SFTTrainer whose loss is the model's own cross-entropy over its labels (the prompt is
    masked with -100 by SFTTrainer's data preparation, so the loss is the same).

    Why: SFTTrainer projects through the LM head in tiles made for GPUs; on a CPU the tiles
    cover every position, the backward pass recomputes them, and the entropy and top-1 metrics
    are computed on top: 22% of a step's time for a 135M model (docs/BENCHMARKS.md). What is
    lost is only those two logged metrics.
    """

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        return Trainer.compute_loss(self, model, inputs, return_outputs=return_outputs,
                                    num_items_in_batch=num_items_in_batch)


def sft_trainer_class(device: torch.device) -> type[SFTTrainer]:
    """The SFT trainer for ``device``: the logits loss on CPU, TRL's tiled LM head elsewhere
    (it keeps the full logits out of accelerator memory)."""
    return LogitsLossSFTTrainer if device.type == "cpu" else SFTTrainer
