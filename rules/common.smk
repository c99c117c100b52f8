import os
import sys

from snakemake.utils import min_version, validate

# The paretohqd package lives beside the Snakefile: importable here and in every job's script,
# also in conda envs and on cluster nodes (jobs inherit the environment).
sys.path.insert(0, workflow.basedir)
os.environ.update(
    PYTHONPATH=os.pathsep.join(
        p for p in (workflow.basedir, os.environ.get("PYTHONPATH")) if p
    )
)

from paretohqd.config import check_config, objective_names, preference_id

min_version("9.0")

validate(config, schema="../schemas/config.schema.yaml")
check_config(config)

OBJECTIVES = {objective["name"]: objective for objective in config["objectives"]}
TRAINED_OBJECTIVES = [
    name
    for name, objective in OBJECTIVES.items()
    if objective["scorer"] == "classifier" and not objective["model"]
]
SHARDS = list(range(config["offline"]["shards"]))
PREFERENCES = {preference_id(w): w for w in config["preferences"]}
# Torch rules ask for this many threads; Snakemake lowers it to --cores on a workstation.
TORCH_THREADS = 8

BASE_MODEL_DIR = "results/models/base"


wildcard_constraints:
    objective="|".join(OBJECTIVES),
    shard=r"\d+",
    table=r"[a-z0-9_]+(/[a-z0-9_]+)*",
    part=r"[A-Za-z0-9_]+",


def base_model_input(wildcards):
    """The converted base model folder when it is built from a GGUF file, else nothing."""
    return [BASE_MODEL_DIR] if config["base_model"]["gguf_file"] else []


def base_model_path():
    """What from_pretrained loads: the converted folder, or the configured hub name/path."""
    if config["base_model"]["gguf_file"]:
        return BASE_MODEL_DIR
    return config["base_model"]["source"]


def reward_model_dir(objective):
    return f"results/reward_models/{objective}/model"


def reward_model_input(wildcards):
    """The workflow-trained reward model of an objective, if it has one."""
    if wildcards.objective in TRAINED_OBJECTIVES:
        return [reward_model_dir(wildcards.objective)]
    return []


def scorer_params(wildcards):
    """Only what scoring one objective needs, so other objectives' edits do not re-run it."""
    objective = OBJECTIVES[wildcards.objective]
    model = objective["model"] or reward_model_dir(wildcards.objective)
    return {
        "kind": objective["scorer"],
        "model": model if objective["scorer"] == "classifier" else None,
        "logit_index": objective["logit_index"],
        "input_format": objective["input_format"],
    }


def device_params():
    return {"device": config["device"], "dtype": config["dtype"]}
