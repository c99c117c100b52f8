"""Read Snakemake ``benchmark:`` files: per-job wall time and memory, summed per rule."""

from __future__ import annotations

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
