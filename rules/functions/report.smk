# The functions rules/report.smk calls (docs/EXTENDING.md: when each runs).


def answer_points():
    """The evaluation points of the first training seed: the answers the report shows side by
    side."""
    return [point for point in eval_points() if point.seed == SEEDS[0]]


def get_answer_files(wildcards):
    """The answer and score tables of answer_points()."""
    return eval_files(answer_points())
