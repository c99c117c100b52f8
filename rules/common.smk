import os
import sys
from dataclasses import asdict, replace

import yaml
from snakemake.utils import min_version, validate

# The paretohqd package lives beside the Snakefile: importable here and in every job's script,
# also in conda envs and on cluster nodes (jobs inherit the environment).
sys.path.insert(0, workflow.basedir)
os.environ.update(
    PYTHONPATH=os.pathsep.join(
        p for p in (workflow.basedir, os.environ.get("PYTHONPATH")) if p
    )
)

from paretohqd.config import (
    TRAINED_JUDGE,
    check_config,
    judge_sources,
    parse_command_line_values,
    preference_id,
    training_seeds,
)
from paretohqd.selection import POOL_MODES
from paretohqd.policy.config import SFTSettings

min_version("9.0")

# `--config key=[...]` gives strings for every list item: read them as the schema's types
with open(os.path.join(workflow.basedir, "schemas/config.schema.yaml")) as schema_file:
    config.update(parse_command_line_values(config, yaml.safe_load(schema_file)))
validate(config, schema="../schemas/config.schema.yaml")
check_config(config)

OBJECTIVES = {objective["name"]: objective for objective in config["objectives"]}
TRAINED_OBJECTIVES = [
    name
    for name, objective in OBJECTIVES.items()
    if objective["scorer"] == "classifier" and not objective["model"]
]
SHARDS = list(range(config["offline"]["shards"]))
HELDOUT = {spec["name"]: spec for spec in config["evaluation"]["heldout_sets"]}
PREFERENCES = {preference_id(w): w for w in config["preferences"]}
# Training seeds: every job that trains, generates with a trained model or evaluates runs once
# per seed (a `seed{seed}` path level); the rest is shared and uses the global `seed`.
SEEDS = training_seeds(config)
# Torch rules run single-threaded so that Snakemake runs --cores of them side by side: most of
# a job is single-threaded start-up (interpreter, imports, model loads), and on a small CPU a
# second thread gains little while a two-threaded job collapses as soon as anything else runs
# (docs/BENCHMARKS.md). Give one rule more with `--set-threads rule=N` (profiles/slurm does).
TORCH_THREADS = 1
# With device cuda, torch rules ask for GPUs: queued by a `gpu` resource limit on a
# workstation, requested from SLURM on a cluster. Training rules take one per process.
GPUS = 1 if config["device"].startswith("cuda") else 0
TRAIN_PROCESSES = config["accelerate"]["num_processes"]
TRAIN_GPUS = GPUS * TRAIN_PROCESSES
# and TORCH_THREADS per process (`--set-threads` splits a rule's threads among them)
TRAIN_THREADS = TORCH_THREADS * TRAIN_PROCESSES
# What every torch job asks for beyond its threads (`resources: **TORCH_RESOURCES`); training
# rules' GPUs count their processes
TORCH_RESOURCES = {"gpu": GPUS}
TRAIN_RESOURCES = {"gpu": TRAIN_GPUS}
# objective -> where its independent judge comes from (evaluation.judges; none: not judged)
JUDGES = judge_sources(config)
JUDGE_FRACTION = config["evaluation"]["judges"]["label_fraction"]

BASE_MODEL_DIR = "results/models/base"


def workflow_file(path):
    """A workflow file by its path from the Snakefile's folder: every rule names its script
    and environment this way, as `use rule` resolves relative paths from the reusing file.
    """
    return os.path.join(workflow.basedir, path)


CORE_ENV = workflow_file("envs/core.yaml")
TORCH_ENV = workflow_file("envs/torch.yaml")


wildcard_constraints:
    objective="|".join(OBJECTIVES),
    shard=r"\d+",
    table=r"[a-z0-9_]+(/[a-z0-9_]+)*",
    part=r"[A-Za-z0-9_]+",
    pref=r"p\d{3}(_\d{3})+|none",
    method=r"[a-z0-9_]+",
    seed=r"\d+",
    round=r"[1-9]\d*",


# Function names say when Snakemake calls them (docs/EXTENDING.md): a `get_*` function runs
# for each job (named without parentheses in a rule, or returned by a `get_*(...)` factory);
# every other function runs once, while the workflow is parsed.


# ---- paths and inputs every stage shares ---------------------------------------------------
def base_model_path():
    """What from_pretrained loads: the converted folder, or the configured hub name/path."""
    if config["base_model"]["gguf_file"]:
        return BASE_MODEL_DIR
    return config["base_model"]["source"]


def reward_model_dir(objective):
    return f"results/reward_models/{objective}/model"


def judge_dir(objective):
    return f"results/judges/{objective}/model"


def trained_judges():
    """The objectives whose judge the workflow trains."""
    return [name for name, source in JUDGES.items() if source == TRAINED_JUDGE]


def get_base_model(wildcards):
    """The converted base model folder when it is built from a GGUF file, else nothing."""
    return [BASE_MODEL_DIR] if config["base_model"]["gguf_file"] else []


def get_reward_models(wildcards):
    """Every workflow-trained reward model (for rules that score with all objectives)."""
    return [reward_model_dir(name) for name in TRAINED_OBJECTIVES]


def get_judge_models(wildcards):
    """Every workflow-trained judge (for the rules that grade with them)."""
    return [judge_dir(name) for name in trained_judges()]


def score_outputs(pattern):
    """One scores table per objective: `pattern` with {objective} filled, other wildcards kept."""
    return expand(pattern, objective=OBJECTIVES, allow_missing=True)


def judge_outputs(pattern):
    """One judge score table per judged objective: `pattern` with {objective} filled."""
    return expand(pattern, objective=JUDGES, allow_missing=True)


# ---- params every stage shares -------------------------------------------------------------
def scorer_spec(name):
    """How to score one objective: scorer kind, model, logit and input format."""
    objective = OBJECTIVES[name]
    model = objective["model"] or reward_model_dir(name)
    return {
        "kind": objective["scorer"],
        "model": model if objective["scorer"] == "classifier" else None,
        "logit_index": objective["logit_index"],
        "input_format": objective["input_format"],
    }


def judge_spec(name):
    """How a judge scores (as scorer_spec): a ready model of judges.models, or the workflow's
    judge trained like the objective's reward model."""
    if JUDGES[name] == TRAINED_JUDGE:
        return {**scorer_spec(name), "model": judge_dir(name)}
    ready = config["evaluation"]["judges"]["models"][name]
    return {"kind": "classifier", **ready}


def judge_scorers():
    """Every judge's scorer spec, by objective (in objective order)."""
    return {name: judge_spec(name) for name in JUDGES}


def scoring_params():
    """What a generation rule that scores its own answers with every objective needs."""
    return {
        "scorers": {name: scorer_spec(name) for name in OBJECTIVES},
        "scoring": {
            key: config["scoring"][key] for key in ("batch_size", "max_length")
        },
    }


def policy_source():
    """Where the policy comes from and how its prompts are rendered (for training rules,
    whose settings carry device and dtype)."""
    return {
        "model": base_model_path(),
        "prompt_format": config["base_model"]["prompt_format"],
    }


def policy_params():
    """What every rule that loads the policy to generate needs (and nothing else)."""
    return {**policy_source(), "device": config["device"], "dtype": config["dtype"]}


def launch_params():
    """How training rules run: in-process, or under `accelerate launch` with N processes."""
    return {"num_processes": TRAIN_PROCESSES}


def selection_params(weights, k, mode):
    """One selection's settings (select_rows' keywords). pool_factor only for modes that pick
    from the Pareto pool, so changing it leaves the others' selections alone."""
    params = {
        "objectives": list(OBJECTIVES),
        "weights": weights,
        "k": k,
        "mode": mode,
        "n_layers": config["selection"]["layers"],
        "normalisation": config["selection"]["normalisation"],
    }
    if mode in POOL_MODES:
        params["pool_factor"] = config["selection"]["pool_factor"]
    # absent at 0, so that runs from before the option stay up to date
    if config["selection"]["frame_quantile"]:
        params["frame_quantile"] = config["selection"]["frame_quantile"]
    return params


def get_job_seed(wildcards):
    """The training seed of a per-seed job (its {seed} wildcard), else the global seed."""
    return int(wildcards.seed) if "seed" in wildcards.keys() else config["seed"]


def get_checkpoint_dir(wildcards, output):
    """A training job's resumable checkpoints: its output's path under scratch/ instead of
    results/ (Snakemake deletes a job's outputs before it starts)."""
    return os.path.join("scratch", os.path.relpath(output[0], "results"))


def get_sft_settings(steps, **changes):
    """LoRA SFT settings per job: the `sft` section with these steps and `changes`, and the
    job's seed."""
    return lambda wildcards: asdict(
        replace(
            SFTSettings.from_config(config, steps, get_job_seed(wildcards)), **changes
        )
    )
