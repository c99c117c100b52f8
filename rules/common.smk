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

from paretohqd.config import check_config, preference_id
from paretohqd.selection import representatives

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
    pref=r"p\d{3}(_\d{3})+|none",
    method=r"[a-z0-9_]+",


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


def score_threads(wildcards):
    """Offline shards are large; stage-2 and evaluation tables are small enough that two
    single-threaded scoring jobs side by side finish sooner than one with all cores."""
    return TORCH_THREADS if wildcards.table == "offline" else 1


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


def policy_params():
    """What every rule that loads the policy needs (and nothing else)."""
    return {
        "model": base_model_path(),
        "prompt_format": config["base_model"]["prompt_format"],
        "device": config["device"],
        "dtype": config["dtype"],
    }


# ---- ParetoHqD -------------------------------------------------------------------------
REPRESENTATIVES = representatives(PREFERENCES, len(OBJECTIVES))
STAGE2_K = config["stage2"]["k"] or max(1, config["selection"]["k"] // 2)
STAGE2_STEPS = config["stage2"]["steps"] or max(1, config["sft"]["steps"] // 2)


def selection_params(wildcards, k):
    return {
        "objectives": list(OBJECTIVES),
        "weights": PREFERENCES[wildcards.pref],
        "k": k,
        "mode": config["selection"]["mode"],
        "layers": config["selection"]["layers"],
        "normalisation": config["selection"]["normalisation"],
    }


def stage2_selection_input(wildcards):
    inputs = {"table": "results/stage2/scored.parquet"}
    if config["stage2"]["mix_stage1"]:
        inputs["mix"] = f"results/paretohqd/{wildcards.pref}/stage1/data.parquet"
    return inputs


def sft_params(steps):
    return {**config["sft"], "steps": steps}


# ---- evaluation and summary --------------------------------------------------------------
# method -> where its adapter for a preference lives (None: the untuned base model)
METHOD_ADAPTERS = {
    "base": None,
    "paretohqd_stage1": "results/paretohqd/{pref}/stage1/adapter",
    "paretohqd": "results/paretohqd/{pref}/stage2/adapter",
}
NO_PREFERENCE = "none"


def method_prefs(method):
    return [NO_PREFERENCE] if METHOD_ADAPTERS[method] is None else list(PREFERENCES)


def eval_adapter_input(wildcards):
    pattern = METHOD_ADAPTERS[wildcards.method]
    return {} if pattern is None else {"adapter": pattern.format(pref=wildcards.pref)}


def eval_sampling():
    evaluation = config["evaluation"]
    keys = ("temperature", "top_p", "max_new_tokens", "batch_size")
    return {key: evaluation[key] for key in keys}


def eval_points():
    """[(method, pref_id, weights or None)] for every evaluated model."""
    return [
        (method, pref, PREFERENCES.get(pref))
        for method in METHOD_ADAPTERS
        for pref in method_prefs(method)
    ]


def method_costs():
    """Benchmark files whose wall time each method is charged: training and data generation
    beyond the shared offline data (stage-2 generation and scoring for ParetoHqD)."""
    stage1 = [f"results/benchmarks/sft_stage1/{p}.tsv" for p in PREFERENCES]
    stage2_train = [f"results/benchmarks/sft_stage2/{p}.tsv" for p in PREFERENCES]
    stage2_data = [
        f"results/benchmarks/generate_stage2/{p}.tsv" for p in REPRESENTATIVES
    ]
    stage2_data += [
        f"results/benchmarks/score/stage2/{o}/{p}.tsv"
        for o in OBJECTIVES
        for p in REPRESENTATIVES
    ]
    return {
        "base": {"train": [], "generate": []},
        "paretohqd_stage1": {"train": stage1, "generate": []},
        "paretohqd": {"train": stage1 + stage2_train, "generate": stage2_data},
    }


def summary_input(wildcards):
    points = eval_points()
    costs = method_costs()
    return {
        "stats": "results/offline/stats.json",
        "responses": [f"results/eval/{m}/responses/{p}.parquet" for m, p, _ in points],
        "scores": [
            f"results/eval/{m}/scores/{o}/{p}.parquet"
            for m, p, _ in points
            for o in OBJECTIVES
        ],
        "benchmarks": sorted(
            {path for c in costs.values() for paths in c.values() for path in paths}
        ),
    }
