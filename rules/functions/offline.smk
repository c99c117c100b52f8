# The functions rules/offline.smk calls (docs/EXTENDING.md: when each runs).


def get_reward_model(wildcards):
    """The workflow-trained reward model of an objective, if it has one."""
    if wildcards.objective in TRAINED_OBJECTIVES:
        return [reward_model_dir(wildcards.objective)]
    return []
