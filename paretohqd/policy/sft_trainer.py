"""TRL's SFTTrainer, with the loss taken from the model's own logits where that is cheaper."""

from __future__ import annotations

import torch
from transformers import Trainer
from trl import SFTTrainer


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
