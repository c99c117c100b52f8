"""The recipe plans count what the configs ask for, by hand: the paper-scale config and the
own-recipe overlay of the embedded default (the end-to-end runs check them against what the
jobs counted)."""

import pytest

from paretohqd.config import load_config, merge_config
from paretohqd.evaluation.recipe_plan import (RecipePlan, global_batch, paretohqd_plan,
                                              plan_flops, ric_plan)
from workflow_runner import ROOT

SCHEMA = ROOT / "schemas/config.schema.yaml"


def test_paper_scale_plans_by_hand():
    """config/hh_rlhf.yaml: ParetoHqD 11 preferences x (200 + 100) steps x 8, three stage-2
    generators x 10,000 prompts; RiC as its README runs it: (20,000 + 2 x 4,000) steps x 8
    and 2 x 20,000 online answers."""
    config = load_config([ROOT / "config/hh_rlhf.yaml"], SCHEMA)
    assert paretohqd_plan(config, train_prompts=160_800) == RecipePlan(
        models=22, sequences=11 * 300 * 8, answers=3 * 10_000)
    assert ric_plan(config, train_prompts=160_800) == RecipePlan(
        models=3, sequences=28_000 * 8, answers=40_000)
    # fewer train prompts than a stage asks for: every prompt once
    assert paretohqd_plan(config, train_prompts=500).answers == 3 * 500
    assert ric_plan(config, train_prompts=500).answers == 2 * 500


def test_own_recipe_overlay_plans_by_hand():
    config = load_config([ROOT / "config/config.yaml", ROOT / "config/own_recipe.yaml"], SCHEMA)
    assert paretohqd_plan(config, 320) == RecipePlan(models=22, sequences=11 * 96 * 4,
                                                     answers=3 * 20)
    assert ric_plan(config, 320) == RecipePlan(models=3, sequences=(101 + 2 * 20) * 4,
                                               answers=2 * 40)


def test_offline_ric_and_processes():
    config = load_config([ROOT / "config/config.yaml"], SCHEMA)
    two = merge_config(config, {"accelerate": {"num_processes": 2}})
    assert global_batch(two) == 2 * config["sft"]["batch_size"]
    assert ric_plan(two, 320) == RecipePlan(
        models=1, sequences=config["baselines"]["ric"]["steps"] * global_batch(two), answers=0)
    # stage 2 halves sft.steps when its own steps are unset (the default)
    stage1 = config["sft"]["steps"]
    assert paretohqd_plan(config, 320).sequences == (
        len(config["preferences"]) * (stage1 + stage1 // 2) * config["sft"]["batch_size"])


def test_plan_flops_by_hand():
    plan = RecipePlan(models=2, sequences=10, answers=3)
    # 10 sequences x 4 x 100 params x 5 tokens + 3 answers x 7 tokens x 2 x (100 + 20 + 30)
    assert plan_flops(plan, 100, [20, 30], 5, 7) == pytest.approx(20_000 + 6_300)
