"""The model index (``results/models/index.json``): what a finished run serves, so that the CLI
never reads the workflow. Built by the ``model_index`` rule from the registry; read by
``paretohqd.serving.cli``.

Paths inside the results folder are stored relative to it, so a moved or copied results
folder still works.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from paretohqd.serving.interpolation import interpolation_weights, nearest
from paretohqd.io import DataError, read_json

INDEX = "models/index.json"  # inside the results folder
RESULTS = "results"  # the workflow's results folder, relative to its working directory


def _in_results(path: str) -> str | None:
    """``path`` relative to the results folder, or None if it lies outside it."""
    parts = Path(path).parts
    return str(Path(*parts[1:])) if len(parts) > 1 and parts[0] == RESULTS else None


def _model_ref(path: str) -> dict[str, Any]:
    """A model's path as the index keeps it: relative to the results folder when inside it."""
    local = _in_results(path)
    return {"path": local or path, "in_results": local is not None}


def build_index(base_model: str, prompt_format: str, objectives: Sequence[str],
                seeds: Sequence[int],
                methods: Mapping[str, tuple[str, Mapping[str, Sequence[float]]]],
                scorers: Mapping[str, Mapping[str, Any]] | None = None,
                scoring_max_length: int = 512) -> dict[str, Any]:
    """The index of a run: the base model (what ``from_pretrained`` loads), its prompt format,
    the objectives, the training seeds and, per method with one adapter per preference, every
    (seed, preference) adapter with its weights. ``methods`` maps a name to its adapter
    pattern (``{seed}``, ``{pref}``) and its preferences by id; ``scorers`` are the run's
    reward models by objective (``build_scorer`` specs), which score answers on request."""
    return {
        "base_model": _model_ref(base_model),
        "prompt_format": prompt_format,
        "objectives": list(objectives),
        "scorers": {name: {**spec, "model": spec["model"] and _model_ref(spec["model"])}
                    for name, spec in (scorers or {}).items()},
        "scoring_max_length": scoring_max_length,
        "seeds": list(seeds),
        "methods": {
            name: [{"seed": seed, "pref_id": pid, "weights": [float(w) for w in weights],
                    "adapter": _adapter(pattern, seed, pid)}
                   for seed in seeds for pid, weights in preferences.items()]
            for name, (pattern, preferences) in methods.items()
        },
    }


def _adapter(pattern: str, seed: int, pref_id: str) -> str:
    path = pattern.format(seed=seed, pref=pref_id)
    relative = _in_results(path)
    if relative is None:
        raise ValueError(f"adapter {path}: not under {RESULTS}/")
    return relative


@dataclass(frozen=True)
class Served:
    """What a finished run serves: its index and the results folder it was read from."""

    results: Path
    index: dict[str, Any]

    @classmethod
    def load(cls, results: str | Path) -> "Served":
        """The index of the run whose results folder is ``results``."""
        results = Path(results)
        path = results / INDEX
        if not path.is_file():
            raise DataError(f"{path}: not found; run the workflow first (`make run`, or "
                            f"`snakemake {RESULTS}/{INDEX}` on a finished run), or pass "
                            "--results the folder of a finished run")
        return cls(results, read_json(path))

    @property
    def objectives(self) -> list[str]:
        return self.index["objectives"]

    @property
    def prompt_format(self) -> str:
        return self.index["prompt_format"]

    def _path(self, ref: dict[str, Any]) -> str:
        return str(self.results / ref["path"]) if ref["in_results"] else ref["path"]

    @property
    def base_model(self) -> str:
        return self._path(self.index["base_model"])

    def scorers(self) -> dict[str, dict[str, Any]]:
        """The run's reward models by objective, as ``build_scorer`` specs with loadable
        paths; ``DataError`` when the index predates them."""
        specs = self.index.get("scorers")
        if not specs:
            raise DataError(f"{self.results / INDEX} lists no reward models (written before "
                            f"they were indexed): re-run `snakemake {RESULTS}/{INDEX}`")
        return {name: {**spec, "model": spec["model"] and self._path(spec["model"])}
                for name, spec in specs.items()}

    @property
    def scoring_max_length(self) -> int:
        return self.index.get("scoring_max_length", 512)

    def trained_preferences(self, method: str) -> dict[str, list[float]]:
        """``method``'s trained preferences by id (the same for every seed)."""
        return {a["pref_id"]: a["weights"] for a in self.index["methods"][method]}

    def adapters(self, method: str, seed: int | None) -> tuple[int, dict[str, dict]]:
        """The seed (default: the first) and that seed's adapters of ``method`` by
        preference id."""
        methods = self.index["methods"]
        if method not in methods:
            raise DataError(f"method {method!r}: not in {self.results / INDEX}; it has "
                              f"{sorted(methods)}")
        seeds = self.index["seeds"]
        seed = seeds[0] if seed is None else seed
        if seed not in seeds:
            raise DataError(f"seed {seed}: not a training seed of this run; it has {seeds}")
        return seed, {a["pref_id"]: a for a in methods[method] if a["seed"] == seed}

    def choose(self, preference: Sequence[float], method: str, seed: int | None,
               interpolate: bool) -> tuple[int, list[dict]]:
        """The seed and the adapters serving ``preference``: the nearest trained one (merge
        weight 1), or with ``interpolate`` those of ``interpolation_weights``. Each entry has
        ``pref_id``, ``weights``, ``path`` (loadable) and ``merge_weight``."""
        seed, adapters = self.adapters(method, seed)
        trained = {pid: a["weights"] for pid, a in adapters.items()}
        if not trained:
            raise DataError(f"method {method!r} has no adapters for seed {seed}")
        pairs = (interpolation_weights(preference, trained) if interpolate
                 else [(nearest(preference, trained), 1.0)])
        return seed, [{"pref_id": pid, "weights": trained[pid],
                       "path": str(self.results / adapters[pid]["adapter"]),
                       "merge_weight": weight}
                      for pid, weight in pairs]
