#!/usr/bin/env python3
"""Lock file and offline wheelhouse: the project's glue around uv and pip.

The resolving, downloading and checking are done by the tools made for them; this file only
holds what is specific to this project. Sub-commands:

``lock``
    ``uv pip compile pyproject.toml --extra test`` for one target Python and platform, with
    torch held at ``TORCH_SPEC``'s version and then left out of the lock together with its CUDA
    companions (``nvidia-*``, ``cuda-*``, ``triton``): the Makefile installs torch first.
``build``
    ``pip download --no-deps --only-binary=:all:`` of the lock and the assets for the target
    (the pure-Python packages PyPI ships only as sdists are built into wheels here), torch with
    ``--with-torch``; then
    ``pip install --dry-run --no-index`` of what ``make install WHEELHOUSE=`` installs, against
    the folder alone and for the target; then the split into ``partN/`` below a size limit,
    with ``SHA256SUMS`` and ``wheelhouse.json``.
``split``
    (re-)split a wheelhouse folder into parts.

Needs only a Python with pip (pip's vendored ``packaging`` is used when ``packaging`` is not
installed). ``make lock``, ``make wheelhouse`` and ``make install WHEELHOUSE=dir`` call it; see
docs/CLUSTER.md ("Offline installs").
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Sequence

try:  # pragma: no cover - whichever is available
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name, parse_wheel_filename
except ImportError:  # pragma: no cover
    from pip._vendor.packaging.requirements import Requirement
    from pip._vendor.packaging.utils import canonicalize_name, parse_wheel_filename

ROOT = Path(__file__).resolve().parents[1]
MB = 1024 * 1024
# Installed separately (Makefile TORCH_SPEC; GPU users bring their own CUDA build).
TORCH_NAMES = {"torch", "triton"}
TORCH_PREFIXES = ("nvidia-", "cuda-", "pytorch-triton")
SDISTS = ("*.tar.gz", "*.zip")


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


def run(command: Sequence[str], env: dict[str, str] | None = None) -> int:
    """Run a command, echoing it; its output goes to our stderr."""
    print("+ " + shlex.join(command), file=sys.stderr, flush=True)
    return subprocess.run(command, stdout=sys.stderr, env=env).returncode


def pip(*args: str, env: dict[str, str] | None = None) -> int:
    return run([sys.executable, "-m", "pip", *args, "--progress-bar", "off"], env=env)


# ---------------------------------------------------------------------------------------------
# target platform names


def uv_platform(tag: str) -> str:
    """uv's ``--python-platform`` for a wheel platform tag (``manylinux_2_28_x86_64`` ->
    ``x86_64-manylinux_2_28``); anything else is passed on as uv's own name."""
    match = re.fullmatch(r"(manylinux(?:2014|_\d+_\d+))_(x86_64|aarch64)", tag)
    return f"{match[2]}-{match[1]}" if match else tag


def pip_platforms(tags: Sequence[str]) -> list[str]:
    """pip ``--platform`` tags: each ``manylinux_2_X`` tag with the older manylinux tags that a
    glibc 2.X system also runs (pip expands ``manylinux2014`` by itself, not ``manylinux_2_X``)."""
    result: list[str] = []
    legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    for tag in tags:
        match = re.fullmatch(r"manylinux_2_(\d+)_(.+)", tag)
        more = [tag]
        if match:
            glibc, arch = int(match[1]), match[2]
            more = [f"manylinux_2_{v}_{arch}" for v in range(glibc, 4, -1)]
            more += [f"{name}_{arch}" for v, name in legacy.items() if v <= glibc]
        result += [t for t in more if t not in result]
    return result


def target_options(python_version: str | None, platforms: Sequence[str]) -> list[str]:
    """pip options that select wheels for the target (none: this interpreter and machine)."""
    options = ["--python-version", python_version, "--implementation", "cp"] if python_version \
        else []
    for platform in pip_platforms(platforms):
        options += ["--platform", platform]
    return options


# ---------------------------------------------------------------------------------------------
# lock


def torch_requirement(torch_spec: str) -> str:
    """The requirement in ``TORCH_SPEC`` (which may carry pip options such as --index-url)."""
    return next((w for w in shlex.split(torch_spec) if re.match(r"torch(?![\w.-])", w)), "torch")


def cmd_lock(args: argparse.Namespace) -> int:
    """Two ``uv pip compile`` runs: the second leaves out the torch family the first found.

    uv keeps the versions already in the output file where pyproject still allows them
    (``--upgrade``: the newest). A new output file starts from ``--prefer``'s versions.
    """
    output: Path = args.output
    command = f"make lock PYTHON_VERSION={args.python_version} PLATFORM={args.platform}"
    if output.resolve() != (ROOT / "requirements.lock").resolve():
        command += f" LOCK={output}"
    with tempfile.TemporaryDirectory() as tmp:
        constraint, lock = Path(tmp) / "torch.txt", Path(tmp) / "lock.txt"
        constraint.write_text(torch_requirement(args.torch) + "\n")
        seed = output if output.exists() else args.prefer
        if seed and seed.exists() and not args.upgrade:
            shutil.copyfile(seed, lock)
        compile_ = [args.uv, "pip", "compile", str(args.project / "pyproject.toml"),
                    "--extra", "test", "--constraint", str(constraint),
                    "--python-version", args.python_version,
                    "--python-platform", uv_platform(args.platform),
                    "--custom-compile-command", command, "--output-file", str(lock),
                    "--no-emit-package", "torch", "--quiet",
                    *(["--upgrade"] if args.upgrade else [])]
        if run(compile_) != 0:
            return 1
        family = sorted({name for name in map(requirement_name, read_requirement_lines(lock))
                         if is_torch_family(name)})
        if family and run(compile_ + [f"--no-emit-package={name}" for name in family]) != 0:
            return 1
        left = [line for line in read_requirement_lines(lock)
                if is_torch_family(requirement_name(line))]
        if left:
            raise SystemExit(f"the lock still pins torch's family: {left}")
        shutil.copyfile(lock, output)
    print(f"wrote {len(read_requirement_lines(output))} pins to {output}", file=sys.stderr)
    return 0


# ---------------------------------------------------------------------------------------------
# wheelhouse


def all_wheels(folder: Path) -> list[Path]:
    """Every wheel in ``folder`` and its ``part*/`` subfolders."""
    return sorted(folder.glob("*.whl")) + sorted(folder.glob("part*/*.whl"))


def build_sdists(dest: Path, native: bool) -> tuple[list[str], list[str]]:
    """Build the sdists of ``--sdist-only`` packages into wheels; (built, problems).

    For another machine (``native`` false) only a pure-Python (``none-any``) wheel is kept.
    """
    built, problems = [], []
    for sdist in sorted(p for pattern in SDISTS for p in dest.glob(pattern)):
        with tempfile.TemporaryDirectory() as tmp:
            wheels = list(Path(tmp).glob("*.whl")) if pip(
                "wheel", "--no-deps", "--wheel-dir", tmp, str(sdist)) == 0 else []
            tags = {(t.abi, t.platform) for w in wheels for t in parse_wheel_filename(w.name)[3]}
            if len(wheels) != 1:
                problems.append(f"{sdist.name}: building its wheel failed")
            elif not native and tags != {("none", "any")}:
                problems.append(f"{sdist.name} builds {wheels[0].name} here, not a pure-Python "
                                "wheel: it cannot serve another platform")
            else:
                shutil.copy2(wheels[0], dest / wheels[0].name)
                built.append(wheels[0].name)
        sdist.unlink()
    return built, problems


def placeholder_wheel(folder: Path, requirement: str) -> None:
    """A wheel with no files and no dependencies that stands for the venv's own torch."""
    pins = [s.version for s in Requirement(requirement).specifier if s.operator == "=="]
    name, version = "torch", pins[0] if pins else "999"
    info = f"{name}-{version}.dist-info"
    with zipfile.ZipFile(folder / f"{name}-{version}-py3-none-any.whl", "w") as archive:
        archive.writestr(f"{info}/METADATA",
                         f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        archive.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n"
                                          "Tag: py3-none-any\n")
        archive.writestr(f"{info}/RECORD", "")


def check_offline(dest: Path, lock: Path, assets: Path, target: Sequence[str],
                  torch_spec: str, with_torch: bool) -> list[str]:
    """``pip install --dry-run --no-index`` of the install's steps against ``dest`` alone.

    Run without pip's configuration (its find-links and indexes): the lock with its
    dependencies and the project's build backend, then the assets with ``--no-deps``. Without
    torch in the folder, a placeholder wheel stands for the torch of the venv.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    import tomllib  # Python >= 3.11, as the project itself
    backend = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        links = ["--find-links", str(dest)]
        if not with_torch:
            placeholder_wheel(Path(tmp), torch_requirement(torch_spec))
            links += ["--find-links", tmp]
        base = ["install", "--dry-run", "--no-index", "--only-binary=:all:", *links, *target,
                "--target", str(Path(tmp) / "target")]
        torch = [torch_requirement(torch_spec)] if with_torch else []
        if pip(*base, "-r", str(lock), *backend, *torch, env=env) != 0:
            problems.append("pip cannot install the lock from the wheelhouse (see above)")
        if pip(*base, "--no-deps", "-r", str(assets), env=env) != 0:
            problems.append("pip cannot install the assets from the wheelhouse (see above)")
    return problems


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
        index = next((i for i, total in enumerate(totals)
                      if total + size <= limit and sizes[bins[i][0]] <= limit), None)
        if index is None or size > limit:
            bins.append([])
            totals.append(0)
            index = len(bins) - 1
        bins[index].append(name)
        totals[index] += size
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
        with open(path, "rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        lines.append(f"{digest}  {path.relative_to(folder).as_posix()}")
    (folder / "SHA256SUMS").write_text("\n".join(lines) + "\n")


def cmd_build(args: argparse.Namespace) -> int:
    dest: Path = args.dest.resolve()
    dest.mkdir(parents=True, exist_ok=True)
    for path in all_wheels(dest):  # earlier run: flatten so pip skips what is already there
        if path.parent != dest:
            path.replace(dest / path.name)
    if any(is_torch_family(requirement_name(line)) for line in read_requirement_lines(args.lock)):
        raise SystemExit("the lock must not pin torch or its CUDA companions")
    target = target_options(args.python_version, args.platform)
    problems = []
    # Wheels only, but for the packages PyPI ships only as sdists (pip stops at the first pin
    # with no wheel for the target and names it).
    sdist_only = [f"--no-binary={name}" for name in args.sdist_only]
    if pip("download", "--no-deps", "--only-binary=:all:", *sdist_only, "--dest", str(dest),
           *target, "-r", str(args.lock), "-r", str(args.assets)) != 0:
        problems.append("pip download of the lock and the assets failed: a pin with no wheel "
                        "for the target? (pip names it above; a pure-Python package with only "
                        "an sdist goes into SDIST_ONLY)")
    built, unbuilt = build_sdists(dest, native=not target)
    problems += unbuilt
    # torch *with* its dependencies (a CUDA build's nvidia-* and triton), the shared ones held
    # at the lock's versions.
    if args.with_torch and pip("download", "--only-binary=:all:", "--constraint", str(args.lock),
                               "--dest", str(dest), *target, *shlex.split(args.torch)) != 0:
        problems.append(f"torch ({args.torch}) could not be downloaded for the target")
    if not problems:
        problems += check_offline(dest, args.lock, args.assets, target, args.torch,
                                  args.with_torch)

    parts = split_parts(dest, args.part_size_mb)
    write_checksums(dest)
    manifest = {
        "python_version": args.python_version or "%d.%d" % sys.version_info[:2],
        "platforms": pip_platforms(args.platform) or ["(this machine)"],
        "lock": args.lock.name, "assets": args.assets.name,
        "torch": args.torch if args.with_torch else None,
        "needs_preinstalled": [] if args.with_torch else ["torch"],
        "part_size_mb": args.part_size_mb, "built_from_sdist": built, "problems": problems,
        "parts": parts,
    }
    (dest / "wheelhouse.json").write_text(json.dumps(manifest, indent=1) + "\n")
    total = sum(p.stat().st_size for p in all_wheels(dest))
    print(f"\nwheelhouse {dest}: {sum(map(len, parts.values()))} wheels, {total / MB:.0f} MB, "
          f"{len(parts)} parts; built here from sdists: {', '.join(built) or 'none'}",
          file=sys.stderr)
    for problem in problems:
        print("ERROR: " + problem, file=sys.stderr)
    return 1 if problems else 0


def cmd_split(args: argparse.Namespace) -> int:
    split_parts(args.folder, args.part_size_mb)
    write_checksums(args.folder)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("lock", help="write the lock for one target with uv pip compile")
    p.add_argument("--uv", default="uv", help="the uv executable")
    p.add_argument("--output", type=Path, default=ROOT / "requirements.lock")
    p.add_argument("--prefer", type=Path, default=ROOT / "requirements.lock",
                   help="versions to keep when the output file does not exist yet")
    p.add_argument("--project", type=Path, default=ROOT)
    p.add_argument("--python-version", default="3.11")
    p.add_argument("--platform", default="manylinux_2_28_x86_64",
                   help="wheel platform tag, or any uv --python-platform name")
    p.add_argument("--torch", default="torch", help="TORCH_SPEC: the torch the lock is made with")
    p.add_argument("--upgrade", action="store_true", help="newest versions pyproject allows")
    p.set_defaults(func=cmd_lock)

    p = sub.add_parser("build", help="download, check and split a wheelhouse")
    p.add_argument("--dest", type=Path, required=True)
    p.add_argument("--lock", type=Path, default=ROOT / "requirements.lock")
    p.add_argument("--assets", type=Path, default=ROOT / "requirements-assets.txt")
    p.add_argument("--python-version", default=None, help="e.g. 3.12 (default: this Python)")
    p.add_argument("--platform", action="append", default=[],
                   help="wheel platform tag, e.g. manylinux_2_28_x86_64 (repeatable; default: "
                        "this machine); older manylinux tags are added")
    p.add_argument("--part-size-mb", type=float, default=50.0)
    p.add_argument("--torch", default="torch", help="TORCH_SPEC (requirement + pip options)")
    p.add_argument("--with-torch", action="store_true", help="add torch to the wheelhouse")
    p.add_argument("--sdist-only", action="append", default=[],
                   help="a package PyPI ships only as an sdist: built into a wheel here")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("split", help="(re-)split a wheelhouse into parts")
    p.add_argument("folder", type=Path)
    p.add_argument("--part-size-mb", type=float, default=50.0)
    p.set_defaults(func=cmd_split)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
