"""MODPO: preference pairs and margins by hand, and the real trainer's loss against the formula."""

import math

import pandas as pd
import pytest
import torch

from paretohqd.modpo import (REFERENCE_SHIFT, build_trainer, main_objective, preference_pairs,
                             train_modpo)
from paretohqd.settings import MODPOSettings
from tiny_settings import tiny_config

# min-max over the table: a in [0, 4] -> /4, b in [10, 20] -> (b - 10) / 10
TABLE = pd.DataFrame({
    "prompt_id": ["p1", "p1", "p1", "p2", "p2", "p3"],
    "prompt": ["Hi?", "Hi?", "Hi?", "Why?", "Why?", "Who?"],
    "response": ["x", "y", "z", "u", "v", "w"],
    "a": [4.0, 2.0, 2.0, 0.0, 1.0, 3.0],
    "b": [10.0, 20.0, 15.0, 12.0, 18.0, 11.0],
})
SETTINGS = MODPOSettings.from_config(tiny_config(baselines={"modpo": {"steps": 2, "beta": 0.1}}),
                                   seed=0)


def test_main_objective_is_the_largest_weight_first_on_ties():
    assert main_objective([0.25, 0.75]) == 1
    assert main_objective([0.5, 0.5]) == 0


def test_pairs_rank_by_the_main_objective_and_carry_the_weighted_margin():
    pairs = preference_pairs(TABLE, ["a", "b"], [0.75, 0.25], "minmax", beta=0.5)
    # p1: x (a=1.0) beats y and z (0.5 each); y vs z tie on a -> no pair; p2: v (0.25) beats u (0)
    assert list(zip(pairs["chosen"], pairs["rejected"])) == [("x", "y"), ("x", "z"), ("v", "u")]
    # margin = 0.25 * (b_chosen - b_rejected), b normalised: x 0.0, y 1.0, z 0.5, u 0.2, v 0.8
    assert pairs["margin"].tolist() == pytest.approx([-0.25, -0.125, 0.15])
    assert pairs[REFERENCE_SHIFT].tolist() == pytest.approx([-0.5, -0.25, 0.3])


def test_no_pairs_is_an_error_naming_the_objective():
    single = TABLE[TABLE["prompt_id"] == "p3"]
    with pytest.raises(ValueError, match="'b'"):
        preference_pairs(single, ["a", "b"], [0.0, 1.0], "minmax", beta=0.1)


@pytest.mark.parametrize("margin,w_k", [(0.6, 0.5), (-0.3, 0.75), (0.0, 1.0)])
def test_loss_at_init_is_softplus_of_margin_over_weight(tiny_causal_lm, tmp_path, margin, w_k):
    """A fresh LoRA equals its reference, so h(y_w) - h(y_l) = 0 and the MODPO loss is
    -log sigmoid(-m / w_k) = log(1 + exp(m / w_k)), whatever beta is."""
    beta = SETTINGS.beta
    pairs = pd.DataFrame({"prompt": ["Hi?", "Why?"], "chosen": ["Hello.", "Because."],
                          "rejected": ["No.", "Go away."], "margin": [margin, margin]})
    pairs[REFERENCE_SHIFT] = pairs["margin"] / beta
    weights = [w_k, 1 - w_k]  # w_k >= 0.5: the first objective is the main one
    trainer, _ = build_trainer(str(tiny_causal_lm), pairs, weights, tmp_path, SETTINGS, "chat")
    batch = next(iter(trainer.get_train_dataloader()))
    with torch.no_grad():
        loss = trainer.compute_loss(trainer.model, batch)
    assert float(loss) == pytest.approx(math.log1p(math.exp(margin / w_k)), rel=1e-4)


def test_train_modpo_writes_an_adapter(tiny_causal_lm, tmp_path):
    pairs = preference_pairs(TABLE, ["a", "b"], [0.75, 0.25], "minmax", beta=SETTINGS.beta)
    out, ckpt = tmp_path / "adapter", tmp_path / "ckpt"
    metrics = train_modpo(str(tiny_causal_lm), pairs, [0.75, 0.25], out, ckpt, SETTINGS, "chat")
    assert metrics["steps"] == 2 and math.isfinite(metrics["train_loss"])
    assert (out / "adapter_config.json").is_file() and not ckpt.exists()
