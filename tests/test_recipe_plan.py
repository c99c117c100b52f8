"""The recipe plans count what the configs ask for, by hand: the paper-scale config and the
own-recipe overlay of the embedded default (the end-to-end runs check them against what the
jobs counted)."""

import subprocess
import sys

import pytest

from paretohqd.config import load_config, merge_config
from paretohqd.evaluation.recipe_plan import (RecipePlan, TokenLengths, global_batch,
                                              paretohqd_plan, plan_flops, ric_plan)
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
    """Each line by its formula: 4 N T training, 2 N T the policy's forward pass over the
    answers, 2 N T per reward model over them; the total is their sum."""
    plan = RecipePlan(models=2, sequences=10, answers=3)
    flops = plan_flops(plan, TokenLengths(sequence=5, answer=7), 100, [20, 30])
    assert flops.training == pytest.approx(10 * 4 * 100 * 5)
    assert flops.generation == pytest.approx(3 * 2 * 100 * 7)
    assert flops.scoring == pytest.approx(3 * 7 * 2 * (20 + 30))
    assert flops.total == pytest.approx(flops.training + flops.generation + flops.scoring)
    assert flops.total == pytest.approx(20_000 + 4_200 + 2_100)


def test_each_method_its_own_token_lengths():
    """RiC's sequences and prompts carry its reward prefix: at equal sequences and answers, its
    longer lengths cost more than ParetoHqD's would, in every line."""
    plan = RecipePlan(models=1, sequences=100, answers=10)
    paretohqd = plan_flops(plan, TokenLengths(sequence=79, answer=100), 1e6, [1e5, 1e5])
    ric = plan_flops(plan, TokenLengths(sequence=92, answer=113), 1e6, [1e5, 1e5])
    assert ric.training == pytest.approx(paretohqd.training * 92 / 79)
    assert ric.generation == pytest.approx(paretohqd.generation * 113 / 100)
    assert ric.scoring == pytest.approx(paretohqd.scoring * 113 / 100)
    assert ric.total > paretohqd.total


def test_paper_scale_script_prints_lines_in_flops():
    """bench/paper_scale_compute.py: per method its own lengths, training, generation, scoring
    and total FLOPs, the ratio in FLOPs, and that the paper's 42% is GPU-hours."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench/paper_scale_compute.py"),
         "--paretohqd-tokens", "79:100", "--ric-tokens", "92:113"],
        capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert ("| scenario | method | tokens per sequence | tokens per answer | training FLOPs | "
            "generation FLOPs | scoring FLOPs | total FLOPs |") in out
    config = load_config([ROOT / "config/hh_rlhf.yaml"], SCHEMA)
    flops = {name: plan_flops(plan(config, 160_800), tokens, 6.74e9, [7.74e8, 7.74e8])
             for name, plan, tokens in (("paretohqd", paretohqd_plan, TokenLengths(79, 100)),
                                        ("ric", ric_plan, TokenLengths(92, 113)))}
    assert (f"| 1 | ric | 92 | 113 | {flops['ric'].training:.3g} | "
            f"{flops['ric'].generation:.3g} | {flops['ric'].scoring:.3g} | "
            f"{flops['ric'].total:.3g} |") in out
    ratio_row = next(line for line in out.splitlines()
                     if line.startswith("| 1 | ParetoHqD / RiC (FLOPs) |"))
    assert ratio_row.endswith(f"| {flops['paretohqd'].total / flops['ric'].total:.2f} |")
    assert "not GPU-hours" in out and "42%" in out
