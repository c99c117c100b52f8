"""What every workflow script does first: log to its rule's log file and size torch's threads;
and the job's accounting lines: phase timings (``phase <name>: <seconds> s``) and counts
(``count <name>: <value>``, e.g. tokens trained), which bench/job_costs.py and the summary's
compute table read (paretohqd.evaluation.costs)."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from typing import Any, Iterator

import psutil

PHASE_PREFIX = "phase "
COUNT_PREFIX = "count "


def start(snakemake: Any) -> logging.Logger:
    """Send stdout, stderr and logging to ``snakemake.log[0]``; use the rule's threads; log how
    long the process took to get here (interpreter start and imports: the ``startup`` phase)."""
    if snakemake.log:
        stream = open(snakemake.log[0], "w", buffering=1, encoding="utf-8")  # noqa: SIM115
        sys.stdout = sys.stderr = stream
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    if snakemake.threads:
        use_threads(int(snakemake.threads))
    logger = logging.getLogger(f"paretohqd.{snakemake.rule}")
    logger.info("rule %s, wildcards %s, threads %s", snakemake.rule, dict(snakemake.wildcards),
                snakemake.threads)
    log_phase(logger, "startup", time.time() - psutil.Process().create_time())
    return logger


def use_threads(threads: int) -> None:
    """Size torch's thread pool to ``threads`` without importing torch: a script that has not
    imported it (selection, tables, summaries) would spend seconds of its job doing so, and one
    that imports it later starts with ``OMP_NUM_THREADS`` threads."""
    os.environ["OMP_NUM_THREADS"] = str(threads)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)


def log_phase(logger: logging.Logger, name: str, seconds: float) -> None:
    """One ``phase <name>: <seconds> s`` line, the format bench/job_costs.py parses."""
    logger.info("%s%s: %.3f s", PHASE_PREFIX, name, seconds)


def log_count(logger: logging.Logger, name: str, value: float) -> None:
    """One ``count <name>: <value>`` line (tokens, parameters, steps); a job's lines of one
    name add up."""
    logger.info("%s%s: %s", COUNT_PREFIX, name, f"{value:.6g}" if isinstance(value, float)
                else int(value))


@contextlib.contextmanager
def phase(logger: logging.Logger, name: str) -> Iterator[None]:
    """Time the block and log it as a phase (``load``: fixed cost; ``work``: what scales with
    the data)."""
    started = time.perf_counter()
    yield
    log_phase(logger, name, time.perf_counter() - started)
