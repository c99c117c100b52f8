# The functions rules/data.smk calls (docs/EXTENDING.md: when each runs).


def label_recipes():
    """The human-label recipes whose prompts the run's trained reward models (and judges)
    learn from: a held-out set must share no prompt with them."""
    return sorted(
        {OBJECTIVES[name]["train_recipe"] for name in TRAINED_OBJECTIVES} - {None, ""}
    )
