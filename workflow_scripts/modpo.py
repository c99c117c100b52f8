"""Train one preference's MODPO adapter on preference pairs from the scored offline data."""

from pathlib import Path

from paretohqd.io import read_table
from paretohqd.methods.modpo.training import preference_pairs, train_modpo, training_pairs
from paretohqd.runtime import start
from paretohqd.methods.modpo.config import MODPOSettings

log = start(snakemake)
p = snakemake.params
table = read_table(snakemake.input.data, required=["prompt_id", "prompt", "response",
                                                   *p.objectives],
                   nonempty_text=["prompt", "response"])
settings = MODPOSettings(**p.settings)
pairs = preference_pairs(table, p.objectives, p.weights, p.normalisation, settings.beta)
used = training_pairs(pairs, settings.steps * settings.batch_size, settings.seed)
log.info("%d preference pairs, %d used; mean margin %.4f", len(pairs), len(used),
         float(used["margin"].mean()))
metrics = train_modpo(p.model, used, p.weights, Path(snakemake.output[0]), Path(p.checkpoints),
                      settings, p.prompt_format)
log.info("trained: %s", metrics)
