"""The method registry: which methods a run evaluates, in which order, and their compute."""

import pytest

from paretohqd.config import ConfigError
from paretohqd.registry import Conditioning, EvalPoint, Method, Registry


def registry() -> Registry:
    methods = Registry()
    methods.register(Method("base", run=None, model=None))
    methods.register(Method("full", run="full", model="results/full/{pref}/stage2",
                            train=("s2.tsv",), generate=("pool.tsv",), stands_on=("early",)))
    methods.register(Method("early", run="full", model="results/full/{pref}/stage1",
                            train=("s1.tsv",)))
    methods.register(Method("blind", run="blind", model="results/blind", train=("b.tsv",)))
    methods.register(Method("steered", run="steered", model="results/steered",
                            conditioning=Conditioning("pkg.mod:fn", "stats.json"),
                            stands_on=("blind",), train=("b.tsv", "s.tsv")))
    return methods


def test_every_run_method_first_then_config_order_then_registration_order():
    names = [m.name for m in registry().evaluated(["steered", "full"])]
    assert names == ["base", "steered", "full", "early"]
    assert [m.name for m in registry().evaluated([])] == ["base"]


def test_unknown_or_report_only_names_are_config_errors_listing_the_methods():
    with pytest.raises(ConfigError, match=r"unknown method\(s\) \['early', 'nope'\]; "
                                          r"registered: \['blind', 'full', 'steered'\]"):
        registry().evaluated(["full", "early", "nope"])


def test_per_preference_by_pattern_or_conditioning():
    methods = registry()
    assert [methods[n].per_preference for n in ("base", "full", "blind", "steered")] == [
        False, True, False, True]


def test_costs_include_the_runs_a_method_stands_on_once():
    methods = registry()
    assert methods.costs("full") == {"train": ["s1.tsv", "s2.tsv"], "generate": ["pool.tsv"]}
    assert methods.costs("steered") == {"train": ["b.tsv", "s.tsv"], "generate": []}
    assert methods.costs("base") == {"train": [], "generate": []}


def test_registering_twice_or_standing_on_nothing_is_an_error():
    methods = registry()
    with pytest.raises(ValueError, match="'blind' is registered twice"):
        methods.register(Method("blind", run="blind", model=None))
    methods.register(Method("orphan", run="orphan", model=None, stands_on=("ghost",)))
    with pytest.raises(ValueError, match="'orphan' stands on 'ghost'"):
        methods.costs("orphan")


def test_preference_points_own_or_configured_or_none():
    configured = {"p000_100": [0.0, 1.0], "p100_000": [1.0, 0.0]}
    methods = registry()
    methods.register(Method("between", run="full", model="results/between/{pref}",
                            preferences={"p050_050": [0.5, 0.5]}))
    assert methods["full"].preference_points(configured) == configured
    assert methods["steered"].preference_points(configured) == configured
    assert methods["blind"].preference_points(configured) == {"none": None}
    assert methods["between"].preference_points(configured) == {"p050_050": [0.5, 0.5]}


def test_points_are_every_evaluated_method_at_its_preferences_and_each_seed():
    configured = {"p000_100": [0.0, 1.0], "p100_000": [1.0, 0.0]}
    points = registry().points(["blind", "full"], configured, [7, 8])
    assert points[:3] == [EvalPoint("base", "none", 7, None), EvalPoint("base", "none", 8, None),
                          EvalPoint("blind", "none", 7, None)]
    assert points[4] == EvalPoint(method="full", pref="p000_100", seed=7, weights=[0.0, 1.0])
    assert [(p.method, p.pref) for p in points[4::2]] == [
        ("full", "p000_100"), ("full", "p100_000"), ("early", "p000_100"), ("early", "p100_000")]
    assert len(points) == 2 * (1 + 1 + 2 + 2)


def test_published_models_fill_each_adapter_and_training_set_for_its_point():
    """One entry per evaluated point with an adapter (the base model has none), paths filled for
    its seed and preference, the preference named per objective, conditioning spelled out."""
    methods = Registry()
    methods.register(Method("base", run=None, model=None))
    methods.register(Method("full", run="full", model="r/full/seed{seed}/{pref}/a",
                            data={"stage 1": "r/full/{pref}/s1.parquet",
                                  "stage 2": "r/full/seed{seed}/{pref}/s2.parquet"},
                            recipe={"k": 4}))
    methods.register(Method("steered", run="steered", model="r/steered/seed{seed}/a",
                            conditioning=Conditioning("pkg.mod:fn", "stats.json", {"map": "l2"})))
    points = [("base", "none", 7, None), ("full", "p025_075", 7, [0.25, 0.75]),
              ("steered", "p100_000", 8, [1.0, 0.0])]
    published = methods.published(points, ["harmless", "helpful"])
    assert published == [
        {"method": "full", "pref": "p025_075", "seed": 7,
         "weights": {"harmless": 0.25, "helpful": 0.75},
         "adapter": "r/full/seed7/p025_075/a",
         "data": {"stage 1": "r/full/p025_075/s1.parquet",
                  "stage 2": "r/full/seed7/p025_075/s2.parquet"},
         "recipe": {"k": 4}, "conditioning": None},
        {"method": "steered", "pref": "p100_000", "seed": 8,
         "weights": {"harmless": 1.0, "helpful": 0.0}, "adapter": "r/steered/seed8/a",
         "data": {}, "recipe": {},
         "conditioning": {"function": "pkg.mod:fn", "input": "stats.json",
                          "options": {"map": "l2"}}},
    ]
