"""Run the real Snakemake CLI on this repository's workflow from the tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Sequence

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests/configs/tiny.yaml"
# The offline stage's target rule: prompts, base model, reward models and judges, the scored
# offline data and the judges' scores of it
OFFLINE_TARGET = "offline_data"


def snakemake_command(*args: str, workdir: Path | None = None,
                      snakefile: Path = ROOT / "Snakefile") -> list[str]:
    """``snakemake --snakefile <repo>/Snakefile [--directory workdir] args...``."""
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(snakefile)]
    if workdir is not None:
        cmd += ["--directory", str(workdir)]
    return [*cmd, *map(str, args)]


def offline_env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


def snakemake(*args: str, workdir: Path | None = None, timeout: int = 1800,
              snakefile: Path = ROOT / "Snakefile") -> subprocess.CompletedProcess:
    """Run ``snakemake_command(...)`` offline, to the end."""
    return subprocess.run(snakemake_command(*args, workdir=workdir, snakefile=snakefile),
                          cwd=ROOT, env=offline_env(), capture_output=True, text=True,
                          timeout=timeout)


def start_snakemake(*args: str, workdir: Path, log: Path) -> subprocess.Popen:
    """Start ``snakemake_command(...)`` offline in the background, stdout and stderr to ``log``
    (read it while it runs), in a session of its own."""
    with log.open("w") as sink:
        return subprocess.Popen(snakemake_command(*args, workdir=workdir), cwd=ROOT,
                                env=offline_env(), stdout=sink, stderr=subprocess.STDOUT,
                                start_new_session=True)


def job_counts(dry_run_output: str) -> dict[str, int]:
    """Parse the 'Job stats' table of a dry run into {rule: count}."""
    lines = dry_run_output.splitlines()
    start = lines.index("Job stats:") + 3
    counts = {}
    for line in lines[start:]:
        parts = line.split()
        if len(parts) != 2 or parts[0] == "total":
            break
        counts[parts[0]] = int(parts[1])
    return counts


def gpus_asked(dry_run_output: str) -> dict[str, set[int]]:
    """Per rule of a dry run, the `gpu` resource values its jobs ask for (0 when none)."""
    asked: dict[str, set[int]] = {}
    rule = None
    for line in dry_run_output.splitlines():
        words = line.split()
        if words[:1] in (["rule"], ["localrule"]):
            rule = words[1].rstrip(":")
        elif words[:1] == ["resources:"] and rule is not None:
            resources = dict(item.split("=", 1) for item in line.split(":", 1)[1].split(", "))
            asked.setdefault(rule, set()).add(int(resources.get("gpu", 0)))
            rule = None
    return asked


def planned_outputs(dry_run_output: str) -> list[str]:
    """Every output path of the jobs a dry run lists."""
    return [path.strip() for line in dry_run_output.splitlines()
            if line.strip().startswith("output:")
            for path in line.split("output:", 1)[1].split(",")]


def copy_run(source: Path, dest: Path, leave_out: Sequence[str] = ()) -> None:
    """A finished run's results (but the ``leave_out`` folders of results/, which its jobs will
    make again) and Snakemake's records of them, so that ``dest`` is as up to date as
    ``source``. Outputs are hard links (a re-run job replaces its files, never edits them); logs
    and benchmark files are copies, as a re-run job writes into its old ones."""
    results = source / "results"

    def link_or_copy(src: str, dst: str) -> None:
        written_in_place = Path(src).relative_to(results).parts[0] in {"logs", "benchmarks"}
        (shutil.copy2 if written_in_place else os.link)(src, dst)

    def left_out(folder: str, names: list[str]) -> list[str]:
        return [name for name in names if Path(folder) == results and name in leave_out]

    shutil.copytree(results, dest / "results", copy_function=link_or_copy, ignore=left_out)
    shutil.copytree(source / ".snakemake", dest / ".snakemake",
                    ignore=shutil.ignore_patterns("locks", "log"))
