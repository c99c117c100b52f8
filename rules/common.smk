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
from paretohqd.registry import PREFERENCE_FIELD, Method, Registry
from paretohqd.selection import POOL_MODES
from paretohqd.settings import SFTSettings

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

BASE_MODEL_DIR = "results/models/base"


wildcard_constraints:
    objective="|".join(OBJECTIVES),
    shard=r"\d+",
    table=r"[a-z0-9_]+(/[a-z0-9_]+)*",
    part=r"[A-Za-z0-9_]+",
    pref=r"p\d{3}(_\d{3})+|none",
    method=r"[a-z0-9_]+",
    seed=r"\d+",
    round=r"[1-9]\d*",


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


# objective -> where its independent judge comes from (evaluation.judges; none: not judged)
JUDGES = judge_sources(config)
JUDGE_FRACTION = config["evaluation"]["judges"]["label_fraction"]


def judge_dir(objective):
    return f"results/judges/{objective}/model"


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


def judge_outputs(pattern):
    """One judge score table per judged objective: `pattern` with {objective} filled."""
    return expand(pattern, objective=JUDGES, allow_missing=True)


def trained_judges():
    """The objectives whose judge the workflow trains."""
    return [name for name, source in JUDGES.items() if source == TRAINED_JUDGE]


def all_judge_models(wildcards):
    """Every workflow-trained judge (for the rules that grade with them)."""
    return [judge_dir(name) for name in trained_judges()]


def reward_label_fraction(wildcards):
    """The share of an objective's labelled prompts held out from its reward model: its
    judge's (a trained judge), else none."""
    return JUDGE_FRACTION if JUDGES.get(wildcards.objective) == TRAINED_JUDGE else 0.0


def all_reward_models(wildcards):
    """Every workflow-trained reward model (for rules that score with all objectives)."""
    return [reward_model_dir(name) for name in TRAINED_OBJECTIVES]


def scoring_params():
    """What a generation rule that scores its own answers with every objective needs."""
    return {
        "scorers": {name: scorer_spec(name) for name in OBJECTIVES},
        "scoring": {
            key: config["scoring"][key] for key in ("batch_size", "max_length")
        },
    }


def score_outputs(pattern):
    """One scores table per objective: `pattern` with {objective} filled, other wildcards kept."""
    return expand(pattern, objective=OBJECTIVES, allow_missing=True)


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


# ---- rule bodies shared through `use rule` (rules/templates.smk) ---------------------------
def workflow_file(path):
    """A workflow file by its path from the Snakefile's folder. For rule bodies that other
    files reuse: `use rule` resolves relative script and conda paths from the reusing file.
    """
    return os.path.join(workflow.basedir, path)


# The software environments of all rules files, by absolute path (`use rule` resolves
# relative ones from the reusing file)
CORE_ENV = workflow_file("envs/core.yaml")
TORCH_ENV = workflow_file("envs/torch.yaml")


def checkpoint_dir(wildcards, output):
    """A training job's resumable checkpoints: its output's path under scratch/ instead of
    results/ (Snakemake deletes a job's outputs before it starts)."""
    return os.path.join("scratch", os.path.relpath(output[0], "results"))


def job_seed(wildcards):
    """The training seed of a per-seed job (its {seed} wildcard), else the global seed."""
    return int(wildcards.seed) if "seed" in wildcards.keys() else config["seed"]


def sft_settings(steps, **changes):
    """LoRA SFT settings (the `sft` section with these steps and `changes`, the job's seed), as
    a param function."""
    return lambda wildcards: asdict(
        replace(SFTSettings.from_config(config, steps, job_seed(wildcards)), **changes)
    )


def round_input(first, pattern):
    """An input function for a job of round r (wildcards seed, round) that continues the last
    round's output: `first` (a {seed} pattern) in round 1, `pattern` at round r - 1 after.
    """

    def previous(wildcards):
        r = int(wildcards.round)
        if r == 1:
            return expand(first, seed=wildcards.seed)[0]
        return expand(pattern, seed=wildcards.seed, round=r - 1)[0]

    return previous


def rounds_so_far(pattern):
    """An input function: `pattern`'s files of rounds 1..r for round r's job, round by round,
    then by objective where the pattern has one."""
    return lambda wc: [
        path
        for r in range(1, int(wc.round) + 1)
        for path in expand(pattern, seed=wc.seed, round=r, objective=OBJECTIVES)
    ]


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


# ---- the method registry (rules/methods/*.smk register; evaluation reads) ------------------
REGISTRY = Registry()


def register_method(
    name,
    model,
    run=None,
    every_run=False,
    conditioning=None,
    train=(),
    generate=(),
    stands_on=(),
    preferences=None,
    data=None,
    recipe=None,
):
    """Register a reported method (paretohqd.registry.Method): `run` is the `methods:` entry
    that makes it (default: its name), or none with `every_run`; `model` may be a rule's
    output; `preferences` ({id: weights}) replaces the configured ones for this method;
    `data` and `recipe` describe its training for model cards.
    """
    REGISTRY.register(
        Method(
            name=name,
            run=None if every_run else run or name,
            model=None if model is None else str(model),
            conditioning=conditioning,
            train=tuple(train),
            generate=tuple(generate),
            stands_on=tuple(stands_on),
            preferences=preferences,
            data={label: str(path) for label, path in (data or {}).items()},
            recipe=recipe or {},
        )
    )


def benchmarks(rule, **wildcards):
    """The benchmark files of a rule's jobs (`rules.<name>`) for these wildcard values, of
    every seed."""
    return expand(rule.benchmark, seed=SEEDS, **wildcards)


def evaluated():
    """The reported methods of this run: every run's (the base model), then `methods:`."""
    return REGISTRY.evaluated(config["methods"])


def eval_points():
    """[(method, pref_id, seed, weights or None)] for every evaluated model and seed."""
    return [
        (method.name, pref, seed, weights)
        for method in evaluated()
        for pref, weights in method.preference_points(PREFERENCES).items()
        for seed in SEEDS
    ]


def eval_inputs(wildcards):
    """The evaluated model's adapter (none for the base model) and its conditioning input."""
    method = REGISTRY[wildcards.method]
    inputs = {}
    if method.model is not None:
        inputs["adapter"] = method.model.format(
            pref=wildcards.pref, seed=wildcards.seed
        )
    if method.conditioning is not None:
        inputs["conditioning"] = method.conditioning.input
    return inputs


def eval_conditioning(wildcards):
    """A conditioned method's prompt conditioning for the evaluated preference, else None."""
    conditioning = REGISTRY[wildcards.method].conditioning
    if conditioning is None:
        return None
    return {
        "function": conditioning.function,
        "objectives": list(OBJECTIVES),
        "weights": PREFERENCES[wildcards.pref],
        "options": conditioning.options,
    }


def eval_sampling():
    evaluation = config["evaluation"]
    keys = ("temperature", "top_p", "max_new_tokens", "batch_size")
    return {key: evaluation[key] for key in keys}


def method_costs():
    """Benchmark files whose wall time each evaluated method is charged: its training, and its
    data generation beyond the shared offline data (of every seed: the summary reports the
    mean per seed)."""
    return {method.name: REGISTRY.costs(method.name) for method in evaluated()}


def shared_costs():
    """Benchmark files of the jobs every method needs once, by label: the offline data (the
    base model's conversion, generation and scoring), the reward models the workflow trains,
    the judges (training and their offline scores; their scoring of the answers is part of
    the evaluation), the evaluation of every model and its answers to the held-out sets.
    """
    offline = expand(rules.generate_offline.benchmark, shard=SHARDS) + expand(
        rules.score.benchmark, objective=OBJECTIVES, part=[f"shard{s}" for s in SHARDS]
    )
    if config["base_model"]["gguf_file"]:
        offline = [str(rules.base_model.benchmark), *offline]
    shared = {"offline data": offline}
    if TRAINED_OBJECTIVES:
        shared["reward models"] = expand(
            rules.reward_model.benchmark, objective=TRAINED_OBJECTIVES
        )
    if JUDGES:
        shared["judges"] = [str(rules.judge_offline.benchmark)] + expand(
            rules.judge_model.benchmark, objective=trained_judges()
        )
    shared["evaluation"] = [
        str(rules.generate_eval.benchmark).format(method=m, seed=s, pref=p)
        for m, p, s, _ in eval_points()
    ]
    if HELDOUT:
        shared["held-out sets"] = [
            str(rules.generate_heldout.benchmark).format(
                heldout=name, method=m, seed=s, pref=p
            )
            for name in HELDOUT
            for m, p, s, _ in eval_points()
        ]
    return shared


def compute_benchmarks(wildcards):
    """Every benchmark file the compute table reads (and the log beside each)."""
    groups = [*method_costs().values(), shared_costs()]
    return sorted(
        {path for group in groups for paths in group.values() for path in paths}
    )


def eval_files(points, rule=None, **wildcards):
    """The answer and score tables of evaluated points (objectives innermost), as rule
    generate_eval writes them (or ``rule``, e.g. generate_heldout with its ``heldout``).
    """
    written = (rule or rules.generate_eval).output
    return {
        "responses": [
            written.responses.format(method=m, seed=s, pref=p, **wildcards)
            for m, p, s, _ in points
        ],
        "scores": [
            path.format(method=m, seed=s, pref=p, **wildcards)
            for m, p, s, _ in points
            for path in written.scores
        ],
    }


def judged_files(points, rule=None, **wildcards):
    """The judges' score tables (judged objectives innermost) of evaluated points."""
    return [
        path.format(method=m, seed=s, pref=p, **wildcards)
        for m, p, s, _ in points
        for path in (rule or rules.generate_eval).output.judged
    ]


def conditioning_targets():
    """Per evaluated method whose prompt conditioning states its asked-for rewards: the
    function that computes them, the file it reads and the method's options."""
    return {
        method.name: {
            "function": method.conditioning.targets,
            "input": method.conditioning.input,
            "options": method.conditioning.options,
        }
        for method in evaluated()
        if method.conditioning is not None and method.conditioning.targets
    }


def summary_params():
    """What the summary and each held-out set's summary grade with."""
    return {
        "objectives": list(OBJECTIVES),
        "judges": JUDGES,
        "points": eval_points(),
        "seeds": SEEDS,
        "costs": method_costs(),
        "conditioning_targets": conditioning_targets(),
        "reference_point": config["summary"]["reference_point"],
        "compute_reference": config["summary"]["compute_reference"],
        "bootstrap": {
            "resamples": config["summary"]["bootstrap_resamples"],
            "seed": config["seed"],
            "level": config["summary"]["confidence"],
        },
        "collapse": {
            "min_words": config["evaluation"]["collapse_min_words"],
            "max_repeated_share": config["evaluation"]["collapse_max_repeated_share"],
        },
    }


def summary_input(wildcards):
    costs = method_costs()
    return {
        "stats": "results/offline/stats.json",
        "conditioning": sorted({t["input"] for t in conditioning_targets().values()}),
        **eval_files(eval_points()),
        "judged": judged_files(eval_points()),
        "judge_offline": list(rules.judge_offline.output),
        "benchmarks": sorted(
            {path for c in costs.values() for paths in c.values() for path in paths}
        ),
    }


def label_recipes():
    """The human-label recipes whose prompts the run's trained reward models (and judges)
    learn from: a held-out set must share no prompt with them."""
    return sorted(
        {OBJECTIVES[name]["train_recipe"] for name in TRAINED_OBJECTIVES} - {None, ""}
    )


def heldout_summary_input(wildcards):
    """The test set's answers (as the summary reads them, prefixed ``test_``) and the held-out
    set's, for one set's summary."""
    points = eval_points()
    test = {f"test_{key}": paths for key, paths in eval_files(points).items()}
    heldout = eval_files(points, rules.generate_heldout, heldout=wildcards.heldout)
    return {
        **summary_input(wildcards),
        **test,
        "test_judged": judged_files(points),
        **heldout,
        "judged": judged_files(
            points, rules.generate_heldout, heldout=wildcards.heldout
        ),
    }


def model_index_params():
    """What results/models/index.json lists (paretohqd.serving.model_index.build_index): the base
    model, and every evaluated method with one adapter per preference, with its preferences.
    """
    return {
        "base_model": base_model_path(),
        "prompt_format": config["base_model"]["prompt_format"],
        "objectives": list(OBJECTIVES),
        "seeds": SEEDS,
        "methods": {
            method.name: (method.model, method.preference_points(PREFERENCES))
            for method in evaluated()
            if PREFERENCE_FIELD in (method.model or "")
        },
        "scorers": {name: scorer_spec(name) for name in OBJECTIVES},
        "scoring_max_length": config["scoring"]["max_length"],
    }


# ---- hub-ready models and the report (rules/hub.smk, rules/report.smk) ---------------------
def hub_models():
    """Every evaluated adapter per seed, with what its model card states."""
    return REGISTRY.published(eval_points(), list(OBJECTIVES))


def training_sets():
    """Every evaluated adapter's training tables: method, set label, preference id, seed,
    weights (None for a shared model) and path."""
    return [
        {
            "method": model["method"],
            "label": label,
            "pref": model["pref"],
            "seed": model["seed"],
            "weights": (
                None if model["weights"] is None else list(model["weights"].values())
            ),
            "path": path,
        }
        for model in hub_models()
        for label, path in model["data"].items()
    ]


def hub_input(wildcards):
    """The published adapters, their training sets, the front and its metrics."""
    models = hub_models()
    return {
        "front": "results/summary/front.csv",
        "metrics": "results/summary/metrics.json",
        "adapters": sorted({model["adapter"] for model in models}),
        "data": sorted({path for model in models for path in model["data"].values()}),
    }


def answer_points():
    """[(method, pref_id, seed, weights)] of the first training seed: the answers the report
    shows side by side."""
    return [point for point in eval_points() if point[2] == SEEDS[0]]


def answer_files(wildcards):
    """The answer and score tables of answer_points()."""
    return eval_files(answer_points())
