"""Read Snakemake ``benchmark:`` files: per-job wall time and memory, summed per rule, the
split of each job into fixed cost and work (from the phase lines of its log) and what it
counted (the count lines: tokens, parameters, steps)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import pandas as pd


def benchmark_seconds(paths: Sequence[str | Path]) -> float:
    """Total wall-clock seconds (column ``s``) of Snakemake benchmark files."""
    return float(sum(pd.read_csv(p, sep="\t")["s"].sum() for p in paths))


def rule_times(root: str | Path) -> pd.DataFrame:
    """One row per rule under ``root`` (``results/benchmarks``; the first folder level is the
    rule): job count, total and median wall seconds, peak resident memory in MB."""
    records = []
    for path in sorted(Path(root).rglob("*.tsv")):
        frame = pd.read_csv(path, sep="\t")
        records.append({"rule": path.relative_to(root).parts[0], "s": frame["s"].sum(),
                        "max_rss": frame["max_rss"].max()})
    if not records:
        return pd.DataFrame(columns=["rule", "jobs", "total_s", "median_s", "max_rss_mb"])
    jobs = pd.DataFrame(records)
    return (jobs.groupby("rule", sort=False)
            .agg(jobs=("s", "size"), total_s=("s", "sum"), median_s=("s", "median"),
                 max_rss_mb=("max_rss", "max"))
            .reset_index())


PHASE_LINE = re.compile(r"phase (\w+): ([0-9.]+) s")
COUNT_LINE = re.compile(r"count (\w+): ([0-9.eE+]+)$", re.MULTILINE)


def _summed(pairs: list[tuple[str, str]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, value in pairs:
        out[name] = out.get(name, 0.0) + float(value)
    return out


def log_phases(log: str | Path) -> dict[str, float]:
    """The ``phase <name>: <seconds> s`` lines of one job log (paretohqd.runtime), summed by
    name."""
    return _summed(PHASE_LINE.findall(Path(log).read_text(errors="replace")))


def log_counts(log: str | Path) -> dict[str, float]:
    """The ``count <name>: <value>`` lines of one job log (paretohqd.runtime), summed by name."""
    return _summed(COUNT_LINE.findall(Path(log).read_text(errors="replace")))


def job_log(benchmark: str | Path) -> Path:
    """The log of the job whose benchmark file is ``benchmark``: ``<results>/logs/<rule>/<job>.log``
    beside ``<results>/benchmarks/<rule>/<job>.tsv``, or ``logs/<rule>.log`` for single-job
    rules. A FileNotFoundError names both places when neither exists."""
    benchmark = Path(benchmark)
    parts = benchmark.parts
    if "benchmarks" not in parts:
        raise ValueError(f"{benchmark} is not under a benchmarks/ folder")
    at = len(parts) - 1 - parts[::-1].index("benchmarks")
    logs = Path(*parts[:at], "logs")
    job = Path(*parts[at + 1:]).with_suffix(".log")
    for candidate in (logs / job, logs / f"{job.parts[0]}.log"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"no log for {benchmark}: neither {logs / job} nor "
                            f"{logs / (job.parts[0] + '.log')} exists")


def job_costs(benchmarks: str | Path, logs: str | Path) -> pd.DataFrame:
    """One row per benchmarked job: its wall seconds split into ``startup`` (interpreter and
    imports up to the script's first line of work), ``work`` (generating, scoring, training:
    what scales with the data) and ``fixed`` (everything but work: start-up, model and
    tokenizer loads, saving). A job's log is ``logs/<rule>/<job>.log`` beside
    ``benchmarks/<rule>/<job>.tsv`` (or ``logs/<rule>.log`` for single-job rules)."""
    benchmarks, logs = Path(benchmarks), Path(logs)
    records = []
    for path in sorted(benchmarks.rglob("*.tsv")):
        job = path.relative_to(benchmarks).with_suffix("")
        rule = job.parts[0]
        log = logs / job.with_suffix(".log")
        phases = log_phases(log if log.is_file() else logs / f"{rule}.log")
        wall = float(pd.read_csv(path, sep="\t")["s"].sum())
        work = phases.get("work", 0.0)
        records.append({"rule": rule, "job": str(job), "wall_s": wall,
                        "startup_s": phases.get("startup", float("nan")), "work_s": work,
                        "fixed_s": wall - work})
    return pd.DataFrame(records, columns=["rule", "job", "wall_s", "startup_s", "work_s",
                                          "fixed_s"])


ELAPSED_LINE = re.compile(r"^Elapsed time: (?:(\d+) days?, )?(\d+):(\d+):([0-9.]+)$", re.MULTILINE)


def elapsed_seconds(snakemake_log: str | Path) -> float | None:
    """The wall seconds a Snakemake invocation reports on its log's last ``Elapsed time`` line
    (``.snakemake/log/*.snakemake.log``), or None when it has none (an unfinished run)."""
    found = ELAPSED_LINE.findall(Path(snakemake_log).read_text())
    if not found:
        return None
    days, hours, minutes, seconds = found[-1]
    return ((int(days or 0) * 24 + int(hours)) * 60 + int(minutes)) * 60 + float(seconds)


STEPS_LINE = re.compile(r"^(\d+) of (\d+) steps \(100%\) done$", re.MULTILINE)


def main_invocation(snakemake_logs: Sequence[str | Path]) -> Path | None:
    """Of a run's Snakemake logs, the finished invocation that ran the most jobs (the newest
    of equals): the one whose ``Elapsed time`` is the run's wall time; None if none finished."""
    best, best_jobs = None, -1
    for log in sorted(map(Path, snakemake_logs)):
        text = log.read_text()
        done = STEPS_LINE.findall(text)
        if done and ELAPSED_LINE.search(text) and int(done[-1][1]) >= best_jobs:
            best, best_jobs = log, int(done[-1][1])
    return best


def run_floor(jobs: pd.DataFrame, cores: int) -> dict[str, float]:
    """What a run's jobs (``job_costs``) imply on ``cores`` cores, each job holding one: the
    floor of its wall time if the jobs filled every core all the time (their summed wall time
    over the cores), split into the floor of the work alone and of the fixed costs."""
    if cores < 1:
        raise ValueError(f"cores must be at least 1, got {cores}")
    total = jobs[["wall_s", "work_s", "fixed_s"]].sum()
    return {"floor_s": total.wall_s / cores, "work_floor_s": total.work_s / cores,
            "fixed_floor_s": total.fixed_s / cores}
