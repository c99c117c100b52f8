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

BASE_MODEL_DIR = "results/models/base"


wildcard_constraints:
    objective="|".join(OBJECTIVES),
    shard=r"\d+",
    table=r"[a-z0-9_]+(/[a-z0-9_]+)*",
    part=r"[A-Za-z0-9_]+",
    pref=r"p\d{3}(_\d{3})+|none",
    gen=r"p\d{3}(_\d{3})+|shared",
    method=r"[a-z0-9_]+",
    variant=r"paretohqd(_linear|_fulldata)?",


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


def all_reward_models(wildcards):
    """Every workflow-trained reward model (for rules that score with all objectives)."""
    return [reward_model_dir(name) for name in TRAINED_OBJECTIVES]


def policy_params():
    """What every rule that loads the policy needs (and nothing else)."""
    return {
        "model": base_model_path(),
        "prompt_format": config["base_model"]["prompt_format"],
        "device": config["device"],
        "dtype": config["dtype"],
    }


# ---- methods ------------------------------------------------------------------------------
METHODS = config["methods"]
NO_PREFERENCE = "none"
SHARED = "shared"
# ParetoHqD and its ablations share one rule chain; each variant differs in stage-1 data.
VARIANTS = [
    m for m in ("paretohqd", "paretohqd_linear", "paretohqd_fulldata") if m in METHODS
]
STAGE2_K = config["stage2"]["k"] or max(1, config["selection"]["k"] // 2)
STAGE2_STEPS = config["stage2"]["steps"] or max(1, config["sft"]["steps"] // 2)
SFT_ADAPTER = "results/sft/adapter"
BASELINES = config["baselines"]
RIC_ADAPTER = (
    "results/ric/online/adapter" if BASELINES["ric_online"] else "results/ric/adapter"
)


def needs_sft_baseline():
    return "sft" in METHODS or "paretohqd_fulldata" in METHODS


def selection_mode(variant):
    return "linear" if variant == "paretohqd_linear" else config["selection"]["mode"]


def stage1_adapter(variant, pref):
    """paretohqd_fulldata's stage 1 is the preference-blind SFT on the whole offline data."""
    if variant == "paretohqd_fulldata":
        return SFT_ADAPTER
    return f"results/{variant}/{pref}/stage1/adapter"


def stage2_generators(variant):
    """Who writes a variant's stage-2 pool: the M+1 representative stage-1 models, or the one
    shared stage-1 model of paretohqd_fulldata."""
    if variant == "paretohqd_fulldata":
        return [SHARED]
    return representatives(PREFERENCES, len(OBJECTIVES))


def selection_params(wildcards, k):
    params = {
        "objectives": list(OBJECTIVES),
        "weights": PREFERENCES[wildcards.pref],
        "k": k,
        "mode": selection_mode(wildcards.variant),
        "layers": config["selection"]["layers"],
        "normalisation": config["selection"]["normalisation"],
    }
    if params["mode"] == "direction":  # the linear ablation ranks all rows
        params["pool_factor"] = config["selection"]["pool_factor"]
    return params


def objective_selection_params(wildcards):
    """Rewarded soups: the top-k rows of one objective (w . r with a one-hot w)."""
    return {
        "objectives": list(OBJECTIVES),
        "weights": [float(name == wildcards.objective) for name in OBJECTIVES],
        "k": config["selection"]["k"],
        "mode": "linear",
        "layers": config["selection"]["layers"],
        "normalisation": config["selection"]["normalisation"],
    }


def stage2_selection_input(wildcards):
    inputs = {"table": f"results/{wildcards.variant}/stage2_pool/scored.parquet"}
    if config["stage2"]["mix_stage1"] and wildcards.variant != "paretohqd_fulldata":
        inputs["mix"] = (
            f"results/{wildcards.variant}/{wildcards.pref}/stage1/data.parquet"
        )
    return inputs


def sft_params(steps):
    return {**config["sft"], "steps": steps}


def launch_params():
    """How training rules run: in-process, or under `accelerate launch` with N processes."""
    return {"num_processes": TRAIN_PROCESSES}


# ---- evaluation and summary --------------------------------------------------------------
def method_adapters():
    """Evaluated method -> adapter path pattern per preference (None: the untuned base;
    a path without {pref}: one preference-blind model)."""
    adapters = {"base": None}
    if "paretohqd" in METHODS:
        adapters["paretohqd_stage1"] = "results/paretohqd/{pref}/stage1/adapter"
    for variant in VARIANTS:
        adapters[variant] = f"results/{variant}/{{pref}}/stage2/adapter"
    if "sft" in METHODS:
        adapters["sft"] = SFT_ADAPTER
    if "rewarded_soups" in METHODS:
        adapters["rewarded_soups"] = "results/rewarded_soups/{pref}/adapter"
    if "ric" in METHODS:
        adapters["ric"] = RIC_ADAPTER
    for method in ("modpo", "morlhf"):
        if method in METHODS:
            adapters[method] = f"results/{method}/{{pref}}/adapter"
    return adapters


# methods whose one model is steered per preference at inference, not trained per preference
CONDITIONED = {"ric"}


def method_prefs(method):
    pattern = method_adapters()[method]
    per_pref = method in CONDITIONED or (pattern and "{pref}" in pattern)
    return list(PREFERENCES) if per_pref else [NO_PREFERENCE]


def eval_adapter_input(wildcards):
    pattern = method_adapters()[wildcards.method]
    inputs = {} if pattern is None else {"adapter": pattern.format(pref=wildcards.pref)}
    if wildcards.method == "ric":
        inputs["ric_stats"] = "results/ric/stats.json"
    return inputs


def eval_conditioning(wildcards):
    """RiC: the preference whose desired rewards are written into every prompt."""
    if wildcards.method not in CONDITIONED:
        return None
    return {
        "objectives": list(OBJECTIVES),
        "weights": PREFERENCES[wildcards.pref],
        "map": BASELINES["ric_map"],
    }


def eval_sampling():
    evaluation = config["evaluation"]
    keys = ("temperature", "top_p", "max_new_tokens", "batch_size")
    return {key: evaluation[key] for key in keys}


def eval_points():
    """[(method, pref_id, weights or None)] for every evaluated model."""
    return [
        (method, pref, PREFERENCES.get(pref))
        for method in method_adapters()
        for pref in method_prefs(method)
    ]


def bench(rule, *parts):
    return os.path.join("results", "benchmarks", rule, *parts) + ".tsv"


def method_costs():
    """Benchmark files whose wall time each method is charged: its training, and its data
    generation beyond the shared offline data (e.g. ParetoHqD's stage-2 pool)."""
    costs = {"base": {"train": [], "generate": []}}
    sft_full = [bench("sft_full", "sft")]
    if "sft" in METHODS:
        costs["sft"] = {"train": sft_full, "generate": []}
    if "ric" in METHODS:
        costs["ric"] = {"train": [bench("sft_ric", "ric")], "generate": []}
        if BASELINES["ric_online"]:
            costs["ric"]["train"].append(bench("sft_ric_online", "ric"))
            costs["ric"]["generate"] = [
                bench("generate_ric_online", "ric"),
                bench("score_all", "ric", "online", "pool"),
            ]
    # MORLHF's generation happens inside its GRPO steps, so it is charged as training
    for method, trainer in (("modpo", "train_modpo"), ("morlhf", "train_morlhf")):
        if method in METHODS:
            costs[method] = {
                "train": [bench(trainer, p) for p in PREFERENCES],
                "generate": [],
            }
    if "rewarded_soups" in METHODS:
        per_objective = [bench("sft_objective", o) for o in OBJECTIVES]
        soups = [bench("soup", p) for p in PREFERENCES]
        costs["rewarded_soups"] = {"train": per_objective + soups, "generate": []}
    for variant in VARIANTS:
        stage1 = (
            sft_full
            if variant == "paretohqd_fulldata"
            else [bench("sft_stage1", variant, p) for p in PREFERENCES]
        )
        stage2 = [bench("sft_stage2", variant, p) for p in PREFERENCES]
        gens = stage2_generators(variant)
        pool = [bench("generate_stage2", variant, g) for g in gens]
        pool += [bench("score_all", variant, "stage2_pool", g) for g in gens]
        costs[variant] = {"train": stage1 + stage2, "generate": pool}
        if variant == "paretohqd":
            costs["paretohqd_stage1"] = {"train": stage1, "generate": []}
    return costs


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
