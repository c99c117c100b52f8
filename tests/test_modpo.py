"""MODPO: preference pairs and margins by hand, and the real trainer's loss against the formula."""

import math
from dataclasses import replace

import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from paretohqd.methods.modpo.training import (REFERENCE_SHIFT, build_trainer, main_objective, preference_pairs,
                             train_modpo, training_pairs)
from paretohqd.methods.modpo.config import MODPOSettings
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
    with pytest.raises(ValueError, match=r"no preference pairs for w=\[0\.0, 1\.0\]: every "
                                         r"prompt has a single response or tied 'b' rewards"):
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


def test_modpo_lora_takes_the_configured_layers(tiny_causal_lm, tmp_path):
    """sft.lora_target_modules reaches MODPO's LoRA as it does SFT's."""
    pairs = preference_pairs(TABLE, ["a", "b"], [0.75, 0.25], "minmax", beta=SETTINGS.beta)
    settings = replace(SETTINGS, lora_target_modules=["q_proj", "v_proj"])
    trainer, _ = build_trainer(str(tiny_causal_lm), pairs, [0.75, 0.25], tmp_path, settings,
                               "chat")
    lora = {name.split(".lora_")[0].rsplit(".", 1)[-1]
            for name, _ in trainer.model.named_parameters() if ".lora_" in name}
    assert lora == {"q_proj", "v_proj"}


def test_train_modpo_writes_an_adapter(tiny_causal_lm, tmp_path):
    pairs = preference_pairs(TABLE, ["a", "b"], [0.75, 0.25], "minmax", beta=SETTINGS.beta)
    out, ckpt = tmp_path / "adapter", tmp_path / "ckpt"
    metrics = train_modpo(str(tiny_causal_lm), pairs, [0.75, 0.25], out, ckpt, SETTINGS, "chat")
    assert metrics["steps"] == 2 and math.isfinite(metrics["train_loss"])
    assert (out / "adapter_config.json").is_file() and not ckpt.exists()
    # the reference pass reads every pair's prompt + chosen and prompt + rejected once
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_causal_lm)
    length = lambda prompt, answer: len(tokenizer.apply_chat_template(  # noqa: E731
        [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}],
        tokenize=True, return_dict=False))
    assert metrics["forward_tokens"] == sum(
        length(row.prompt, row.chosen) + length(row.prompt, row.rejected)
        for row in pairs.itertuples())
    assert metrics["train_tokens"] > 0


HEAD_SCALE = 20.0


@pytest.fixture(scope="module")
def peaked_causal_lm(tiny_causal_lm, tmp_path_factory):
    """The tiny Llama with its output layer scaled up: a randomly initialised head gives almost
    uniform next-token distributions that no adapter moves much; this one's are peaked, so a
    LoRA moves log-probabilities by whole nats."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = tmp_path_factory.mktemp("peaked_causal_lm")
    model = AutoModelForCausalLM.from_pretrained(tiny_causal_lm)
    with torch.no_grad():
        model.lm_head.weight.mul_(HEAD_SCALE)
    model.save_pretrained(path)
    AutoTokenizer.from_pretrained(tiny_causal_lm).save_pretrained(path)
    return path


def completion_logps(model, batch: dict) -> torch.Tensor:
    """Sum of log p(token | prefix) over each row's completion tokens, computed directly from
    the model's logits (rows: the chosen responses, then the rejected ones)."""
    ids, mask = batch["input_ids"], batch["completion_mask"]
    logits = model(input_ids=ids, attention_mask=batch["attention_mask"]).logits
    token_logps = F.log_softmax(logits[:, :-1].float(), dim=-1).gather(
        2, ids[:, 1:, None]).squeeze(2)
    return (token_logps * mask[:, 1:]).sum(dim=1)


@pytest.mark.parametrize("beta,weights", [(0.1, [0.75, 0.25]), (0.5, [0.3, 0.7])])
def test_loss_with_a_moved_policy_is_the_modpo_formula(peaked_causal_lm, tmp_path, beta,
                                                       weights):
    """With a policy that differs from its reference (LoRA B set to non-zero values), the
    trainer's loss is the mean over pairs of -log sigmoid((beta / w_k) (h_w - h_l) - m / w_k),
    h = log pi - log pi_ref computed here from the policy with and without its adapter, and m
    the weighted margin of the other objective (pairs and margins from preference_pairs). Two
    betas and two weightings (main objective first and second) so that beta / w_k, the margin's
    sign and 1 / w_k all matter."""
    settings = MODPOSettings.from_config(
        tiny_config(baselines={"modpo": {"steps": 2, "beta": beta}}), seed=0)
    w_k = max(weights)
    table = TABLE.assign(response=["Hello there.", "No.", "Go away, I said no.", "Because.",
                                   "Why not?", "Me."])
    pairs = preference_pairs(table, ["a", "b"], weights, "minmax", beta)
    assert pairs["margin"].abs().max() > 0.1
    trainer, _ = build_trainer(str(peaked_causal_lm), pairs, weights, tmp_path, settings, "chat")
    model = trainer.model.eval()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "lora_B" in name:
                parameter.copy_(torch.randn(parameter.shape, generator=generator))
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(len(pairs))])
    with torch.no_grad():
        loss = float(trainer.compute_loss(model, dict(batch)))
        policy = completion_logps(model, batch)
        with model.disable_adapter():
            reference = completion_logps(model, batch)
    h = (policy - reference).double()
    h_w, h_l = h.chunk(2)
    assert (h_w - h_l).abs().min() > 0.5  # the policy term is far from zero
    expected = -F.logsigmoid(beta / w_k * (h_w - h_l)
                             - torch.tensor(pairs["margin"].to_numpy()) / w_k).mean()
    assert loss == pytest.approx(float(expected), rel=1e-4)


def test_training_pairs_are_a_seeded_sample():
    """The same seed draws the same pairs, another seed other pairs; asking for at least all
    pairs returns all of them."""
    pairs = pd.DataFrame({"chosen": [f"c{i}" for i in range(20)], "rejected": ["r"] * 20})
    first, again = training_pairs(pairs, 5, seed=1), training_pairs(pairs, 5, seed=1)
    other = training_pairs(pairs, 5, seed=2)
    assert len(first) == 5 and first.equals(again)
    assert set(first["chosen"]) != set(other["chosen"])
    assert training_pairs(pairs, 20, seed=1).equals(pairs)
