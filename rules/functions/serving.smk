# The functions rules/serving.smk calls (docs/EXTENDING.md: when each runs).


def model_index_params():
    """What results/models/index.json lists (paretohqd.serving.model_index.build_index): the
    base model, and every evaluated method with one adapter per preference, with its
    preferences."""
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
