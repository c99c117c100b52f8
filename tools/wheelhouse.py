#!/usr/bin/env python3
"""Lock file and offline wheelhouse for installs on machines without internet.

Only the standard library and pip are needed (pip's vendored ``packaging`` is used when
``packaging`` itself is not installed), so this runs under any Python that has pip, with or
without the project's venv. Sub-commands:

``requirements``
    print pyproject's runtime + ``test`` requirements, torch left out (input of ``make lock``);
``freeze``
    write the lock file (``name==version`` lines) from an installed environment, leaving out the
    project itself, torch, its CUDA companions (``nvidia-*``, ``triton``) and the offline assets;
``build``
    download every wheel of the lock, the assets, the project (built here) and optionally torch
    for a chosen Python version and platform into one folder (pure-Python packages that PyPI only
    ships as sdists are built into wheels here), check that the wheels cover every dependency,
    then split the folder into ``partN/`` subfolders below a size limit;
``split``
    (re-)split a wheelhouse folder into parts;
``find-links``
    print the ``--find-links`` options that reach every wheel of a wheelhouse.

``make lock``, ``make wheelhouse`` and ``make install WHEELHOUSE=dir`` call it; see
docs/CLUSTER.md ("Offline installs").
"""

from __future__ import annotations

import argparse
import email.parser
import hashlib
import json
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

try:  # pragma: no cover - whichever is available
    from packaging.markers import default_environment
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion, Version
except ImportError:  # pragma: no cover
    from pip._vendor.packaging.markers import default_environment
    from pip._vendor.packaging.requirements import InvalidRequirement, Requirement
    from pip._vendor.packaging.utils import canonicalize_name
    from pip._vendor.packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parents[1]
MB = 1024 * 1024
PROJECT = "paretohqd"
# Installed separately (Makefile TORCH_SPEC; GPU users bring their own CUDA build).
TORCH_NAMES = {"torch", "triton"}
TORCH_PREFIXES = ("nvidia-", "pytorch-triton")
PIP_ITSELF = {"pip"}


def is_torch_family(name: str) -> bool:
    """True for torch and the CUDA companions a CUDA torch wheel pulls in."""
    name = canonicalize_name(name)
    return name in TORCH_NAMES or name.startswith(TORCH_PREFIXES)


def read_requirement_lines(path: Path) -> list[str]:
    """The requirement lines of a pip requirements file, comments and blank lines dropped."""
    lines = []
    for raw in path.read_text().splitlines():
        line = raw.split(" #", 1)[0].split("\t#", 1)[0].strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def requirement_name(line: str) -> str:
    """The canonical project name of a requirement line such as ``PuLP==3.3.2``."""
    return canonicalize_name(Requirement(line).name)


# ---------------------------------------------------------------------------------------------
# pyproject requirements and the lock


def load_pyproject(project: Path) -> dict:
    """Parse ``pyproject.toml`` with tomllib (3.11+) or pip's vendored tomli."""
    try:
        import tomllib
    except ImportError:  # pragma: no cover - Python 3.10
        from pip._vendor import tomli as tomllib  # type: ignore[no-redef]
    with open(project / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)


def project_requirements(project: Path, extras: Sequence[str] = ("test",),
                         with_torch: bool = False) -> list[str]:
    """pyproject's dependencies plus those of ``extras``; torch dropped unless ``with_torch``."""
    meta = load_pyproject(project)["project"]
    lines = list(meta.get("dependencies", []))
    for extra in extras:
        lines += meta.get("optional-dependencies", {}).get(extra, [])
    return [line for line in lines if with_torch or not is_torch_family(Requirement(line).name)]


def freeze_lines(python: str) -> list[str]:
    """``pip freeze --all --exclude-editable`` of the environment of ``python``."""
    out = subprocess.run([python, "-m", "pip", "freeze", "--all", "--exclude-editable"],
                         check=True, capture_output=True, text=True).stdout
    return [line.strip() for line in out.splitlines()
            if line.strip() and not line.startswith(("#", "-e"))]


def lock_lines(frozen: Iterable[str], exclude: Iterable[str]) -> list[str]:
    """Normalised, sorted ``name==version`` lines without torch's family, pip and ``exclude``."""
    excluded = {canonicalize_name(name) for name in exclude} | {PROJECT} | PIP_ITSELF
    pins: dict[str, str] = {}
    for line in frozen:
        if " @ " in line:
            raise SystemExit(f"cannot lock a direct reference (not on an index): {line}")
        name, sep, version = line.partition("==")
        if not sep:
            raise SystemExit(f"unexpected freeze line: {line}")
        key = canonicalize_name(name)
        if key in excluded or is_torch_family(key):
            continue
        pins[key] = version.strip()
    return [f"{name}=={pins[name]}" for name in sorted(pins)]


def write_lock(lines: Sequence[str], python: str, output: Path | None) -> None:
    """Write the lock with a header naming the interpreter and platform it was resolved on."""
    info = subprocess.run(
        [python, "-c", "import platform, sys; print(platform.python_version(), sys.platform, "
                       "platform.machine())"],
        check=True, capture_output=True, text=True).stdout.strip()
    header = [
        "# Exact versions of every runtime + test dependency of pyproject.toml `.[test]`,",
        "# transitively, except torch and its CUDA companions (nvidia-*, triton): the Makefile",
        "# installs torch first (TORCH_SPEC). The offline assets are in requirements-assets.txt.",
        f"# Resolved on Python {info}. Refresh with `make lock` (docs/CLUSTER.md).",
    ]
    text = "\n".join(header + list(lines)) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)
        print(f"wrote {len(lines)} pins to {output}", file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# target platform


def expand_platforms(platforms: Sequence[str]) -> list[str]:
    """Add the older platform tags that a ``manylinux_2_X`` / ``musllinux_1_X`` system also runs.

    pip expands ``manylinux2014`` but not ``manylinux_2_28``, which would then miss every
    wheel tagged only ``manylinux_2_17`` (or ``manylinux2014``).
    """
    result: list[str] = []

    def add(tag: str) -> None:
        if tag not in result:
            result.append(tag)

    legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    for platform in platforms:
        add(platform)
        many = re.fullmatch(r"manylinux_(\d+)_(\d+)_(.+)", platform)
        musl = re.fullmatch(r"musllinux_(\d+)_(\d+)_(.+)", platform)
        if many:
            major, minor, arch = int(many[1]), int(many[2]), many[3]
            for glibc in range(minor, 4, -1):
                add(f"manylinux_{major}_{glibc}_{arch}")
                if major == 2 and glibc in legacy and arch in {"x86_64", "i686"} | (
                        {"aarch64", "ppc64le", "s390x", "armv7l"} if glibc == 17 else set()):
                    add(f"{legacy[glibc]}_{arch}")
        elif musl:
            major, minor, arch = int(musl[1]), int(musl[2]), musl[3]
            for version in range(minor, -1, -1):
                add(f"musllinux_{major}_{version}_{arch}")
    return result


def marker_environment(python_version: str | None, platforms: Sequence[str]) -> dict[str, str]:
    """The PEP 508 marker environment of the target (this machine's where not given)."""
    env = dict(default_environment())
    if python_version:
        parts = python_version.split(".")
        env["python_version"] = ".".join(parts[:2])
        env["python_full_version"] = python_version if len(parts) > 2 else python_version + ".0"
        env.update(implementation_name="cpython", platform_python_implementation="CPython")
    if platforms:
        tag = platforms[0]
        linux = re.fullmatch(r"(?:manylinux\d*(?:_\d+_\d+)?|musllinux_\d+_\d+|linux)_(.+)", tag)
        mac = re.fullmatch(r"macosx_\d+_\d+_(.+)", tag)
        if linux:
            env.update(sys_platform="linux", platform_system="Linux", os_name="posix",
                       platform_machine=linux[1])
        elif mac:
            env.update(sys_platform="darwin", platform_system="Darwin", os_name="posix",
                       platform_machine="arm64" if mac[1] == "arm64" else "x86_64")
        elif tag.startswith("win"):
            env.update(sys_platform="win32", platform_system="Windows", os_name="nt",
                       platform_machine={"win_amd64": "AMD64", "win_arm64": "ARM64"}.get(tag, "x86"))
    return env


def target_options(python_version: str | None, platforms: Sequence[str]) -> list[str]:
    """pip options that select wheels for the target (none: this interpreter and machine)."""
    options: list[str] = []
    if python_version:
        options += ["--python-version", python_version, "--implementation", "cp"]
    for platform in expand_platforms(platforms):
        options += ["--platform", platform]
    return options


# ---------------------------------------------------------------------------------------------
# downloading


def run_pip(args: Sequence[str], echo: bool = True) -> tuple[int, str]:
    """Run ``python -m pip`` with this interpreter, echoing its output; (exit code, output)."""
    command = [sys.executable, "-m", "pip", *args]
    print("+ " + shlex.join(command), file=sys.stderr, flush=True)
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if echo:
            sys.stderr.write(line)
    return proc.wait(), "".join(lines)


_NOT_FOUND = re.compile(r"(?:No matching distribution found for|Could not find a version that "
                        r"satisfies the requirement)\s+(\S+)")
_WRONG_PYTHON = re.compile(r"require a different python version: (.*)")
# After this many failures of the one-call download, go one requirement at a time.
MAX_RETRIES = 3


@dataclass
class Unresolved:
    """A requirement with no wheel for the target, and why."""

    requirement: str
    reason: str = "no wheel for the target"

    def __str__(self) -> str:
        return f"{self.requirement} ({self.reason})"


def _wrong_python(line: str, output: str) -> bool:
    """Whether pip's ``output`` says the pinned version of ``line`` excludes the target Python."""
    pinned = [spec.version for spec in Requirement(line).specifier if spec.operator == "=="]
    for match in _WRONG_PYTHON.finditer(output):
        for entry in match.group(1).split("; "):
            try:
                if pinned and Version(entry.split()[0]) == Version(pinned[0]):
                    return True
            except (InvalidVersion, IndexError):
                continue
    return False


def _unresolved(line: str, output: str) -> Unresolved:
    if _wrong_python(line, output):
        return Unresolved(line, "its Requires-Python excludes the target Python")
    return Unresolved(line)


def download_wheels(requirements: Sequence[str], dest: Path,
                    target: Sequence[str]) -> list[Unresolved]:
    """Download one wheel per requirement (``--no-deps``, binary only) into ``dest``.

    One pip call for all. pip stops at the first requirement with no wheel for the target; it is
    set aside and the rest retried, and after ``MAX_RETRIES`` such failures the remaining
    requirements go one call each. Returns the requirements with no wheel, with pip's reason.
    """
    remaining = list(requirements)
    missing: list[Unresolved] = []
    base = ["download", "--no-deps", "--only-binary=:all:", "--progress-bar", "off",
            "--dest", str(dest), *target]
    for _ in range(MAX_RETRIES + 1):
        if not remaining:
            return missing
        code, output = run_pip([*base, *remaining])
        if code == 0:
            return missing
        names = {requirement_name(found) for found in _NOT_FOUND.findall(output)
                 if _valid_requirement(found)}
        failed = [line for line in remaining if requirement_name(line) in names]
        if not failed:  # an error we cannot attribute to one requirement
            break
        missing += [_unresolved(line, output) for line in failed]
        remaining = [line for line in remaining if line not in failed]
    for line in remaining:  # one at a time
        code, output = run_pip([*base, line])
        if code != 0:
            missing.append(_unresolved(line, output))
    return missing


def _valid_requirement(text: str) -> bool:
    try:
        Requirement(text)
    except InvalidRequirement:
        return False
    return True


def wheel_tags(filename: str) -> tuple[str, str, str, str, str]:
    """(name, version, python tag, abi tag, platform tag) of a wheel file name."""
    stem = filename[:-len(".whl")]
    parts = stem.split("-")
    name, version = parts[0], parts[1]
    python_tag, abi_tag, platform_tag = parts[-3:]
    return canonicalize_name(name), version, python_tag, abi_tag, platform_tag


def build_from_sdists(missing: Sequence[Unresolved], dest: Path,
                      native: bool) -> tuple[list[str], list[Unresolved]]:
    """Build wheels from sdists for requirements that PyPI ships without any wheel.

    For another machine (``native`` false) only pure-Python (``none-any``) wheels are kept, and
    a requirement is built only when it has no wheel for this machine either: a package with
    wheels for other platforms is compiled, and building it here would not help the target
    (and could take long). Requirements whose Requires-Python excludes the target are not built.
    Returns (built wheel file names, what is still unresolved).
    """
    built: list[str] = []
    failed: list[Unresolved] = []
    for item in missing:
        line = item.requirement
        if item.reason != Unresolved(line).reason:
            failed.append(item)
            continue
        name = requirement_name(line)
        with tempfile.TemporaryDirectory() as tmp:
            if not native:
                code, _ = run_pip(["download", "--no-deps", "--only-binary=:all:", "--progress-bar",
                                   "off", "--dest", tmp, line])
                wheels = list(Path(tmp).glob("*.whl"))
                if code == 0 and wheels:
                    failed.append(Unresolved(line, f"wheels only for other platforms, e.g. "
                                                   f"{wheels[0].name}"))
                    continue
            code, _ = run_pip(["wheel", "--no-deps", "--no-binary", name, "--progress-bar", "off",
                               "--wheel-dir", tmp, line])
            wheels = list(Path(tmp).glob("*.whl"))
            if code != 0 or len(wheels) != 1:
                failed.append(Unresolved(line, "no wheel, and building its sdist failed"))
                continue
            _, _, _, abi, platform = wheel_tags(wheels[0].name)
            if not native and (abi, platform) != ("none", "any"):
                failed.append(Unresolved(line, f"no wheel; its sdist builds {wheels[0].name} "
                                               "here, not a pure-Python wheel"))
                continue
            shutil.copy2(wheels[0], dest / wheels[0].name)
            built.append(wheels[0].name)
    return built, failed


def build_project_wheel(project: Path, dest: Path) -> str:
    """Build the project's wheel from a copy of its sources (no ``build/`` left in the tree)."""
    meta = load_pyproject(project)
    includes = meta.get("tool", {}).get("setuptools", {}).get("packages", {}).get(
        "find", {}).get("include", [PROJECT + "*"])
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for item in project.iterdir():
            wanted = item.is_file() and (
                item.name in {"pyproject.toml", "setup.py", "setup.cfg", "MANIFEST.in"}
                or item.name.startswith(("README", "LICENSE", "LICENCE", "COPYING", "NOTICE")))
            package = item.is_dir() and (item / "__init__.py").exists() and any(
                Path(item.name).match(pattern) for pattern in includes)
            if wanted:
                shutil.copy2(item, src / item.name)
            elif package:
                shutil.copytree(item, src / item.name,
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        out = Path(tmp) / "out"
        code, _ = run_pip(["wheel", "--no-deps", "--progress-bar", "off", "--wheel-dir", str(out),
                           str(src)])
        wheels = list(out.glob("*.whl")) if code == 0 else []
        if len(wheels) != 1:
            raise SystemExit("building the project's wheel failed")
        shutil.copy2(wheels[0], dest / wheels[0].name)
        return wheels[0].name


def download_torch(torch_spec: str, lock: Path, dest: Path, target: Sequence[str]) -> bool:
    """Download torch from ``torch_spec`` *with* its dependencies, constrained by the lock.

    A CUDA torch wheel needs its ``nvidia-*`` / ``triton`` wheels; the constraint keeps the
    dependencies it shares with the lock (sympy, networkx, ...) at the locked versions.
    """
    code, _ = run_pip(["download", "--only-binary=:all:", "--progress-bar", "off",
                       "--constraint", str(lock), "--dest", str(dest), *target,
                       *shlex.split(torch_spec)])
    return code == 0


# ---------------------------------------------------------------------------------------------
# checking and splitting


@dataclass
class Coverage:
    """What a dependency walk over a wheelhouse found."""

    missing: list[str] = field(default_factory=list)   # "req (needed by X)"
    external: list[str] = field(default_factory=list)  # torch family names left to the venv


def all_wheels(folder: Path) -> list[Path]:
    """Every wheel in ``folder`` and its ``part*/`` subfolders."""
    return sorted(folder.glob("*.whl")) + sorted(folder.glob("part*/*.whl"))


def wheel_requires(path: Path) -> list[str]:
    """The ``Requires-Dist`` lines of a wheel's METADATA."""
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist()
                 if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
        if not names:
            return []
        message = email.parser.Parser().parsestr(archive.read(names[0]).decode("utf-8"))
    return message.get_all("Requires-Dist") or []


def check_coverage(folder: Path, roots: Sequence[str], env: dict[str, str],
                   no_deps_roots: Sequence[str] = ()) -> Coverage:
    """Walk the dependencies of ``roots`` through the wheels of ``folder`` for the target ``env``.

    A requirement is covered when a wheel of that name and an admissible version is in the
    folder. ``no_deps_roots`` (installed with ``--no-deps``) must be there, their dependencies
    are not followed. torch and its CUDA companions, when absent, are listed as ``external``
    (they must already be installed) instead of missing.
    """
    wheels: dict[str, list[tuple[Version, Path]]] = {}
    for path in all_wheels(folder):
        name, version, *_ = wheel_tags(path.name)
        try:
            wheels.setdefault(name, []).append((Version(version), path))
        except InvalidVersion:
            continue
    coverage = Coverage()
    seen: set[tuple[str, frozenset[str]]] = set()
    todo: list[tuple[Requirement, str]] = [(Requirement(r), "pyproject.toml") for r in roots]
    todo += [(Requirement(r), "--no-deps") for r in no_deps_roots]
    while todo:
        req, parent = todo.pop()
        name = canonicalize_name(req.name)
        key = (name, frozenset(req.extras))
        if key in seen:
            continue
        seen.add(key)
        candidates = [(v, p) for v, p in wheels.get(name, [])
                      if req.specifier.contains(v, prereleases=True)]
        if not candidates:
            if is_torch_family(name) and name not in wheels:
                coverage.external.append(name)
            else:
                coverage.missing.append(f"{req} (needed by {parent})")
            continue
        version, path = max(candidates)
        if parent == "--no-deps":
            continue
        for line in wheel_requires(path):
            dep = Requirement(line)
            if dep.marker is not None and not any(
                    dep.marker.evaluate({**env, "extra": extra})
                    for extra in (sorted(req.extras) or [""])):
                continue
            todo.append((dep, f"{name}=={version}"))
    return coverage


def split_parts(folder: Path, part_size_mb: float) -> dict[str, list[str]]:
    """Move the wheels of ``folder`` into ``part1/``, ``part2/``, ... each below the size limit.

    Whole wheels only, packed largest first into the first part with room (first-fit
    decreasing). A wheel larger than the limit gets a part of its own and a warning. Wheels
    already in parts are re-packed, so this can be rerun with another limit.
    """
    limit = part_size_mb * MB
    wheels = all_wheels(folder)
    for path in wheels:  # flatten
        if path.parent != folder:
            path.replace(folder / path.name)
    for old in folder.glob("part*"):
        if old.is_dir() and not any(old.iterdir()):
            old.rmdir()
    sizes = {path.name: (folder / path.name).stat().st_size for path in wheels}
    bins: list[list[str]] = []
    totals: list[int] = []
    for name in sorted(sizes, key=lambda n: (-sizes[n], n)):
        size = sizes[name]
        if size > limit:
            print(f"WARNING: {name} is {size / MB:.1f} MB, over the part size "
                  f"({part_size_mb:g} MB): it gets a part of its own", file=sys.stderr)
            bins.append([name])
            totals.append(size)
            continue
        for index, total in enumerate(totals):
            if total + size <= limit and sizes[bins[index][0]] <= limit:
                bins[index].append(name)
                totals[index] += size
                break
        else:
            bins.append([name])
            totals.append(size)
    width = len(str(len(bins)))
    parts: dict[str, list[str]] = {}
    for index, names in enumerate(bins, start=1):
        part = f"part{index:0{width}d}"
        (folder / part).mkdir(exist_ok=True)
        for name in sorted(names):
            (folder / name).replace(folder / part / name)
        parts[part] = sorted(names)
        print(f"{part}: {len(names)} wheels, {totals[index - 1] / MB:.1f} MB", file=sys.stderr)
    return parts


def write_checksums(folder: Path) -> None:
    """``SHA256SUMS`` over every wheel (``sha256sum -c SHA256SUMS`` checks a copy)."""
    lines = []
    for path in all_wheels(folder):
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(MB), b""):
                digest.update(block)
        lines.append(f"{digest.hexdigest()}  {path.relative_to(folder).as_posix()}")
    (folder / "SHA256SUMS").write_text("\n".join(lines) + "\n")


def find_links(folder: Path) -> list[str]:
    """The folders that hold wheels: ``folder`` itself and its ``part*/`` subfolders."""
    folder = folder.resolve()
    return [str(folder)] + sorted(str(p) for p in folder.glob("part*") if p.is_dir())


# ---------------------------------------------------------------------------------------------
# commands


def cmd_requirements(args: argparse.Namespace) -> int:
    print("\n".join(project_requirements(args.project, args.extra)))
    return 0


def cmd_freeze(args: argparse.Namespace) -> int:
    exclude = [requirement_name(line) for path in args.exclude_file
               for line in read_requirement_lines(path)]
    write_lock(lock_lines(freeze_lines(args.python), exclude), args.python, args.output)
    return 0


def cmd_split(args: argparse.Namespace) -> int:
    split_parts(args.folder, args.part_size_mb)
    write_checksums(args.folder)
    return 0


def cmd_find_links(args: argparse.Namespace) -> int:
    print(" ".join(f"--find-links {shlex.quote(p)}" for p in find_links(args.folder)))
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    dest: Path = args.dest.resolve()
    dest.mkdir(parents=True, exist_ok=True)
    for path in all_wheels(dest):  # earlier run: flatten so pip skips what is already there
        if path.parent != dest:
            path.replace(dest / path.name)
    target = target_options(args.python_version, args.platform)
    requirements = read_requirement_lines(args.lock) + read_requirement_lines(args.assets)
    if any(is_torch_family(requirement_name(line)) for line in requirements):
        raise SystemExit("the lock must not pin torch or its CUDA companions")

    no_wheel = download_wheels(requirements, dest, target)
    native = not args.python_version and not args.platform
    built, unresolved = build_from_sdists(no_wheel, dest, native)
    project_wheel = build_project_wheel(args.project, dest)
    torch_ok = download_torch(args.torch, args.lock, dest, target) if args.torch else None

    env = marker_environment(args.python_version, args.platform)
    roots = project_requirements(args.project, ("test",), with_torch=True)
    coverage = check_coverage(dest, roots, env, read_requirement_lines(args.assets))

    parts = split_parts(dest, args.part_size_mb)
    write_checksums(dest)
    manifest = {
        "python_version": args.python_version or env["python_version"],
        "platforms": expand_platforms(args.platform) or ["(this machine)"],
        "lock": args.lock.name, "assets": args.assets.name, "project_wheel": project_wheel,
        "torch": args.torch or None, "part_size_mb": args.part_size_mb,
        "built_from_sdist": built, "unresolved": [str(item) for item in unresolved],
        "missing_dependencies": sorted(set(coverage.missing)),
        "needs_preinstalled": sorted(set(coverage.external)),
        "parts": parts,
    }
    (dest / "wheelhouse.json").write_text(json.dumps(manifest, indent=1) + "\n")

    total = sum(p.stat().st_size for p in all_wheels(dest))
    print(f"\nwheelhouse {dest}: {sum(map(len, parts.values()))} wheels, {total / MB:.0f} MB, "
          f"{len(parts)} parts", file=sys.stderr)
    if built:
        print("built here from sdists (pure Python): " + ", ".join(built), file=sys.stderr)
    if coverage.external:
        print("not in the wheelhouse, must already be installed in the venv: "
              + ", ".join(sorted(set(coverage.external))), file=sys.stderr)
    problems = []
    if unresolved:
        problems.append("not resolved for the target: " + "; ".join(map(str, unresolved)))
    if torch_ok is False:
        problems.append(f"torch ({args.torch}) could not be downloaded for the target")
    if coverage.missing:
        problems.append("dependencies with no wheel in the wheelhouse: "
                        + "; ".join(sorted(set(coverage.missing))))
    for problem in problems:
        print("ERROR: " + problem, file=sys.stderr)
    return 1 if problems else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("requirements", help="pyproject requirements without torch")
    p.add_argument("--project", type=Path, default=ROOT)
    p.add_argument("--extra", action="append", default=None,
                   help="optional-dependency groups to add (default: test)")
    p.set_defaults(func=cmd_requirements)

    p = sub.add_parser("freeze", help="write the lock file from an installed environment")
    p.add_argument("--python", default=sys.executable, help="interpreter of the environment")
    p.add_argument("--exclude-file", type=Path, action="append",
                   default=[ROOT / "requirements-assets.txt"],
                   help="requirement files whose packages stay out of the lock")
    p.add_argument("-o", "--output", type=Path, default=None)
    p.set_defaults(func=cmd_freeze)

    p = sub.add_parser("build", help="download / build every wheel, check, split into parts")
    p.add_argument("--dest", type=Path, required=True)
    p.add_argument("--lock", type=Path, default=ROOT / "requirements.lock")
    p.add_argument("--assets", type=Path, default=ROOT / "requirements-assets.txt")
    p.add_argument("--project", type=Path, default=ROOT)
    p.add_argument("--python-version", default=None, help="e.g. 3.12 (default: this Python)")
    p.add_argument("--platform", action="append", default=[],
                   help="wheel platform tag, e.g. manylinux_2_28_x86_64 (repeatable; default: "
                        "this machine); older manylinux tags are added automatically")
    p.add_argument("--part-size-mb", type=float, default=50.0)
    p.add_argument("--torch", default="", help="torch requirement (+ pip options) to add")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("split", help="(re-)split a wheelhouse into parts")
    p.add_argument("folder", type=Path)
    p.add_argument("--part-size-mb", type=float, default=50.0)
    p.set_defaults(func=cmd_split)

    p = sub.add_parser("find-links", help="print --find-links options for a wheelhouse")
    p.add_argument("folder", type=Path)
    p.set_defaults(func=cmd_find_links)

    args = parser.parse_args(argv)
    if getattr(args, "extra", 0) is None:
        args.extra = ["test"]
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
