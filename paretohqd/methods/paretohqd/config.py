"""ParetoHqD's variants as configured: stage 2's k and steps, and the recipe their model cards
state (how each variant chooses and trains its sets). Light module: the workflow imports it
while parsing."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from paretohqd.selection import POOL_MODES


def stage2_k(config: Mapping[str, Any]) -> int:
    """Stage 2's set size: `stage2.k`, else half of stage 1's k (at least 1)."""
    return config["stage2"]["k"] or max(1, config["selection"]["k"] // 2)


def stage2_steps(config: Mapping[str, Any]) -> int:
    """Stage 2's optimiser steps: `stage2.steps`, else half of `sft.steps` (at least 1)."""
    return config["stage2"]["steps"] or max(1, config["sft"]["steps"] // 2)


def stage2_frame(config: Mapping[str, Any]) -> str | None:
    """What stage 2 normalises rewards with: ``"stats"`` (the offline data's statistics) or
    ``"table"`` (the offline table itself, whose quantiles the statistics lack) with
    ``stage2.frame: offline``; None (its own pool's) otherwise."""
    if config["stage2"]["frame"] != "offline":
        return None
    return "table" if config["selection"]["frame_quantile"] else "stats"


def selection_recipe(mode: str, layers: int | str) -> dict[str, Any]:
    """The selection mode, with the Pareto layers it picks from when it ranks inside them."""
    return {"selection mode": mode, **({"Pareto layers": layers} if mode in POOL_MODES else {})}


def stage1_recipe(config: Mapping[str, Any], mode: str) -> dict[str, Any]:
    """How a stage-1 model was made: its selection, k, reward normalisation and steps."""
    return {**selection_recipe(mode, config["selection"]["layers"]),
            "stage-1 k": config["selection"]["k"],
            "reward normalisation": config["selection"]["normalisation"],
            "stage-1 steps": config["sft"]["steps"]}


def variant_recipe(config: Mapping[str, Any], mode: str, generators: Sequence[str],
                   mix_stage1: bool, stands_on: Sequence[str] = ()) -> dict[str, Any]:
    """How a variant's final (stage-2) models were made: stage 1 (its own, or the model of the
    method it ``stands_on``), the stage-2 pool written by ``generators``, stage 2's k, steps and
    whether it adds the stage-1 set."""
    stage1 = ({**selection_recipe(mode, config["selection"]["layers"]),
               "stage 1": f"the {stands_on[0]} model (every offline row)"}
              if stands_on else stage1_recipe(config, mode))
    stage2 = config["stage2"]
    return {**stage1,
            "stage-2 pool": f"{stage2['prompts']} train prompts x "
                            f"{stage2['samples_per_prompt']} answers of the stage-1 models of "
                            f"{', '.join(generators)}",
            "stage-2 k": stage2_k(config),
            "stage 2 adds the stage-1 set": mix_stage1,
            "stage-2 steps": stage2_steps(config)}
