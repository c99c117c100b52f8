"""Rewards-in-Context (RiC): one LoRA on rows with their rewards written into the prompt,
steered per preference at inference (``conditioning``), with an optional online stage
(``online``); ``config`` holds the parse-time helpers the rules import.

The conditioning functions are the method's public names: rules pass them to scripts as
``paretohqd.methods.ric:condition_prompts`` and ``:desired_rewards``, names that finished
runs' params and model cards record."""

from paretohqd.methods.ric.conditioning import condition_prompts, desired_rewards

__all__ = ["condition_prompts", "desired_rewards"]
