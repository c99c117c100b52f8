"""Offline installs: the lock, the wheelhouse split, and a real install with the index off.

`test_offline_install_from_wheelhouse` needs PyPI (marker `network`): it builds a wheelhouse for
this machine's Python and platform with the real `make wheelhouse` (torch left out), then
installs it into a fresh venv with `make install WHEELHOUSE=...` while every index is switched
off, with torch borrowed from the running venv. `test_lock_matches_pyproject` (also `network`)
re-makes the lock with uv and compares. The other tests need no network.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name, parse_wheel_filename

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import wheelhouse  # noqa: E402

MB = 1024 * 1024
PART_MB = 40


def _lock() -> dict[str, str]:
    pins = {}
    for line in wheelhouse.read_requirement_lines(ROOT / "requirements.lock"):
        name, _, version = line.partition("==")
        pins[canonicalize_name(name)] = version
    return pins


def test_lock_pins_everything_but_torch():
    """The lock pins exact versions, without torch and its CUDA companions or the assets, and
    covers every installed dependency of the project."""
    pins = _lock()
    assets = {wheelhouse.requirement_name(line) for line in
              wheelhouse.read_requirement_lines(ROOT / "requirements-assets.txt")}
    assert pins and all(pins.values())
    assert not [name for name in pins if wheelhouse.is_torch_family(name)]
    assert not assets & set(pins) and "paretohqd" not in pins
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for line in project["dependencies"] + project["optional-dependencies"]["test"]:
        name = wheelhouse.requirement_name(line)
        assert name in pins or name == "torch", line
    # uv's header names the command that re-makes the lock, its footer what was left out.
    text = (ROOT / "requirements.lock").read_text()
    assert "#    make lock PYTHON_VERSION=3.11 PLATFORM=manylinux_2_28_x86_64\n" in text
    assert "excluded from the output:\n# torch\n" in text


def test_split_parts_stays_below_the_limit(tmp_path):
    """Whole wheels per part, each part under the limit; an oversized wheel gets its own part;
    re-splitting with another limit re-packs what is already in parts."""
    sizes = {"a": 6, "b": 5, "c": 4, "d": 3, "e": 2, "f": 1, "huge": 25}
    for name, size in sizes.items():
        (tmp_path / f"{name}-1.0-py3-none-any.whl").write_bytes(b"x" * size * MB)
    parts = wheelhouse.split_parts(tmp_path, 10)
    assert sorted(sum(parts.values(), [])) == sorted(p.name for p in tmp_path.glob("part*/*.whl"))
    assert not list(tmp_path.glob("*.whl"))
    for part, names in parts.items():
        total = sum((tmp_path / part / name).stat().st_size for name in names)
        assert total <= 10 * MB or len(names) == 1
    assert len(parts) == 4  # first-fit decreasing: huge | a+c | b+d+e | f
    parts = wheelhouse.split_parts(tmp_path, 100)
    assert list(parts) == ["part1"] and len(parts["part1"]) == len(sizes)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["part1"]


def test_target_platforms():
    """pip gets the older manylinux tags a glibc 2.X system also runs; uv gets its own names."""
    tags = wheelhouse.pip_platforms(["manylinux_2_28_x86_64"])
    assert tags[0] == "manylinux_2_28_x86_64"
    assert {"manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux1_x86_64"} <= set(tags)
    assert "manylinux_2_29_x86_64" not in tags
    assert wheelhouse.pip_platforms(["manylinux_2_12_aarch64", "macosx_11_0_arm64"])[-3:] == [
        "manylinux2010_aarch64", "manylinux1_aarch64", "macosx_11_0_arm64"]
    assert wheelhouse.target_options(None, []) == []
    assert wheelhouse.uv_platform("manylinux_2_28_aarch64") == "aarch64-manylinux_2_28"
    assert wheelhouse.uv_platform("manylinux2014_x86_64") == "x86_64-manylinux2014"
    assert wheelhouse.uv_platform("aarch64-apple-darwin") == "aarch64-apple-darwin"
    spec = "torch==2.13.0 --extra-index-url https://download.pytorch.org/whl/cu128"
    assert wheelhouse.torch_requirement(spec) == "torch==2.13.0"
    assert wheelhouse.torch_requirement("--index-url https://x/torch torch") == "torch"


def test_placeholder_torch_satisfies_pip(tmp_path):
    """The placeholder wheel that stands for the venv's torch in the offline check: pip's dry run
    takes it, for another Python and platform too, with no index."""
    wheelhouse.placeholder_wheel(tmp_path, "torch==2.13.0")
    assert [p.name for p in tmp_path.iterdir()] == ["torch-2.13.0-py3-none-any.whl"]
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--no-index", "--only-binary=:all:",
         "--find-links", str(tmp_path), "--target", str(tmp_path / "t"),
         *wheelhouse.target_options("3.13", ["manylinux_2_28_aarch64"]), "torch>=2.4"],
        env=_offline_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "Would install torch-2.13.0" in proc.stdout, proc.stderr


def _env(**changes: str | None) -> dict[str, str]:
    """This environment without outer make's variables (they would leak into our make)."""
    env = {key: value for key, value in os.environ.items()
           if key not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"}}
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def _offline_env() -> dict[str, str]:
    """pip with no index, no config files (they name extra indexes and find-links) and an
    unreachable index and proxy, so nothing can reach the network unnoticed."""
    dead = "http://127.0.0.1:9"
    changes: dict[str, str | None] = {key: None for key in os.environ if key.startswith("PIP_")}
    changes.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_INDEX_URL=dead + "/simple",
                   PIP_RETRIES="0", PIP_TIMEOUT="5", HF_HUB_OFFLINE="1",
                   http_proxy=dead, https_proxy=dead, HTTP_PROXY=dead, HTTPS_PROXY=dead,
                   no_proxy=None, NO_PROXY=None)
    return _env(**changes)


def _run(command: list[str], env: dict[str, str], timeout: float) -> str:
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{' '.join(command)} failed:\n{output[-6000:]}"
    return output


def _borrow_torch(venv: Path, folder: Path) -> None:
    """Make the running venv's torch (and only torch) importable and visible to pip in ``venv``:
    symlink its top-level files into ``folder`` and put ``folder`` on the venv's path."""
    dist = importlib.metadata.distribution("torch")
    base = Path(dist.locate_file(""))
    folder.mkdir()
    for top in sorted({f.parts[0] for f in dist.files or [] if f.parts[0] != ".."}):
        (folder / top).symlink_to(base / top)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "_borrowed_torch.pth").write_text(str(folder) + "\n")


@pytest.mark.network
def test_lock_matches_pyproject(tmp_path):
    """`make lock` into a new file (uv, starting from the lock's versions) gives the lock back:
    it is complete and minimal for pyproject's ranges, and has no torch family."""
    out = tmp_path / "requirements.lock"
    _run(["make", "-C", str(ROOT), "lock", f"LOCK={out}", f"VENV={sys.prefix}"], _env(), 600)
    text = out.read_text().replace(f" LOCK={out}\n", "\n")
    assert text == (ROOT / "requirements.lock").read_text()


@pytest.mark.network
def test_offline_install_from_wheelhouse(tmp_path):
    """`make wheelhouse` for this machine, then `make install WHEELHOUSE=` with no index."""
    started = time.monotonic()
    house = tmp_path / "wheelhouse"
    # VENV= the running venv: the wheelhouse helper runs with this interpreter's pip.
    _run(["make", "-C", str(ROOT), "wheelhouse", f"WHEELHOUSE={house}",
          f"PART_SIZE_MB={PART_MB}", "WITH_TORCH=0", f"VENV={sys.prefix}"], _env(), 1500)
    built = time.monotonic()

    manifest = json.loads((house / "wheelhouse.json").read_text())
    assert manifest["problems"] == [] and manifest["needs_preinstalled"] == ["torch"]
    assert manifest["built_from_sdist"] == ["connection_pool-0.0.3-py3-none-any.whl"]
    assert not list(house.glob("*.whl")), "every wheel is in a part"
    wheels = sorted(house.glob("part*/*.whl"))
    for part in house.glob("part*"):
        sizes = [p.stat().st_size for p in part.glob("*.whl")]
        assert sizes and (sum(sizes) <= PART_MB * MB or len(sizes) == 1), (part, sizes)
        if len(sizes) == 1 and sizes[0] > PART_MB * MB:
            assert sorted(manifest["parts"][part.name]) == [p.name for p in part.glob("*.whl")]
    found = {}
    for path in wheels:
        name, version, *_ = parse_wheel_filename(path.name)
        found[name] = str(version)
    assert not [name for name in found if wheelhouse.is_torch_family(name)]
    pins = _lock()
    assets = {wheelhouse.requirement_name(line): line.split("==")[1] for line in
              wheelhouse.read_requirement_lines(ROOT / "requirements-assets.txt")}
    assert found == pins | assets  # exactly the lock and the assets
    assert len((house / "SHA256SUMS").read_text().splitlines()) == len(wheels)

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    _borrow_torch(venv, tmp_path / "torch_only")
    offline = _offline_env()
    # No byte-compiling of the 17,000 installed modules: half a minute of CPU that this venv,
    # thrown away after a few imports, never uses. (pip reads the variable of a `--no-` option
    # inverted: "0" is `--no-compile`.)
    _run(["make", "-C", str(ROOT), "install", f"VENV={venv}", f"WHEELHOUSE={house}"],
         {**offline, "PIP_NO_COMPILE": "0"}, 900)
    installed = time.monotonic()

    python = str(venv / "bin" / "python")
    out = _run([python, "-c", "import paretohqd, snakemake, trl, peft, torch; "
                "print(paretohqd.__file__); print(torch.__file__); print(snakemake.__file__)"],
               offline, 300).split()
    assert Path(out[0]).is_relative_to(ROOT)  # editable: the checkout's package
    assert Path(out[1]).is_relative_to(tmp_path / "torch_only")
    assert Path(out[2]).is_relative_to(venv)
    version = _run([str(venv / "bin" / "snakemake"), "--version"], offline, 120).strip()
    assert version == pins["snakemake"]
    # Installed versions are the lock's; the only unmet requirements are the assets' (--no-deps).
    freeze = _run([python, "-m", "pip", "freeze", "--all", "--exclude-editable"], offline, 120)
    frozen = dict(line.split("==", 1) for line in freeze.split() if "==" in line)
    assert {canonicalize_name(k): v for k, v in frozen.items() if canonicalize_name(k) in pins} \
        == pins
    check = subprocess.run([python, "-m", "pip", "check"], env=offline, capture_output=True,
                           text=True)
    assets = {wheelhouse.requirement_name(line) for line in
              wheelhouse.read_requirement_lines(ROOT / "requirements-assets.txt")}
    broken = [line for line in check.stdout.splitlines()
              if line.strip() and canonicalize_name(line.split()[0]) not in assets]
    assert not broken, check.stdout
    print(f"\nwheelhouse {built - started:.0f} s ({len(wheels)} wheels, "
          f"{sum(p.stat().st_size for p in wheels) / MB:.0f} MB), offline install "
          f"{installed - built:.0f} s, checks {time.monotonic() - installed:.0f} s")
