# The method registry (paretohqd.registry): every file under rules/methods/ defines a method's
# rules and registers the methods it reports; evaluation, the summary, the model index and the
# hub read only the registry, so they name no method.
from paretohqd.registry import PREFERENCE_FIELD, Method, Registry

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
    """Every evaluated model and seed (paretohqd.registry.EvalPoint)."""
    return REGISTRY.points(config["methods"], PREFERENCES, SEEDS)


def plain_points(points):
    """Evaluation points as plain tuples for a rule's params: Snakemake's params trigger
    compares their repr, which is that of the tuples runs have always recorded."""
    return [tuple(point) for point in points]


def method_costs():
    """Benchmark files whose wall time each evaluated method is charged: its training, and its
    data generation beyond the shared offline data (of every seed: the summary reports the
    mean per seed)."""
    return {method.name: REGISTRY.costs(method.name) for method in evaluated()}


def published_models():
    """Every evaluated adapter per seed, with what its model card states."""
    return REGISTRY.published(eval_points(), list(OBJECTIVES))
