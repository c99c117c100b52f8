"""MORLHF: reward functions by hand and a real GRPO step whose reward weights are w."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from paretohqd.methods.morlhf.training import message_text, reward_function, train_morlhf
from paretohqd.data.offline import sample_prompts
from paretohqd.rewards.scorers import ClassifierScorer
from paretohqd.methods.morlhf.config import MORLHFSettings
from pipeline_checks import check_reward_pairing
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


def test_classifier_reward_is_the_scored_pair_min_max_normalised(tiny_classifier):
    """A real reward model's reward function: the scorer's logit of (prompt, completion), taken
    from the chat messages GRPO passes, mapped to [0, 1] by the offline range (chosen here as
    the logits' own min and max). The expected logits come from the same scorer at the same
    batch size: another batching pads differently, and a tiny head's logits then differ in the
    fifth decimal, which the normalisation by a small range magnifies."""
    prompts, answers = ["Hi?", "Why is the sky blue?", "Hi?"], ["Hello.", "Light scatters.", "No."]
    scorer = ClassifierScorer(str(tiny_classifier), torch.device("cpu"), logit_index=1)
    with torch.inference_mode():
        logits = scorer.score(prompts, answers, batch_size=2)
        enc = scorer.tokenizer(prompts, answers, padding=True, return_tensors="pt")
        unbatched = scorer.model(**enc).logits[:, 1].numpy()
    assert logits == pytest.approx(unbatched, abs=1e-4)  # the text pair, not another input
    low, high = float(logits.min()), float(logits.max())
    reward = reward_function("helpful", scorer, low, high, batch_size=2)
    got = reward(prompts=[[{"role": "user", "content": p}] for p in prompts],
                 completions=[[{"role": "assistant", "content": a}] for a in answers])
    assert got == pytest.approx(((logits - low) / (high - low)).tolist(), abs=1e-9)
    assert min(got) == 0.0 and max(got) == 1.0


def test_prompts_are_a_seeded_sample_of_the_train_split():
    """MORLHF's GRPO prompts (sample_prompts): the same seed draws the same prompts, another
    seed others; only the train split, in prompt-id order."""
    table = pd.DataFrame({"prompt_id": [f"p{i:02d}" for i in range(30)],
                          "prompt": [f"q{i}" for i in range(30)],
                          "split": ["train"] * 20 + ["test"] * 10})
    first, again = sample_prompts(table, 5, seed=1), sample_prompts(table, 5, seed=1)
    other = sample_prompts(table, 5, seed=2)
    assert first.equals(again) and len(first) == 5
    assert set(first["prompt_id"]) != set(other["prompt_id"])
    assert (first["split"] == "train").all() and first["prompt_id"].is_monotonic_increasing
    assert len(sample_prompts(table, None, seed=1)) == 20


def test_grpo_step_uses_the_preference_as_reward_weights(tiny_causal_lm, tmp_path):
    """A real GRPO step; the trainer it ran (its saved arguments) weighs the reward functions,
    in objective order, by w and sums them before GRPO's group normalisation."""
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
    # the generated sequences are trained on, and were generated (and, with a KL term, read
    # by the reference model) first
    assert metrics["train_tokens"] > 0
    assert metrics["forward_tokens"] == (1 + (settings.kl_beta > 0)) * metrics["train_tokens"]
    args = torch.load(out / "training_args.bin", weights_only=False)
    assert args.reward_weights == [0.25, 0.75]
    assert args.multi_objective_aggregation == "sum_then_normalize"
    check_reward_pairing(out, {"length": 0.25, "short": 0.75})

