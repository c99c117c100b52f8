"""Trainer settings: each built from its config section, with no defaults besides the schema's."""

import dataclasses

import pytest

from paretohqd.methods.modpo.config import MODPOSettings
from paretohqd.methods.morlhf.config import MORLHFSettings
from paretohqd.policy.config import SFTSettings
from paretohqd.rewards.config import RewardTrainingSettings


@pytest.mark.parametrize("cls", [SFTSettings, MODPOSettings, MORLHFSettings,
                                 RewardTrainingSettings])
def test_the_schema_is_the_only_place_with_defaults(cls):
    assert all(f.default is dataclasses.MISSING for f in dataclasses.fields(cls))


def test_sft_settings_take_the_sft_section_and_the_given_steps_and_seed(config):
    settings = SFTSettings.from_config(config, steps=7, seed=3)
    sft = config["sft"]
    assert settings.steps == 7 and settings.max_length == sft["max_length"]
    assert (settings.batch_size, settings.lora_r, settings.save_steps) == (
        sft["batch_size"], sft["lora_r"], sft["save_steps"])
    assert settings.lora_target_modules == sft["lora_target_modules"] == "all-linear"
    assert (settings.seed, settings.device, settings.dtype) == (
        3, config["device"], config["dtype"])


def test_modpo_and_morlhf_settings_take_their_baselines_section(config):
    config["baselines"]["modpo"] = {"steps": 5, "beta": 0.3}
    config["baselines"]["morlhf"] = {"steps": 4, "generations": 3, "prompts_per_step": 2,
                                     "kl_beta": 0.05}
    config["sft"]["lora_target_modules"] = ["q_proj", "v_proj"]
    modpo = MODPOSettings.from_config(config, seed=1)
    assert (modpo.steps, modpo.beta, modpo.batch_size) == (5, 0.3, config["sft"]["batch_size"])
    morlhf = MORLHFSettings.from_config(config, seed=2)
    assert (modpo.seed, morlhf.seed) == (1, 2)
    assert (morlhf.steps, morlhf.num_generations, morlhf.kl_beta) == (4, 3, 0.05)
    assert (morlhf.batch_size, morlhf.prompts_per_step) == (6, 2)  # completions per step
    assert morlhf.max_new_tokens == config["generation"]["max_new_tokens"]
    assert modpo.lora_target_modules == morlhf.lora_target_modules == ["q_proj", "v_proj"]


def test_settings_survive_the_trip_through_rule_params(config):
    for settings in (SFTSettings.from_config(config, 3, 7), MODPOSettings.from_config(config, 7),
                     MORLHFSettings.from_config(config, 7),
                     RewardTrainingSettings.from_config(config)):
        assert type(settings)(**dataclasses.asdict(settings)) == settings
