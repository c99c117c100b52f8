import re

import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from paretohqd.config import (ConfigError, check_config, load_config, objective_names,
                              parse_command_line_values, preference_id, training_seeds)
from workflow_runner import planned_outputs, snakemake


def test_preference_id_is_dot_free_and_padded():
    assert preference_id([0.2, 0.8]) == "p020_080"
    assert preference_id([0.0, 1.0]) == "p000_100"
    assert preference_id([0.3333334, 0.3333333, 0.3333333]) == "p033_033_033"


def test_schema_fills_defaults(config):
    assert config["scoring"]["batch_size"] >= 1
    assert objective_names(config) == ["harmless", "helpful"]
    assert config["objectives"][0]["logit_index"] == 0
    assert config["objectives"][0]["input_format"] == "pair"


def test_default_config_passes(config):
    check_config(config)


@pytest.mark.parametrize(
    "weights, message",
    [
        ([0.5, 0.3, 0.2], "has 3 entries but there are 2 objectives"),
        ([-0.1, 1.1], "must be >= 0"),
        ([0.5, 0.6], "sum to 1.1"),
    ],
)
def test_bad_preference_names_its_key(config, weights, message):
    config["preferences"].append(weights)
    index = len(config["preferences"]) - 1
    with pytest.raises(ConfigError, match=rf"preferences\[{index}\].*{message}"):
        check_config(config)


def test_duplicate_preference(config):
    config["preferences"].append([0.5, 0.5])
    with pytest.raises(ConfigError, match="same id 'p050_050'"):
        check_config(config)


def test_duplicate_objective_name(config):
    config["objectives"][1]["name"] = "harmless"
    with pytest.raises(ConfigError, match=r"objectives: duplicate name\(s\) \['harmless'\]"):
        check_config(config)


def test_seeds_default_to_the_global_seed(config):
    assert config["seeds"] is None and training_seeds(config) == [config["seed"]]
    config["seeds"] = [3, 1]
    assert training_seeds(config) == [3, 1]


def test_duplicate_seeds_are_named(config):
    config["seeds"] = [1, 2, 1]
    with pytest.raises(ConfigError, match=r"seeds = \[1, 2, 1\]: duplicate seed\(s\) \[1\]"):
        check_config(config)


def test_classifier_needs_model_or_recipe(config):
    config["objectives"][0]["train_recipe"] = None
    with pytest.raises(ConfigError, match=r"objectives\[0\] \(harmless\)"):
        check_config(config)


@pytest.mark.parametrize(
    "patch, culprit",
    [
        ({"selection": {"k": 0}}, "k"),
        ({"seed": "one"}, "seed"),
        ({"seeds": []}, "seeds"),
        ({"seeds": [1, "two"]}, "seeds"),
        ({"generation": {"top_p": "0.9"}}, "top_p"),
        ({"unknown_key": 1}, "unknown_key"),
        ({"device": "tpu"}, "device"),
        ({"accelerate": {"num_processes": 0}}, "num_processes"),
        ({"evaluation": {"heldout_sets": [{"name": "x", "source": "redteam"}]}}, "source"),
        ({"evaluation": {"heldout_sets": [{"name": "a b", "source": "harmbench"}]}}, "name"),
        ({"evaluation": {"heldout_sets": [{"name": "x", "source": "hub", "template": "Q"}]}},
         "template"),
        ({"sft": {"lora_target_modules": []}}, "lora_target_modules"),
        ({"sft": {"lora_target_modules": "q_proj"}}, "lora_target_modules"),
        ({"sft": {"lora_target_modules": ["q_proj", ""]}}, "lora_target_modules"),
        ({"sft": {"lora_target_modules": ["q_proj", "q_proj"]}}, "lora_target_modules"),
    ],
)
def test_schema_rejects_bad_values_naming_the_key(repo_root, patch, culprit):
    with pytest.raises(WorkflowError, match=culprit):
        validate(patch, str(repo_root / "schemas/config.schema.yaml"))


def test_lora_targets_default_to_all_linear_or_take_module_names(config, repo_root):
    assert config["sft"]["lora_target_modules"] == "all-linear"
    given = {"sft": {"lora_target_modules": ["q_proj", "v_proj"]}}
    validate(given, str(repo_root / "schemas/config.schema.yaml"))
    assert given["sft"]["lora_target_modules"] == ["q_proj", "v_proj"]


@pytest.mark.parametrize("name", ["hh_rlhf", "hh_rlhf_3obj", "reddit_tldr"])
def test_paper_configs_put_the_lora_where_ric_does(repo_root, name):
    """RiC's released LoraConfig names no target_modules: PEFT's default for Llama, q and v."""
    config = load_config([repo_root / f"config/{name}.yaml"],
                         repo_root / "schemas/config.schema.yaml")
    assert config["sft"]["lora_target_modules"] == ["q_proj", "v_proj"]


@pytest.mark.parametrize("device", ["cpu", "auto", "cuda"])
def test_several_processes_per_job_on_any_device(config, device):
    """accelerate.num_processes > 1 is not only for GPUs: on a CPU the processes train with
    gloo (tests/test_launch.py runs two)."""
    config["accelerate"]["num_processes"] = 2
    config["device"] = device
    check_config(config)


def test_bad_interpolation_preference_names_its_key(config):
    config["interpolation"]["preferences"] = [[0.3, 0.7], [0.4, 0.5]]
    with pytest.raises(ConfigError, match=r"interpolation.preferences\[1\] = \[0.4, 0.5\]: "
                                          "entries sum to 0.9"):
        check_config(config)
    config["interpolation"]["preferences"] = [[0.3, 0.7], [0.3, 0.7]]
    with pytest.raises(ConfigError, match=r"same id 'p030_070' as interpolation.preferences\[0\]"):
        check_config(config)


def test_judge_sources(config):
    """Workflow-trained reward models get workflow-trained judges; judges.models names a ready
    judge; an objective with a hub reward model and no judge model is not judged; off: none."""
    from paretohqd.config import judge_sources

    assert judge_sources(config) == {"harmless": "trained", "helpful": "trained"}
    config["objectives"][1]["model"] = "org/helpful-rm"
    assert judge_sources(config) == {"harmless": "trained"}
    config["evaluation"]["judges"]["models"] = {"helpful": {"model": "org/other-rm"}}
    assert judge_sources(config) == {"harmless": "trained", "helpful": "model"}
    config["evaluation"]["judges"]["enabled"] = False
    assert judge_sources(config) == {}


def test_judge_for_an_unknown_objective_is_named(config):
    config["evaluation"]["judges"]["models"] = {"helpfull": {"model": "org/rm"}}
    with pytest.raises(ConfigError, match=r"evaluation.judges.models: \['helpfull'\] are not "
                                          r"objectives \['harmless', 'helpful'\]"):
        check_config(config)


def test_held_out_sets_with_one_name_twice_or_a_hub_set_without_a_dataset_are_named(config):
    config["evaluation"]["heldout_sets"] = [{"name": "hb", "source": "harmbench"},
                                            {"name": "hb", "source": "past_tense"}]
    with pytest.raises(ConfigError, match=r"evaluation.heldout_sets: the name\(s\) \['hb'\]"):
        check_config(config)
    config["evaluation"]["heldout_sets"] = [{"name": "adv", "source": "hub", "dataset": None}]
    with pytest.raises(ConfigError, match=r"heldout_sets\[0\] \(adv\): source hub needs"):
        check_config(config)


def test_command_line_strings_are_read_as_the_schema_types(repo_root):
    """What `--config` hands the workflow (every list item a string) becomes the schema's
    types; strings where the schema wants strings, and YAML 1.1's string `2e-4`, stay."""
    schema = yaml.safe_load((repo_root / "schemas/config.schema.yaml").read_text())
    given = {"preferences": [["0.3", "0.7"], ["1", "0"]], "seeds": ["1", "2"], "seed": 7,
             "methods": ["paretohqd", "sft"], "sft": {"learning_rate": "2e-4", "steps": "3"},
             "evaluation": {"judges": {"enabled": "false"}}}
    parsed = parse_command_line_values(given, schema)
    assert parsed == {"preferences": [[0.3, 0.7], [1, 0]], "seeds": [1, 2], "seed": 7,
                      "methods": ["paretohqd", "sft"],
                      "sft": {"learning_rate": "2e-4", "steps": 3},
                      "evaluation": {"judges": {"enabled": False}}}
    assert parse_command_line_values({"seeds": "null"}, schema) == {"seeds": None}
    assert parse_command_line_values({"seed": "x"}, schema) == {"seed": "x"}


@pytest.mark.parametrize("preferences, expected", [
    ("[[0.3,0.7],[1,0]]", None),
    ("[[0.3,0.8]]", r"preferences\[0\] = \[0.3, 0.8\]: entries sum to 1.1"),
])
def test_preferences_from_the_command_line(tmp_path, preferences, expected):
    """The real `snakemake --config preferences=...`: the vectors are numbers, their chains
    are planned under their ids, and a bad one is named."""
    result = snakemake("-n", "--config", f"preferences={preferences}", workdir=tmp_path)
    if expected is not None:
        assert result.returncode != 0
        assert re.search(expected, result.stdout + result.stderr)
        return
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    planned = {path.split("/")[2] for path in planned_outputs(result.stdout)
               if path.startswith("results/paretohqd/") and "/stage1/data" in path}
    assert planned == {"p030_070", "p100_000"}
