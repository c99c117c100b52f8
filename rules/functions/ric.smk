# The functions rules/methods/ric.smk calls (docs/EXTENDING.md: when each runs).


def get_previous_round(first, pattern):
    """An input function for a job of round r (wildcards seed, round) that continues the last
    round's output: `first` (a {seed} pattern) in round 1, `pattern` at round r - 1 after.
    """

    def previous(wildcards):
        r = int(wildcards.round)
        if r == 1:
            return expand(first, seed=wildcards.seed)[0]
        return expand(pattern, seed=wildcards.seed, round=r - 1)[0]

    return previous


def get_rounds_so_far(pattern):
    """An input function: `pattern`'s files of rounds 1..r for round r's job, round by round,
    then by objective where the pattern has one."""
    return lambda wc: [
        path
        for r in range(1, int(wc.round) + 1)
        for path in expand(pattern, seed=wc.seed, round=r, objective=OBJECTIVES)
    ]
