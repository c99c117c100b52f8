"""Checks of the workflow config that a JSON schema cannot express, preference ids, how a
preference reads, and a config read outside Snakemake as ``--configfile`` reads it."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

SUM_TOLERANCE = 1e-6


class ConfigError(ValueError):
    """The config is invalid; the message names the offending key."""


def preference_id(weights: Sequence[float]) -> str:
    """Dot-free wildcard id of a preference vector: (0.2, 0.8) -> ``p020_080``."""
    return "p" + "_".join(f"{round(w * 100):03d}" for w in weights)


def preference_text(weights: Mapping[str, float] | None) -> str:
    """``harmless 0.25, helpful 0.75``, or a note for a preference-blind model."""
    if weights is None:
        return "none (one model for every preference)"
    return ", ".join(f"{o} {w:.2f}" for o, w in weights.items())


def objective_names(config: dict[str, Any]) -> list[str]:
    """The objective names, in preference-vector order."""
    return [objective["name"] for objective in config["objectives"]]


def training_seeds(config: dict[str, Any]) -> list[int]:
    """The seeds that training, generation by trained models and evaluation run once each for:
    ``seeds``, or the global ``seed`` alone when that is null."""
    return list(config["seeds"]) if config.get("seeds") is not None else [config["seed"]]


TRAINED_JUDGE, READY_JUDGE = "trained", "model"


def judge_sources(config: dict[str, Any]) -> dict[str, str]:
    """The objectives that have an independent judge (evaluation.judges) and where it comes
    from: ``model`` (named in ``judges.models``) or ``trained`` (the workflow trains it, as the
    objective's reward model, on the held-out share of the labels). Objectives missing here
    are graded by their own reward model; an empty dict when judges are off or none applies."""
    judges = config["evaluation"]["judges"]
    if not judges["enabled"]:
        return {}
    sources = {}
    for objective in config["objectives"]:
        name = objective["name"]
        if name in judges["models"]:
            sources[name] = READY_JUDGE
        elif objective.get("train_recipe") and not objective.get("model"):
            sources[name] = TRAINED_JUDGE
    return sources


def _duplicates(values: Sequence) -> list:
    return sorted({v for v in values if values.count(v) > 1})


def _check_preferences(key: str, preferences: Sequence[Sequence[float]],
                       names: Sequence[str]) -> None:
    """Each vector of the list ``key`` has one entry per objective, >= 0, summing to 1, and
    its own id."""
    seen: dict[str, int] = {}
    for i, weights in enumerate(preferences):
        where = f"{key}[{i}] = {list(weights)}"
        if len(weights) != len(names):
            raise ConfigError(f"{where}: has {len(weights)} entries but there are {len(names)} "
                              f"objectives {list(names)}")
        if any(w < 0 for w in weights):
            raise ConfigError(f"{where}: entries must be >= 0")
        if abs(sum(weights) - 1.0) > SUM_TOLERANCE:
            raise ConfigError(f"{where}: entries sum to {sum(weights):.9g}, not 1 "
                              f"(tolerance {SUM_TOLERANCE})")
        pid = preference_id(weights)
        if pid in seen:
            raise ConfigError(f"{where}: same id {pid!r} as {key}[{seen[pid]}] "
                              "(duplicate, or equal at two decimals)")
        seen[pid] = i


def check_config(config: dict[str, Any]) -> None:
    """Raise ``ConfigError`` naming the key if objectives, preferences or seeds are
    inconsistent."""
    names = objective_names(config)
    duplicates = _duplicates(names)
    if duplicates:
        raise ConfigError(f"objectives: duplicate name(s) {duplicates}")
    seeds = training_seeds(config)
    if _duplicates(seeds):
        raise ConfigError(f"seeds = {seeds}: duplicate seed(s) {_duplicates(seeds)}")
    for i, objective in enumerate(config["objectives"]):
        if objective.get("scorer", "classifier") == "classifier" and not (
                objective.get("model") or objective.get("train_recipe")):
            raise ConfigError(f"objectives[{i}] ({objective['name']}): a classifier needs "
                              "`model` (hub name or folder) or `train_recipe`")
    unknown = sorted(set(config["evaluation"]["judges"]["models"]) - set(names))
    if unknown:
        raise ConfigError(f"evaluation.judges.models: {unknown} are not objectives {names}")
    heldout = [spec["name"] for spec in config["evaluation"]["heldout_sets"]]
    if _duplicates(heldout):
        raise ConfigError(f"evaluation.heldout_sets: the name(s) {_duplicates(heldout)} appear "
                          "more than once")
    for i, spec in enumerate(config["evaluation"]["heldout_sets"]):
        if spec["source"] == "hub" and not spec.get("dataset"):
            raise ConfigError(f"evaluation.heldout_sets[{i}] ({spec['name']}): source hub "
                              "needs `dataset` (a Hugging Face dataset name)")
    _check_preferences("preferences", config["preferences"], names)
    _check_preferences("interpolation.preferences", config["interpolation"]["preferences"],
                       names)
    if config["selection"]["k"] < 1:
        raise ConfigError(f"selection.k = {config['selection']['k']}: must be >= 1")


def merge_config(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``overlay``'s keys as Snakemake's ``--configfile`` merges them: nested
    sections key by key, every other value (lists included) replaced whole."""
    return {**base, **{key: merge_config(base.get(key, {}), value)
                       if isinstance(value, Mapping) else value
                       for key, value in overlay.items()}}


_YAML_TYPES = {"number": (int, float), "integer": (int,), "boolean": (bool,),
               "null": (type(None),), "array": (list,), "object": (dict,)}


def _schema_types(schema: Mapping[str, Any]) -> list[str]:
    kind = schema.get("type", [])
    return [kind] if isinstance(kind, str) else list(kind)


def _fits(value: Any, types: Sequence[str]) -> bool:
    # bool is an int in Python, not an integer or number in JSON schema
    return any(isinstance(value, _YAML_TYPES[t]) and not (
        isinstance(value, bool) and t in ("number", "integer")) for t in types)


def parse_command_line_values(config: Any, schema: Mapping[str, Any]) -> Any:
    """``config`` with every string that stands where ``schema`` wants no string read as YAML
    when that gives the wanted type: Snakemake's ``--config key=value`` keeps each item of a
    list value a string (``preferences=[[0.3,0.7]]`` arrives as ``[['0.3', '0.7']]``). YAML 1.1
    as the config files are read: ``2e-4`` stays a string there and here, for the schema to
    name."""
    import yaml

    types = _schema_types(schema)
    if isinstance(config, str) and types and "string" not in types:
        try:
            value = yaml.safe_load(config)
        except yaml.YAMLError:
            return config
        return value if _fits(value, types) else config
    if isinstance(config, list) and "items" in schema:
        return [parse_command_line_values(item, schema["items"]) for item in config]
    if isinstance(config, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        return {key: parse_command_line_values(value, properties[key]) if key in properties
                else parse_command_line_values(value, extra) if isinstance(extra, Mapping)
                else value for key, value in config.items()}
    return config


def load_config(paths: Sequence[str | Path], schema: str | Path) -> dict[str, Any]:
    """The first config file with each later one merged in (``merge_config``), validated by
    ``schema`` with its defaults filled in, as the workflow sees it."""
    import yaml
    from snakemake.utils import validate

    config: dict[str, Any] = {}
    for path in paths:
        config = merge_config(config, yaml.safe_load(Path(path).read_text()) or {})
    validate(config, str(schema))
    return config
