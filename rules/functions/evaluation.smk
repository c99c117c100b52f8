# The functions rules/evaluation.smk calls (docs/EXTENDING.md: when each runs).


def get_eval_inputs(wildcards):
    """An evaluated model's files: the base model, its adapter (none for the base model) and
    prompt conditioning, the prompts (the test split, or a held-out set's), and the trained
    reward models and judges that score its answers."""
    method = REGISTRY[wildcards.method]
    inputs = {
        "base_model": get_base_model(wildcards),
        "reward_models": get_reward_models(wildcards),
        "judges": get_judge_models(wildcards),
        "prompts": (
            rules.heldout_prompts.output.prompts.format(heldout=wildcards.heldout)
            if "heldout" in wildcards.keys()
            else rules.prompts.output[0]
        ),
    }
    if method.model is not None:
        inputs["adapter"] = method.model.format(
            pref=wildcards.pref, seed=wildcards.seed
        )
    if method.conditioning is not None:
        inputs["conditioning"] = method.conditioning.input
    return inputs


def get_eval_conditioning(wildcards):
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


def eval_sampling_params():
    evaluation = config["evaluation"]
    keys = ("temperature", "top_p", "max_new_tokens", "batch_size")
    return {key: evaluation[key] for key in keys}


def eval_files(points, rule=None, **wildcards):
    """The answer and score tables of evaluated points (objectives innermost), as rule
    generate_eval writes them (or ``rule``, e.g. generate_heldout with its ``heldout``).
    """
    written = (rule or rules.generate_eval).output

    def fill(pattern, point):
        return pattern.format(
            method=point.method, seed=point.seed, pref=point.pref, **wildcards
        )

    return {
        "responses": [fill(written.responses, point) for point in points],
        "scores": [fill(path, point) for point in points for path in written.scores],
    }


def judged_files(points, rule=None, **wildcards):
    """The judges' score tables (judged objectives innermost) of evaluated points."""
    return [
        path.format(method=point.method, seed=point.seed, pref=point.pref, **wildcards)
        for point in points
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
        "points": plain_points(eval_points()),
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


def get_summary_input(wildcards):
    """The test answers' scores and judges' scores, the offline statistics and judges' scores
    (the frame), conditioning inputs and every method's benchmark files."""
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
        str(rules.generate_eval.benchmark).format(
            method=point.method, seed=point.seed, pref=point.pref
        )
        for point in eval_points()
    ]
    if HELDOUT:
        shared["held-out sets"] = [
            str(rules.generate_heldout.benchmark).format(
                heldout=name, method=point.method, seed=point.seed, pref=point.pref
            )
            for name in HELDOUT
            for point in eval_points()
        ]
    return shared


def get_compute_benchmarks(wildcards):
    """Every benchmark file the compute table reads (and the log beside each)."""
    groups = [*method_costs().values(), shared_costs()]
    return sorted(
        {path for group in groups for paths in group.values() for path in paths}
    )


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
        for model in published_models()
        for label, path in model["data"].items()
    ]


def get_heldout_summary_input(wildcards):
    """The test set's answers (as the summary reads them, prefixed ``test_``) and the held-out
    set's, for one set's summary."""
    points = eval_points()
    test = {f"test_{key}": paths for key, paths in eval_files(points).items()}
    heldout = eval_files(points, rules.generate_heldout, heldout=wildcards.heldout)
    return {
        **get_summary_input(wildcards),
        **test,
        "test_judged": judged_files(points),
        **heldout,
        "judged": judged_files(
            points, rules.generate_heldout, heldout=wildcards.heldout
        ),
    }
