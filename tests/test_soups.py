"""Weighted LoRA merges (Rewarded Soups, interpolated preferences) against hand-computed weight
updates."""

import json

import pytest
import torch
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from paretohqd.methods.rewarded_soups.config import epoch_matched_rows
from paretohqd.policy.merging import merge_adapters, soup_adapter


def _random_adapter(base, path, seed):
    torch.manual_seed(seed)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(base),
                           LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"]))
    for name, param in model.named_parameters():
        if "lora_" in name:
            torch.nn.init.normal_(param, std=0.5)
    model.save_pretrained(path)
    AutoTokenizer.from_pretrained(base).save_pretrained(path)


def _delta(base, adapter, module="model.layers.0.self_attn.q_proj"):
    """The adapter's weight update of one layer: merged weight minus base weight."""
    plain = AutoModelForCausalLM.from_pretrained(base)
    before = plain.get_submodule(module).weight.detach().clone()
    merged = PeftModel.from_pretrained(plain, adapter).merge_and_unload()
    return merged.get_submodule(module).weight.detach() - before


def test_soup_interpolates_weight_updates(tiny_causal_lm, tmp_path):
    base = str(tiny_causal_lm)
    a, b = tmp_path / "a", tmp_path / "b"
    _random_adapter(base, a, 1)
    _random_adapter(base, b, 2)
    delta_a, delta_b = _delta(base, a), _delta(base, b)
    assert delta_a.abs().sum() > 0 and not torch.allclose(delta_a, delta_b)

    for weights in ([0.3, 0.7], [1.0, 0.0], [0.0, 1.0]):
        out = tmp_path / f"soup_{weights[0]}"
        soup_adapter(base, [str(a), str(b)], weights, out)
        expected = weights[0] * delta_a + weights[1] * delta_b
        torch.testing.assert_close(_delta(base, out), expected, atol=1e-5, rtol=1e-4)


def _lora_update(adapter, module="model.layers.0.self_attn.q_proj"):
    """B A * lora_alpha / r of one layer, read from the saved adapter's tensors."""
    tensors = load_file(str(adapter / "adapter_model.safetensors"))
    config = json.loads((adapter / "adapter_config.json").read_text())
    prefix = f"base_model.model.{module}"
    a, b = tensors[f"{prefix}.lora_A.weight"], tensors[f"{prefix}.lora_B.weight"]
    return b @ a * config["lora_alpha"] / config["r"]


def test_merge_adapters_is_the_weighted_sum_of_the_lora_updates(tiny_causal_lm, tmp_path):
    """The interpolation's merge against 0.3 B1 A1 s + 0.7 B2 A2 s computed by hand from the
    adapters' own tensors (s = lora_alpha / r)."""
    base = str(tiny_causal_lm)
    a, b = tmp_path / "a", tmp_path / "b"
    _random_adapter(base, a, 3)
    _random_adapter(base, b, 4)
    module = "model.layers.0.self_attn.q_proj"
    before = AutoModelForCausalLM.from_pretrained(base).get_submodule(module).weight.detach()
    merged = merge_adapters(base, [str(a), str(b)], [0.3, 0.7]).merge_and_unload()
    delta = merged.get_submodule(module).weight.detach() - before
    expected = 0.3 * _lora_update(a) + 0.7 * _lora_update(b)
    assert expected.abs().max() > 0.1
    torch.testing.assert_close(delta, expected, atol=1e-6, rtol=1e-5)


def test_objective_sets_are_sized_to_the_epochs_of_a_stage_1_model():
    # config/benchmark.yaml: stage 1 runs 64 steps over k = 16 rows (16 epochs at batch 4);
    # each objective's LoRA runs 240 steps, so 60 rows give it the same 16 epochs
    assert epoch_matched_rows(16, 240, 64) == 60
    assert epoch_matched_rows(4, 2, 2) == 4  # the same steps: the same k
    assert epoch_matched_rows(20, 38, 10) == 76  # config/compare.yaml
    assert epoch_matched_rows(1, 1, 100) == 1
    with pytest.raises(ValueError, match="must be positive"):
        epoch_matched_rows(0, 10, 10)
