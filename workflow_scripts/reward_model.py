"""Fine-tune one reward model (or an independent judge: params.part) on its human labels and
record its held-out ROC AUC."""

from pathlib import Path

from paretohqd.io import read_table, write_json
from paretohqd.rewards.training import build_reward_splits, train_reward_model
from paretohqd.runtime import log_count, phase, start
from paretohqd.rewards.config import RewardTrainingSettings

log = start(snakemake)
p = snakemake.params
settings = RewardTrainingSettings(**p.settings)
prompts = read_table(snakemake.input.prompts, required=["prompt", "references", "split"])
train, test = build_reward_splits(p.recipe, prompts, p.test_fraction, p.conversation_pairs,
                                  settings.seed, p.part, p.judge_fraction)
with phase(log, "work"):
    metrics = train_reward_model(train, test, p.base, Path(snakemake.output.model),
                                 Path(p.scratch), settings)
# a full fine-tune: FLOPs about 6 N T; the held-out scoring is a forward pass, 2 N T
log_count(log, "train_tokens", metrics["train_tokens"])
log_count(log, "full_train_param_tokens", metrics["parameters"] * metrics["train_tokens"])
log_count(log, "scored_tokens", metrics["scored_tokens"])
log_count(log, "scored_param_tokens", metrics["parameters"] * metrics["scored_tokens"])
metrics["objective"], metrics["recipe"] = snakemake.wildcards.objective, p.recipe
metrics["part"], metrics["base"] = p.part, p.base
log.info("metrics: %s", metrics)
write_json(metrics, snakemake.output.metrics)
