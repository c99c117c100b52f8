"""MORLHF: reward functions by hand and a real GRPO step with w-weighted rewards."""

import math

import numpy as np
import pandas as pd
import pytest

from paretohqd.morlhf import message_text, reward_function, train_morlhf
from paretohqd.settings import MORLHFSettings
from tiny_settings import tiny_config


class LengthScorer:
    """A real (if trivial) scorer: the response's length in characters."""

    def score(self, prompts, responses, batch_size=32):
        return np.array([float(len(r)) for r in responses])


def test_message_text_reads_strings_and_conversations():
    assert message_text("plain") == "plain"
    assert message_text([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]) == "b"


def test_reward_is_min_max_normalised_with_the_offline_range():
    reward = reward_function("length", LengthScorer(), low=2.0, high=6.0, batch_size=4)
    completions = [[{"role": "assistant", "content": text}] for text in ("ab", "abcd", "abcdefgh")]
    prompts = [[{"role": "user", "content": "q"}]] * 3
    assert reward(prompts=prompts, completions=completions) == pytest.approx([0.0, 0.5, 1.5])
    assert reward.__name__ == "length"


def test_grpo_step_with_weighted_rewards(tiny_causal_lm, tmp_path):
    rewards = [reward_function("length", LengthScorer(), 0.0, 40.0, 4),
               reward_function("short", LengthScorer(), 40.0, 0.0, 4)]
    prompts = pd.DataFrame({"prompt": ["Hi?", "Why?"]})
    morlhf = {"steps": 1, "generations": 2, "prompts_per_step": 1}
    config = tiny_config(baselines={"morlhf": morlhf}, generation={"max_new_tokens": 4})
    settings = MORLHFSettings.from_config(config, seed=0)
    assert (settings.batch_size, settings.prompts_per_step) == (2, 1)
    out = tmp_path / "adapter"
    metrics = train_morlhf(str(tiny_causal_lm), prompts, [0.25, 0.75], rewards, out,
                           tmp_path / "ckpt", settings, "chat")
    assert metrics["steps"] == 1 and math.isfinite(metrics["train_loss"])
    assert (out / "adapter_config.json").is_file()
