"""ParetoHqD's and RiC's training compute at a size this machine cannot run, projected from
their recipes: the counts of ``paretohqd.evaluation.recipe_plan`` (models, training sequences,
answers generated for training data) for a config (default: the paper-scale
``config/hh_rlhf.yaml``, whose ``baselines.ric`` is RiC's released recipe) and the FLOPs formula
of the compute table (4 N T LoRA training, 2 N T per forward pass of the policy and of each
reward model). Mean tokens per training sequence and per generated answer (prompt and new
tokens) are not known without the data, so the ratio is printed over a grid of them.
The shared costs (scoring the offline data, evaluation) are left out: both methods pay them.

Usage: .venv/bin/python bench/paper_scale_compute.py [--configfile config/hh_rlhf.yaml ...]
       [--train-prompts 160800] [--policy-params 6.74e9] [--reward-params 7.74e8 7.74e8]
       [--sequence-tokens 128 256 512] [--answer-tokens 128 256 512]
Prints Markdown: each method's plan, then FLOPs and ParetoHqD / RiC per token pair.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from paretohqd.config import load_config
from paretohqd.evaluation.recipe_plan import paretohqd_plan, plan_flops, ric_plan

ROOT = Path(__file__).resolve().parents[1]
# Anthropic/hh-rlhf's train split (pairs; one prompt each); Llama-2-7B; gpt2-large reward models
HH_RLHF_TRAIN_PROMPTS = 160_800
LLAMA2_7B_PARAMS = 6.74e9
GPT2_LARGE_PARAMS = 7.74e8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configfile", nargs="+", default=[str(ROOT / "config/hh_rlhf.yaml")],
                        help="config files, merged in order as --configfile does")
    parser.add_argument("--train-prompts", type=int, default=HH_RLHF_TRAIN_PROMPTS)
    parser.add_argument("--policy-params", type=float, default=LLAMA2_7B_PARAMS)
    parser.add_argument("--reward-params", type=float, nargs="+",
                        default=[GPT2_LARGE_PARAMS, GPT2_LARGE_PARAMS])
    parser.add_argument("--sequence-tokens", type=float, nargs="+", default=[128, 256, 512])
    parser.add_argument("--answer-tokens", type=float, nargs="+", default=[128, 256, 512])
    args = parser.parse_args()
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
    print("\n| tokens per sequence | tokens per answer | ParetoHqD FLOPs | RiC FLOPs | "
          "ParetoHqD / RiC |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for sequence in args.sequence_tokens:
        for answer in args.answer_tokens:
            flops = {name: plan_flops(plan, args.policy_params, args.reward_params, sequence,
                                      answer) for name, plan in plans.items()}
            print(f"| {sequence:g} | {answer:g} | {flops['paretohqd']:.3g} | {flops['ric']:.3g} "
                  f"| {flops['paretohqd'] / flops['ric']:.2f} |")


if __name__ == "__main__":
    main()
