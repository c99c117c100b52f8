"""Rewarded Soups' training sets: how many top rows each objective's LoRA trains on. Light
module: the workflow imports it while parsing."""

from __future__ import annotations


def epoch_matched_rows(k: int, steps: int, reference_steps: int) -> int:
    """Rows for a model trained ``steps`` optimiser steps to run as many epochs as one trained
    ``reference_steps`` steps on ``k`` rows (at the same batch): k x steps / reference_steps,
    rounded, at least 1."""
    if min(k, steps, reference_steps) < 1:
        raise ValueError(f"k, steps and reference_steps must be positive, got {k}, {steps}, "
                         f"{reference_steps}")
    return max(1, round(k * steps / reference_steps))
