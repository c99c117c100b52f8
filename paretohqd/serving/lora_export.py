"""A finished run's preferences as plain LoRA adapters that vLLM and TGI load as they are.

Such servers switch between adapters per request but cannot mix adapters by weight, so each
preference is written ahead of time as one adapter: the trained adapter serving it (the
nearest, at merge weight 1) re-saved, or the merge of several (``--interpolate``) as PEFT's
``cat`` combination, exactly what ``paretohqd.policy.merging.merge_adapters`` serves: one
adapter of summed rank whose update is sum_i w_i * scaling_i * B_i A_i. The output folder holds
one adapter folder per preference (with its tokenizer), ``MANIFEST`` and ``VLLM_ARGUMENT``
(the ``--lora-modules`` argument of ``vllm serve``). Used by ``paretohqd export-lora``.
"""

from __future__ import annotations

import itertools
import json
import re
import shlex
import shutil
from pathlib import Path
from typing import Any, Sequence

import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer

from paretohqd.assets import check_model_source
from paretohqd.config import preference_id
from paretohqd.io import atomic_new_dir, read_json
from paretohqd.policy.merging import SOUP
from paretohqd.serving.row_lora import unsupported_features
from paretohqd.serving.interpolation import realised
from paretohqd.serving.model_index import Served

MANIFEST = "manifest.json"
VLLM_ARGUMENT = "vllm_lora_modules.txt"
ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
# the values vLLM's --max-lora-rank accepts (vllm/config/lora.py, MaxLoRARanks)
VLLM_MAX_LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)
# vLLM's `--lora-modules name=path` and TGI's LORA_ADAPTERS=name=path,... split on these
NAME = re.compile(r"[A-Za-z0-9._-]+")
SEPARATORS = ("=", ",")


class LoraExportError(ValueError):
    """The export cannot be written, or vLLM could not load it; the message names the
    culprit."""


def simplex_grid(objectives: int, points_per_edge: int) -> list[tuple[float, ...]]:
    """The even grid over the preference simplex with ``points_per_edge`` points on each edge
    (ends included): every vector of multiples of 1 / (points_per_edge - 1) summing to 1, in
    ascending lexicographic order. Two objectives and 11 points: (0, 1), (0.1, 0.9), ...,
    (1, 0); C(points_per_edge + objectives - 2, objectives - 1) points in all."""
    if objectives < 1:
        raise ValueError(f"{objectives} objectives: need at least 1")
    if points_per_edge < 2:
        raise ValueError(f"{points_per_edge} points per edge: need at least 2 (the ends)")
    steps = points_per_edge - 1
    return [tuple(k / steps for k in (*head, steps - sum(head)))
            for head in itertools.product(range(steps + 1), repeat=objectives - 1)
            if sum(head) <= steps]


def adapter_name(method: str, preference: Sequence[float]) -> str:
    """The served name of ``method``'s adapter for ``preference``: ``paretohqd-p030_070`` (the
    run's preference id, two decimals per weight)."""
    return f"{method}-{preference_id(preference)}"


def _base_model_reference(served: Served) -> str:
    """The base model as ``vllm serve`` names it: the run's own folder as an absolute path, or
    the hub name (or folder) the config gave."""
    base = served.base_model
    return str(Path(base).resolve()) if served.index["base_model"]["in_results"] else base


def _trained_configs(plans: Sequence[dict]) -> dict[str, dict[str, Any]]:
    """The ``adapter_config.json`` of every trained adapter the plans use, by path; each
    checked for what vLLM cannot serve, and for its weights as safetensors."""
    configs = {}
    for plan in plans:
        for adapter in plan["merged"]:
            path = adapter["path"]
            if path in configs:
                continue
            config = read_json(Path(path) / ADAPTER_CONFIG)
            problems = unsupported_features(config)
            if problems:
                raise LoraExportError(f"{Path(path) / ADAPTER_CONFIG}: {'; '.join(problems)}: "
                                      "vLLM cannot serve this adapter as PEFT does")
            if not (Path(path) / ADAPTER_WEIGHTS).is_file():
                raise LoraExportError(f"{Path(path) / ADAPTER_WEIGHTS}: not found (the "
                                      "adapter's weights are not saved as safetensors)")
            configs[path] = config
    return configs


def _check_output(output: Path) -> None:
    if output.exists() and not (output.is_dir() and not any(output.iterdir())):
        raise LoraExportError(f"{output}: exists and is not an empty folder; choose a new path")
    unsafe = [s for s in SEPARATORS if s in str(output.absolute())]
    if unsafe:
        raise LoraExportError(f"{output.absolute()}: contains {' and '.join(map(repr, unsafe))}, "
                              "which vLLM's --lora-modules name=path (and TGI's LORA_ADAPTERS) "
                              "split on; choose another path")


def _plans(served: Served, method: str, seed: int | None,
           preferences: Sequence[Sequence[float]], interpolate: bool) -> tuple[int, list[dict]]:
    """The seed and, per preference, its name, the adapters serving it (``Served.choose``)
    and the preference they stand for; names must be distinct."""
    if not NAME.fullmatch(method):
        raise LoraExportError(f"method {method!r}: not usable in a served adapter name "
                              f"(letters, digits, '.', '_', '-')")
    if not preferences:
        raise LoraExportError("no preferences to export")
    plans: list[dict] = []
    named: dict[str, Sequence[float]] = {}
    for preference in preferences:
        seed, chosen = served.choose(preference, method, seed, interpolate)
        name = adapter_name(method, preference)
        if name in named:
            raise LoraExportError(f"preferences {list(named[name])} and {list(preference)} "
                                  f"share the name {name!r} (weights to two decimals); ask "
                                  "for one of them, or a coarser grid")
        named[name] = preference
        reached = realised([(a["pref_id"], a["merge_weight"]) for a in chosen],
                           {a["pref_id"]: a["weights"] for a in chosen})
        plans.append({"name": name, "preference": [float(w) for w in preference],
                      "realised_preference": [round(x, 9) for x in reached],
                      "merged": [{key: a[key] for key in ("pref_id", "weights", "merge_weight",
                                                          "path")} for a in chosen]})
    return seed, plans


def _copy_adapter(path: str, config: dict[str, Any], base: str, folder: Path) -> None:
    """A trained adapter re-saved as it is, naming ``base`` as its base model."""
    folder.mkdir()
    shutil.copyfile(Path(path) / ADAPTER_WEIGHTS, folder / ADAPTER_WEIGHTS)
    (folder / ADAPTER_CONFIG).write_text(
        json.dumps({**config, "base_model_name_or_path": base, "inference_mode": True},
                   indent=2) + "\n", encoding="utf-8")


def _trained_model(base_model: str, paths: Sequence[str]) -> tuple[PeftModel, dict[str, str]]:
    """The base model (float32) with every adapter of ``paths`` loaded, and their names."""
    model = AutoModelForCausalLM.from_pretrained(check_model_source(base_model, "base model"),
                                                 dtype=torch.float32)
    names = {path: f"trained_{i}" for i, path in enumerate(paths)}
    peft = PeftModel.from_pretrained(model, paths[0], adapter_name=names[paths[0]])
    for path in paths[1:]:
        peft.load_adapter(path, adapter_name=names[path])
    return peft, names


def _save_merge(peft: PeftModel, names: dict[str, str], merged: Sequence[dict], base: str,
                folder: Path) -> None:
    """The merge of ``merged`` at their merge weights (PEFT's ``cat``, as ``merge_adapters``)
    saved to ``folder`` as a plain adapter naming ``base`` as its base model."""
    peft.add_weighted_adapter([names[a["path"]] for a in merged],
                              [float(a["merge_weight"]) for a in merged],
                              adapter_name=SOUP, combination_type="cat")
    try:
        peft.peft_config[SOUP].base_model_name_or_path = base
        peft.save_pretrained(str(folder), selected_adapters=[SOUP])
    finally:
        peft.delete_adapter(SOUP)


def export_lora(served: Served, method: str, seed: int | None,
                preferences: Sequence[Sequence[float]], interpolate: bool,
                output: Path) -> dict[str, Any]:
    """Write ``method``'s adapters of training ``seed`` (default: the run's first) for each
    of ``preferences`` (checked preference vectors) to ``output`` as plain PEFT LoRA folders
    that vLLM and TGI load, with their tokenizers, ``MANIFEST`` and ``VLLM_ARGUMENT``; return
    the manifest. A preference is served as ``Served.choose`` serves it: the nearest trained
    adapter, or with ``interpolate`` the merge of its neighbours. ``output`` must not exist,
    or be an empty folder; it is written through a temporary folder, so a failure leaves it
    as it was (and removes the folders made to hold it)."""
    _check_output(output)
    seed, plans = _plans(served, method, seed, preferences, interpolate)
    configs = _trained_configs(plans)
    for plan in plans:
        plan["rank"] = sum(configs[a["path"]]["r"] for a in plan["merged"])
    widest = max(plans, key=lambda plan: plan["rank"])
    max_rank = widest["rank"]
    if max_rank > VLLM_MAX_LORA_RANKS[-1]:
        raise LoraExportError(f"{widest['name']}: rank {max_rank} ({len(widest['merged'])} "
                              "adapter(s) merged) is over vLLM's largest --max-lora-rank "
                              f"{VLLM_MAX_LORA_RANKS[-1]}")
    vllm_rank = min(r for r in VLLM_MAX_LORA_RANKS if r >= max_rank)
    base = _base_model_reference(served)
    root = output.absolute()
    lora_modules = [f"{plan['name']}={root / plan['name']}" for plan in plans]
    manifest = {
        "base_model": base, "method": method, "seed": seed, "interpolate": interpolate,
        "objectives": served.objectives, "max_rank": max_rank,
        "vllm_max_lora_rank": vllm_rank,
        "note": f"vLLM needs --enable-lora and --max-lora-rank >= max_rank ({max_rank}; it "
                f"accepts {list(VLLM_MAX_LORA_RANKS)}, so {vllm_rank})",
        "vllm_lora_modules": "--lora-modules " + " ".join(map(shlex.quote, lora_modules)),
        "tgi_lora_adapters": ",".join(lora_modules),
        "adapters": [{"name": plan["name"], "path": plan["name"], "rank": plan["rank"],
                      "preference": plan["preference"],
                      "realised_preference": plan["realised_preference"],
                      "merged": plan["merged"]} for plan in plans],
    }
    mixes = sorted({a["path"] for plan in plans if len(plan["merged"]) > 1
                    for a in plan["merged"]})
    peft, names = _trained_model(served.base_model, mixes) if mixes else (None, {})
    tokenizers: dict[str, Any] = {}
    with atomic_new_dir(output) as tmp:
        for plan in plans:
            folder = tmp / plan["name"]
            merged = plan["merged"]
            if len(merged) == 1:  # merge weight 1: the trained adapter itself
                _copy_adapter(merged[0]["path"], configs[merged[0]["path"]], base, folder)
            else:
                _save_merge(peft, names, merged, base, folder)
            source = merged[0]["path"]
            if source not in tokenizers:
                tokenizers[source] = AutoTokenizer.from_pretrained(source)
            tokenizers[source].save_pretrained(folder)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n",
                                    encoding="utf-8")
        (tmp / VLLM_ARGUMENT).write_text(manifest["vllm_lora_modules"] + "\n",
                                         encoding="utf-8")
    return manifest
