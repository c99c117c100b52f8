"""The method registry: what evaluation and the summary need from every method.

Each file under rules/methods/ defines a method's rules and registers, per reported method,
its models, how evaluation prompts them and the jobs whose wall time is its compute.
Evaluation and the summary read only the registry, so they name no method. Light module: the
workflow imports it while parsing.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, NamedTuple, Sequence

from paretohqd.config import ConfigError

PREFERENCE_FIELD = "{pref}"
NO_PREFERENCE = "none"  # the preference id of a shared (preference-blind) model


class EvalPoint(NamedTuple):
    """One evaluated model: a method at a preference (its id, and its weights or None for a
    shared model) and a training seed."""

    method: str
    pref: str
    seed: int
    weights: Sequence[float] | None


@dataclass(frozen=True)
class Conditioning:
    """Prompt conditioning at evaluation: one model steered per preference by its prompt.

    ``function`` (``"module:name"``, see ``load_function``) is called as
    ``function(prompts, weights, objectives, input, seed, **options)`` and returns the prompts
    the model sees; ``weights`` is a preference vector, or None for a random one per prompt.
    ``input`` is the file it reads (e.g. the reward statistics of RiC's training data);
    ``options`` are the method's own settings (e.g. RiC's preference map).
    ``targets`` (optional, ``"module:name"``) is called as
    ``targets(weights, objectives, input, **options)`` and returns the reward per objective the
    conditioned prompt asks for, in the reward models' units: the summary correlates it with
    the rewards obtained (whether the conditioning was learned).
    """

    function: str
    input: str
    options: dict = field(default_factory=dict, hash=False)
    targets: str | None = None


@dataclass(frozen=True)
class Method:
    """One reported method (a ``method`` of front.csv).

    ``run``: the ``methods:`` entry that makes it run (None: every run, the untuned base model).
    ``model``: its adapter, a path pattern with ``{seed}`` (one per training seed); with
    ``{pref}`` one adapter per preference, without one shared model (per preference only with
    ``conditioning``); None for the base model.
    ``train`` / ``generate``: benchmark files of its training jobs and of its own data
    generation. ``stands_on``: registered methods whose run it starts from; their compute
    counts as its own too. ``preferences``: a per-preference method's own preference vectors
    by id (e.g. interpolated ones); None: the configured ``preferences``.
    ``data``: its training sets for model cards, label -> table path pattern (``{seed}`` and
    ``{pref}`` as in ``model``); ``recipe``: how they were chosen and trained, label -> value.
    """

    name: str
    run: str | None
    model: str | None
    conditioning: Conditioning | None = None
    train: tuple[str, ...] = ()
    generate: tuple[str, ...] = ()
    stands_on: tuple[str, ...] = ()
    preferences: dict[str, list[float]] | None = field(default=None, hash=False)
    data: Mapping[str, str] = field(default_factory=dict, hash=False)
    recipe: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @property
    def per_preference(self) -> bool:
        """Whether it is evaluated once per preference (else once, as preference ``none``)."""
        return self.conditioning is not None or PREFERENCE_FIELD in (self.model or "")

    def preference_points(self, configured: Mapping[str, Sequence[float]]
               ) -> dict[str, Sequence[float] | None]:
        """The preferences it is evaluated at, by id: its own, else the ``configured`` ones; a
        shared model once, as ``NO_PREFERENCE`` without weights."""
        if not self.per_preference:
            return {NO_PREFERENCE: None}
        return dict(configured if self.preferences is None else self.preferences)


class Registry:
    """Registered methods by name, in registration order."""

    def __init__(self) -> None:
        self._methods: dict[str, Method] = {}

    def register(self, method: Method) -> None:
        """Add a method (``stands_on`` may name methods registered later: rules files are
        read in name order); a name registered twice is an error."""
        if method.name in self._methods:
            raise ValueError(f"method {method.name!r} is registered twice")
        self._methods[method.name] = method

    def __getitem__(self, name: str) -> Method:
        return self._methods[name]

    def runs(self) -> list[str]:
        """Every name that ``methods:`` may list, sorted."""
        return sorted({m.run for m in self._methods.values() if m.run is not None})

    def evaluated(self, configured: Sequence[str]) -> list[Method]:
        """The reported methods of a run with ``configured`` methods: those of every run first,
        then each configured method's, in config order (registration order within one)."""
        unknown = [name for name in configured if name not in self.runs()]
        if unknown:
            raise ConfigError(f"methods: unknown method(s) {unknown}; registered: "
                              f"{self.runs()} (rules/methods/*.smk)")
        methods = list(self._methods.values())
        return ([m for m in methods if m.run is None]
                + [m for run in configured for m in methods if m.run == run])

    def points(self, configured: Sequence[str], preferences: Mapping[str, Sequence[float]],
               seeds: Sequence[int]) -> list[EvalPoint]:
        """Every evaluated model of a run: each reported method (``evaluated``) at each of its
        preferences (``Method.preference_points`` of the configured ``preferences``) and each
        training seed, seeds innermost."""
        return [EvalPoint(method.name, pref, seed, weights)
                for method in self.evaluated(configured)
                for pref, weights in method.preference_points(preferences).items()
                for seed in seeds]

    def published(self, points: Sequence[EvalPoint],
                  objectives: Sequence[str]) -> list[dict[str, Any]]:
        """What the model card of every evaluated adapter states, for each evaluated point
        (method, preference id, training seed, weights or None) whose method has an adapter:
        the adapter, the preference per objective, the training sets and recipe (paths filled
        for that seed and preference) and the prompt conditioning."""
        models = []
        for name, pref, seed, weights in points:
            method = self._methods[name]
            if method.model is None:
                continue
            fill = {"pref": pref, "seed": seed}
            conditioning = method.conditioning
            models.append({
                "method": name, "pref": pref, "seed": seed,
                "weights": None if weights is None else dict(zip(objectives, weights)),
                "adapter": method.model.format(**fill),
                "data": {label: path.format(**fill) for label, path in method.data.items()},
                "recipe": dict(method.recipe),
                "conditioning": None if conditioning is None else {
                    "function": conditioning.function, "input": conditioning.input,
                    "options": dict(conditioning.options)},
            })
        return models

    def costs(self, name: str) -> dict[str, list[str]]:
        """Benchmark files of a method's ``train`` and ``generate`` compute, with those of the
        methods it stands on (each file once)."""
        method = self._methods[name]
        train: list[str] = []
        generate: list[str] = []
        for other in method.stands_on:
            if other not in self._methods:
                raise ValueError(f"method {name!r} stands on {other!r}, which no rules file "
                                 "registers")
            inherited = self.costs(other)
            train += inherited["train"]
            generate += inherited["generate"]
        return {"train": _unique([*train, *method.train]),
                "generate": _unique([*generate, *method.generate])}


def _unique(paths: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(paths))


def load_function(spec: str) -> Callable:
    """The function ``"package.module:name"`` names (how rules name code to scripts)."""
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def apply_conditioning(prompts: Sequence[str], conditioning: Mapping[str, Any], source: str,
                       seed: int) -> list[str]:
    """The prompts a conditioned model sees: ``conditioning`` (``function``, ``weights``,
    ``objectives``, ``options``, as a generation job's params give it; see ``Conditioning``)
    applied with its input file ``source`` and the sampling ``seed``."""
    function = load_function(conditioning["function"])
    return function(list(prompts), conditioning["weights"], conditioning["objectives"], source,
                    seed, **conditioning.get("options", {}))
