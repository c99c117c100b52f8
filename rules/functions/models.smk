# The functions rules/models.smk calls (docs/EXTENDING.md: when each runs).


def get_reward_label_fraction(wildcards):
    """The share of an objective's labelled prompts held out from its reward model: its
    judge's (a trained judge), else none."""
    return JUDGE_FRACTION if JUDGES.get(wildcards.objective) == TRAINED_JUDGE else 0.0
