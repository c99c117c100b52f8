"""ParetoHqD's and RiC's FLOPs at a size this machine cannot run, projected from their recipes:
the counts of ``paretohqd.evaluation.recipe_plan`` (models, training sequences, answers
generated for training data) for a config (default: the paper-scale ``config/hh_rlhf.yaml``,
whose ``baselines.ric`` is RiC's released recipe) and the FLOPs formula of the compute table, by
line: training (4 N T, LoRA), generation (2 N T, the policy's forward pass over prompt and new
tokens) and scoring (2 N T per reward model), and their total. Each method has its own mean
tokens per training sequence and per generated answer (RiC's carry its reward prefix); they are
not known without the data, so each scenario gives both methods' lengths explicitly.
The shared costs (scoring the offline data, evaluation) are left out: both methods pay them.
FLOPs, not GPU-hours: the paper's 42% is a ratio of GPU-hours, which FLOPs do not determine.

Usage: .venv/bin/python bench/paper_scale_compute.py [--configfile config/hh_rlhf.yaml ...]
       [--train-prompts 160800] [--policy-params 6.74e9] [--reward-params 7.74e8 7.74e8]
       [--paretohqd-tokens 128:128 256:256 ...] [--ric-tokens 141:141 269:269 ...]
Prints Markdown: each method's plan, then per scenario each method's FLOPs by line and
ParetoHqD / RiC.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from paretohqd.config import load_config
from paretohqd.evaluation.recipe_plan import (PlanFlops, TokenLengths, paretohqd_plan,
                                              plan_flops, ric_plan)

ROOT = Path(__file__).resolve().parents[1]
# Anthropic/hh-rlhf's train split (pairs; one prompt each); Llama-2-7B; gpt2-large reward models
HH_RLHF_TRAIN_PROMPTS = 160_800
LLAMA2_7B_PARAMS = 6.74e9
GPT2_LARGE_PARAMS = 7.74e8
# ParetoHqD's scenarios: mean tokens per training sequence and per generated answer
PARETOHQD_TOKENS = [TokenLengths(sequence, answer) for sequence, answer
                    in ((128, 128), (256, 256), (512, 512), (128, 512), (512, 128))]
# RiC's, 13 tokens longer each (its reward prefix, e.g. " <harmless> 0.7 <helpful> -1.2", on
# every training sequence and online prompt): the difference measured in the own-recipe run,
# 92 vs 79 tokens per training sequence (SmolLM2's tokenizer, docs/RESULTS.md)
RIC_PREFIX_TOKENS = 13
RIC_TOKENS = [TokenLengths(tokens.sequence + RIC_PREFIX_TOKENS, tokens.answer + RIC_PREFIX_TOKENS)
              for tokens in PARETOHQD_TOKENS]
LINES = ("training", "generation", "scoring", "total")


def token_lengths(text: str) -> TokenLengths:
    """``SEQUENCE:ANSWER`` (mean tokens per training sequence and per generated answer)."""
    sequence, answer = text.split(":")
    return TokenLengths(sequence=float(sequence), answer=float(answer))


def flops_cells(flops: PlanFlops) -> list[str]:
    """The training, generation, scoring and total FLOPs of one plan, as table cells."""
    return [f"{getattr(flops, line):.3g}" for line in LINES]


def ratio_cells(ours: PlanFlops, theirs: PlanFlops) -> list[str]:
    """ParetoHqD / RiC per line (empty where RiC's line is zero)."""
    return [f"{getattr(ours, line) / getattr(theirs, line):.2f}" if getattr(theirs, line) else ""
            for line in LINES]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configfile", nargs="+", default=[str(ROOT / "config/hh_rlhf.yaml")],
                        help="config files, merged in order as --configfile does")
    parser.add_argument("--train-prompts", type=int, default=HH_RLHF_TRAIN_PROMPTS)
    parser.add_argument("--policy-params", type=float, default=LLAMA2_7B_PARAMS)
    parser.add_argument("--reward-params", type=float, nargs="+",
                        default=[GPT2_LARGE_PARAMS, GPT2_LARGE_PARAMS])
    parser.add_argument("--paretohqd-tokens", type=token_lengths, nargs="+",
                        default=PARETOHQD_TOKENS,
                        help="ParetoHqD's SEQUENCE:ANSWER mean tokens, one per scenario")
    parser.add_argument("--ric-tokens", type=token_lengths, nargs="+",
                        default=RIC_TOKENS,
                        help="RiC's SEQUENCE:ANSWER mean tokens, one per scenario")
    args = parser.parse_args()
    if len(args.paretohqd_tokens) != len(args.ric_tokens):
        parser.error("--paretohqd-tokens and --ric-tokens need one pair each per scenario")
    config = load_config(args.configfile, ROOT / "schemas/config.schema.yaml")
    plans = {"paretohqd": paretohqd_plan(config, args.train_prompts),
             "ric": ric_plan(config, args.train_prompts)}
    print(f"configs: {', '.join(args.configfile)}; {args.train_prompts} train prompts; "
          f"policy {args.policy_params:.3g} parameters, reward models "
          f"{', '.join(f'{n:.3g}' for n in args.reward_params)}\n")
    print("| method | models | training sequences | answers generated and scored |")
    print("| --- | ---: | ---: | ---: |")
    for name, plan in plans.items():
        print(f"| {name} | {plan.models} | {plan.sequences:,} | {plan.answers:,} |")
    print("\n| scenario | method | tokens per sequence | tokens per answer | training FLOPs | "
          "generation FLOPs | scoring FLOPs | total FLOPs |")
    print("| ---: | --- |" + " ---: |" * 6)
    for scenario, pair in enumerate(zip(args.paretohqd_tokens, args.ric_tokens), start=1):
        tokens = dict(zip(plans, pair))
        flops = {name: plan_flops(plan, tokens[name], args.policy_params, args.reward_params)
                 for name, plan in plans.items()}
        for name in plans:
            print(f"| {scenario} | {name} | {tokens[name].sequence:g} | "
                  f"{tokens[name].answer:g} | " + " | ".join(flops_cells(flops[name])) + " |")
        print(f"| {scenario} | ParetoHqD / RiC (FLOPs) | | | "
              + " | ".join(ratio_cells(flops["paretohqd"], flops["ric"])) + " |")
    print("\nFLOPs, not GPU-hours: the paper's 42% (ParetoHqD / RiC) is a ratio of GPU-hours, "
          "which FLOPs do not determine (utilisation differs by line, generation is "
          "memory-bound, and start-up, model loads and hardware add to the hours).")


if __name__ == "__main__":
    main()
