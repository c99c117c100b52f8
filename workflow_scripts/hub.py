"""Publish every evaluated adapter as a hub-ready folder: its files, a tokenizer and a model
card with its preference, training data, measured rewards and the command that made it."""

from pathlib import Path

from paretohqd.publishing.cards import CardFacts, render_card
from paretohqd.publishing.hub import (
    copy_adapter,
    ensure_tokenizer,
    measured_rewards,
    model_folder,
    training_sets,
)
from paretohqd.io import read_json, read_table
from paretohqd.runtime import start

log = start(snakemake)
p = snakemake.params
front = read_table(snakemake.input.front, required=["method", "pref_id", "n_seeds", "n_eval"])
n_prompts = read_json(snakemake.input.metrics)["bootstrap"]["prompts"]
objectives = list(p.reward_models)
Path(snakemake.output[0]).mkdir(parents=True, exist_ok=True)  # also with no adapter to publish
for model in p.models:
    folder = model_folder(Path(snakemake.output[0]), model["method"], model["seed"],
                          model["pref"])
    copy_adapter(Path(model["adapter"]), folder, p.base["card"])
    if ensure_tokenizer(folder, p.base["path"]):
        log.info("%s: no tokenizer in %s, saved the base model's", folder, model["adapter"])
    rewards, row = measured_rewards(front, model["method"], model["pref"], objectives)
    facts = CardFacts(
        method=model["method"], pref_id=model["pref"], seed=model["seed"],
        weights=model["weights"], base_model=p.base["card"], gguf_file=p.base["gguf_file"],
        reward_models=p.reward_models, rewards=rewards, n_seeds=int(row["n_seeds"]),
        n_prompts=n_prompts, n_answers=int(row["n_eval"]), command=p.command,
        data=training_sets(model["data"], objectives), recipe=model["recipe"],
        conditioning=model["conditioning"])
    (folder / "README.md").write_text(render_card(facts), encoding="utf-8")
    log.info("published %s", folder)
