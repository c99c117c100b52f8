"""What a config needs from the Hugging Face hub, fetched ahead of a run and checked offline.

Compute nodes of a cluster are usually cut off from the internet. ``hub_assets`` lists every
hub model (base model, reward models, judges, the reward-training start checkpoint when a
reward model is trained) and hub dataset (the prompt source, hub held-out sets) a config names;
``fetch`` downloads them into the Hugging Face cache (``HF_HOME`` / ``HF_HUB_CACHE``, as the
workflow reads them) and records each one's revision; ``verify_offline`` loads each of them in a
fresh process with ``HF_HUB_OFFLINE=1`` and ``HF_DATASETS_OFFLINE=1``, as a compute node would:
config, tokenizer and the presence of the weights for a model, every split read for a dataset.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

from paretohqd.assets import is_hub_name
from paretohqd.data.prompts import HUB_PROMPT_SOURCES

MODEL, DATASET = "model", "dataset"
HUB = "hub"  # evaluation.heldout_sets[].source of a hub dataset
# weights in formats the workflow never loads (transformers loads safetensors, else .bin)
UNUSED_WEIGHTS = ["*.h5", "*.msgpack", "*.onnx", "*.ot", "*.tflite", "*.gguf", "*.mlmodel",
                  "original/*"]
PICKLED_WEIGHTS = ["*.bin", "*.pt", "*.pth", "*.ckpt"]  # skipped where safetensors exist


class PrefetchError(RuntimeError):
    """An asset cannot be fetched, or is not loadable offline; the message names it."""


@dataclass(frozen=True)
class HubAsset:
    """One hub repository a config needs: a model, or a dataset with its configuration and the
    splits the workflow reads. ``roles`` says where the config names it."""

    kind: str
    repo_id: str
    roles: tuple[str, ...]
    config_name: str | None = None
    splits: tuple[str, ...] = ()


def hub_assets(config: dict[str, Any]) -> list[HubAsset]:
    """Every hub model and dataset ``config`` (with the schema's defaults) makes a run load,
    sorted by kind and name; one entry per repository, its roles merged."""
    models: dict[str, list[str]] = {}

    def model(source: str | None, role: str) -> None:
        if is_hub_name(source):
            models.setdefault(source, []).append(role)

    model(config["base_model"]["source"], "base_model.source")
    trains_a_reward_model = False
    for objective in config["objectives"]:
        model(objective.get("model"), f"objectives.{objective['name']}.model")
        trains_a_reward_model |= not objective.get("model")
    judges = config["evaluation"]["judges"]
    if judges["enabled"]:
        for name, judge in judges["models"].items():
            model(judge["model"], f"evaluation.judges.models.{name}.model")
    if trains_a_reward_model:  # a trained reward model (and its judge) start from this one
        model(config["reward_training"]["base"], "reward_training.base")

    assets = [HubAsset(MODEL, name, tuple(roles)) for name, roles in models.items()]
    source = config["prompts"]["source"]
    if source in HUB_PROMPT_SOURCES:
        repo, config_name, splits = HUB_PROMPT_SOURCES[source]
        assets.append(HubAsset(DATASET, repo, ("prompts.source",), config_name, splits))
    for spec in config["evaluation"].get("heldout_sets", []):
        if spec["source"] == HUB:
            assets.append(HubAsset(DATASET, spec["dataset"],
                                   (f"evaluation.heldout_sets.{spec['name']}",), None,
                                   (spec.get("split", "train"),)))
    merged: dict[tuple[str, str, str | None], HubAsset] = {}
    for asset in assets:
        key = (asset.kind, asset.repo_id, asset.config_name)
        if key in merged:
            held = merged[key]
            asset = HubAsset(asset.kind, asset.repo_id, held.roles + asset.roles,
                             asset.config_name,
                             tuple(dict.fromkeys(held.splits + asset.splits)))
        merged[key] = asset
    return sorted(merged.values(), key=lambda a: (a.kind, a.repo_id, a.config_name or ""))


def _gated(err: Exception, asset: HubAsset) -> PrefetchError:
    return PrefetchError(f"{asset.kind} {asset.repo_id!r} ({', '.join(asset.roles)}) is gated: "
                         "accept its licence on its hub page with your account, then log in "
                         "on this machine (`hf auth login`, or set HF_TOKEN) and prefetch "
                         f"again ({type(err).__name__})")


def _fetch_model(asset: HubAsset) -> None:
    from huggingface_hub import list_repo_files, snapshot_download

    files = list_repo_files(asset.repo_id)
    ignore = UNUSED_WEIGHTS + (PICKLED_WEIGHTS if any(f.endswith(".safetensors")
                                                      for f in files) else [])
    snapshot_download(asset.repo_id, ignore_patterns=ignore)


def _load_dataset(asset: HubAsset) -> None:
    """Every split of ``asset`` the workflow reads, through ``load_dataset`` as the workflow
    does: online it downloads and prepares them, offline it reads what was prepared."""
    from datasets import load_dataset

    for split in asset.splits:
        load_dataset(asset.repo_id, asset.config_name, split=split)


def revision(asset: HubAsset) -> str | None:
    """The commit of ``asset`` in the local hub cache (its ``main`` ref), if cached."""
    from huggingface_hub import constants

    ref = (Path(constants.HF_HUB_CACHE) / f"{asset.kind}s--{asset.repo_id.replace('/', '--')}"
           / "refs/main")
    return ref.read_text().strip() if ref.is_file() else None


def fetch(assets: Sequence[HubAsset], log=print) -> list[dict[str, Any]]:
    """Download ``assets`` into the Hugging Face cache; each one's record with its revision."""
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    records = []
    for asset in assets:
        log(f"fetching {asset.kind} {asset.repo_id} ({', '.join(asset.roles)})")
        try:
            (_fetch_model if asset.kind == MODEL else _load_dataset)(asset)
        except GatedRepoError as err:
            raise _gated(err, asset) from err
        except RepositoryNotFoundError as err:
            raise PrefetchError(f"{asset.kind} {asset.repo_id!r} ({', '.join(asset.roles)}): "
                                "not found on the hub (or private: log in with `hf auth "
                                "login`)") from err
        records.append({**asdict(asset), "revision": revision(asset)})
    return records


def offline_environment() -> dict[str, str]:
    """This process's environment with the hub forbidden, as on an offline compute node."""
    return {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1"}


def verify_offline(assets: Sequence[HubAsset]) -> list[str]:
    """Load each asset with the hub forbidden, in a fresh process (the offline switches are
    read when the libraries are imported); the problems, one line per asset that fails."""
    payload = json.dumps([asdict(a) for a in assets])
    done = subprocess.run([sys.executable, "-m", "paretohqd.data.prefetch"], input=payload,
                          capture_output=True, text=True, env=offline_environment())
    if done.returncode != 0:
        raise PrefetchError(f"offline check failed to run: {done.stderr[-2000:]}")
    return json.loads(done.stdout.splitlines()[-1])


def _load_offline(asset: HubAsset) -> None:
    if asset.kind == DATASET:
        _load_dataset(asset)
        return
    from huggingface_hub import try_to_load_from_cache
    from transformers import AutoConfig, AutoTokenizer

    AutoConfig.from_pretrained(asset.repo_id)
    AutoTokenizer.from_pretrained(asset.repo_id)
    weights = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
               "pytorch_model.bin.index.json")
    if not any(isinstance(try_to_load_from_cache(asset.repo_id, name), str) for name in weights):
        raise FileNotFoundError(f"no weights ({', '.join(weights)}) in the local cache")


def _check_from_stdin() -> None:
    """The offline process: load each asset of the JSON list on stdin; print the problems."""
    problems = []
    for entry in json.loads(sys.stdin.read()):
        asset = HubAsset(**{**entry, "roles": tuple(entry["roles"]),
                            "splits": tuple(entry["splits"])})
        try:
            _load_offline(asset)
        except Exception as err:  # noqa: BLE001 - every asset's problem is reported
            problems.append(f"{asset.kind} {asset.repo_id!r} ({', '.join(asset.roles)}): not "
                            f"loadable offline: {type(err).__name__}: {str(err)[:300]}")
    print(json.dumps(problems))


if __name__ == "__main__":
    _check_from_stdin()
