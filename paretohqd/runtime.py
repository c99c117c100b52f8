"""What every workflow script does first: log to its rule's log file and size torch's threads."""

from __future__ import annotations

import logging
import sys
from typing import Any


def start(snakemake: Any) -> logging.Logger:
    """Send stdout, stderr and logging to ``snakemake.log[0]``; use the rule's threads."""
    if snakemake.log:
        stream = open(snakemake.log[0], "w", buffering=1, encoding="utf-8")  # noqa: SIM115
        sys.stdout = sys.stderr = stream
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    if snakemake.threads:
        import torch

        torch.set_num_threads(int(snakemake.threads))
    logger = logging.getLogger(f"paretohqd.{snakemake.rule}")
    logger.info("rule %s, wildcards %s", snakemake.rule, dict(snakemake.wildcards))
    return logger
