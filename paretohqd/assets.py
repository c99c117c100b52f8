"""Locate the data files of the offline asset packages without importing them.

The packages in requirements-assets.txt are installed with ``--no-deps``; importing some of them
would pull in their (absent) dependencies, so we only ask the import system where they live.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path


class AssetNotInstalledError(RuntimeError):
    """An offline asset package is missing from the environment."""


def package_dir(package: str) -> Path:
    """Return the folder of an installed package, found with ``find_spec`` (never imported)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise AssetNotInstalledError(
            f"package {package!r} is not installed; run `make install` (it installs "
            "requirements-assets.txt with --no-deps)"
        )
    return Path(list(spec.submodule_search_locations)[0])


def package_file(package: str, relative: str) -> Path:
    """Return a file or folder inside an installed package, checking that it exists."""
    path = package_dir(package) / relative
    if not path.exists():
        raise AssetNotInstalledError(f"{relative!r} not found in package {package!r} at {path}")
    return path


def resolve_model_source(source: str) -> str:
    """Map ``package:<name>[/sub/path]`` to a local folder; any other string (a hub name or a
    path) is returned unchanged, so hub and embedded models share one loading path."""
    if not source.startswith("package:"):
        return source
    package, _, relative = source.removeprefix("package:").partition("/")
    return str(package_file(package, relative) if relative else package_dir(package))


class ModelSourceError(RuntimeError):
    """A configured model folder does not exist, or a hub model cannot be fetched offline."""


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}


def is_hub_name(source: str | None) -> bool:
    """Whether a model source names a hub repository (``org/name`` or ``name``): not a
    ``package:`` model, not an existing folder, not a path."""
    if not source or source.startswith("package:") or Path(source).exists():
        return False
    return not source.startswith(("/", ".", "~")) and source.count("/") <= 1


def check_model_source(source: str, role: str = "model") -> str:
    """Resolve ``source`` like :func:`resolve_model_source` and fail early, naming it, when it
    is a missing folder, or a hub name absent from the local cache while HF_HUB_OFFLINE is set."""
    resolved = resolve_model_source(source)
    if Path(resolved).exists():
        return resolved
    if not is_hub_name(resolved):
        raise ModelSourceError(f"{role} {source!r}: folder {resolved} does not exist")
    if _offline():
        from huggingface_hub import try_to_load_from_cache

        if not isinstance(try_to_load_from_cache(resolved, "config.json"), str):
            raise ModelSourceError(
                f"{role} {source!r} is a hub name that is not in the local Hugging Face cache, "
                f"and HF_HUB_OFFLINE=1 forbids downloading it: download it once with network "
                f"(`hf download {resolved}`), unset HF_HUB_OFFLINE, or set the config to a "
                f"local folder")
    return resolved


def local_model_folder(source: str) -> Path:
    """The local folder ``from_pretrained`` loaded ``source`` from: the folder itself, or a hub
    name's snapshot in the local Hugging Face cache (after the model has been loaded once)."""
    resolved = resolve_model_source(source)
    if Path(resolved).is_dir():
        return Path(resolved)
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(resolved, "config.json")
    if not isinstance(cached, str):
        raise ModelSourceError(f"model {source!r}: neither a folder nor in the local Hugging "
                               "Face cache")
    return Path(cached).parent
