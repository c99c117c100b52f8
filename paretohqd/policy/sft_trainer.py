"""TRL's SFTTrainer, with the loss taken from the model's own logits where that is cheaper."""

from __future__ import annotations

import logging

import torch
from transformers import Trainer
from trl import SFTTrainer

from paretohqd.length_groups import length_groups

# Length groups per training batch on a CPU: at batch 4, two groups of two rows took 25.0 s for
# 6 steps, one group 28.6 s and four groups of one row 30.3 s (docs/BENCHMARKS.md, lever 11)
CPU_LENGTH_GROUPS = 2

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
    masked with -100 by SFTTrainer's data preparation, so the loss is the same), computed in
    ``CPU_LENGTH_GROUPS`` slices of rows of similar length, each cut to its own longest row.

    Why: SFTTrainer projects through the LM head in tiles made for GPUs; on a CPU the tiles
    cover every position, the backward pass recomputes them, and the entropy and top-1 metrics
    are computed on top: 22% of a step's time for a 135M model (docs/BENCHMARKS.md). What is
    lost is only those two logged metrics. The length groups skip the padding of the shorter
    rows (lever 11); the slices' losses add up to the batch's (token losses over the batch's
    count of answer tokens), and so do their gradients without dropout (LoRA dropout draws its
    masks per slice).
    """

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        if return_outputs or CPU_LENGTH_GROUPS <= 1:
            return Trainer.compute_loss(self, model, inputs, return_outputs=return_outputs,
                                        num_items_in_batch=num_items_in_batch)
        if self.model_accepts_loss_kwargs and num_items_in_batch is not None:
            # each slice's token losses summed over the count Trainer divides the batch's by
            return sum(Trainer.compute_loss(self, model, part,
                                            num_items_in_batch=num_items_in_batch)
                       for part, _ in length_groups(inputs, CPU_LENGTH_GROUPS))
        # each slice's mean token loss weighted by its share of the (shifted) answer tokens
        total = answer_tokens(inputs)
        return sum(Trainer.compute_loss(self, model, part) * (answer_tokens(part) / total)
                   for part, _ in length_groups(inputs, CPU_LENGTH_GROUPS)
                   if answer_tokens(part))


def answer_tokens(inputs: dict) -> int:
    """The tokens a causal LM's loss averages over: labels other than -100 after the shift."""
    return int((inputs["labels"][:, 1:] != -100).sum())


def sft_trainer_class(device: torch.device) -> type[SFTTrainer]:
    """The SFT trainer for ``device``: the logits loss on CPU, TRL's tiled LM head elsewhere
    (it keeps the full logits out of accelerator memory)."""
    return LogitsLossSFTTrainer if device.type == "cpu" else SFTTrainer
