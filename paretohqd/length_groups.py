"""Split a right-padded training batch into slices of rows of similar length, each cut to its
own longest row: the trainers (rewards/training.py, policy/sft_trainer.py) sum their slices'
losses into the whole batch's, for fewer padded positions on a CPU."""

from __future__ import annotations

from typing import Iterator

import torch


def length_groups(inputs: dict[str, torch.Tensor], groups: int
                  ) -> Iterator[tuple[dict[str, torch.Tensor], float]]:
    """Yield ``groups`` (at most one per row) slices of ``inputs``' rows sorted by length
    (``attention_mask``), every 2-D tensor cut to the slice's longest row, each with its share
    of the rows. The batch must be padded on the right, so the cut columns are padding only."""
    mask = inputs["attention_mask"]
    if bool((mask[:, :-1] < mask[:, 1:]).any()):
        raise ValueError("length groups need a batch padded on the right")
    lengths = mask.sum(dim=1)
    rows = len(lengths)
    for group in lengths.argsort(stable=True).tensor_split(min(groups, rows)):
        width = int(lengths[group].max())
        yield ({key: value[group][:, :width] if value.dim() == 2 else value[group]
                for key, value in inputs.items()}, len(group) / rows)
