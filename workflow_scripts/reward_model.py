"""Fine-tune one reward model on its human labels and record its held-out ROC AUC."""

from pathlib import Path

from paretohqd.io import read_table, write_json
from paretohqd.reward_training import RewardTrainingSettings, build_reward_splits, train_reward_model
from paretohqd.runtime import phase, start

log = start(snakemake)
p = snakemake.params
cfg = p.training
prompts = read_table(snakemake.input.prompts, required=["prompt", "references", "split"])
train, test = build_reward_splits(p.recipe, prompts, cfg["test_fraction"],
                                  cfg["conversation_pairs"], p.seed)
settings = RewardTrainingSettings(epochs=cfg["epochs"], learning_rate=cfg["learning_rate"],
                                  batch_size=cfg["batch_size"], max_length=cfg["max_length"],
                                  seed=p.seed, device=p.device, dtype=p.dtype)
with phase(log, "work"):
    metrics = train_reward_model(train, test, cfg["base"], Path(snakemake.output.model),
                                 Path(p.scratch), settings)
metrics["objective"], metrics["recipe"] = snakemake.wildcards.objective, p.recipe
log.info("metrics: %s", metrics)
write_json(metrics, snakemake.output.metrics)
