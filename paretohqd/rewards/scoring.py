"""Score a responses table with one or several objectives' reward scorers and write one
``row_id, score`` table per objective, with its scorer in the table's metadata: the one
implementation behind the offline `score` rule, the judges and the generation rules that score
their own answers."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Sequence

import pandas as pd
import torch

from paretohqd.assets import local_model_folder
from paretohqd.io import file_digest, write_table
from paretohqd.rewards.scorers import Scorer, build_scorer, check_finite
from paretohqd.runtime import log_count, phase


def write_scores(rows: pd.DataFrame, scorers: dict[str, dict], outputs: Sequence[str],
                 device: torch.device, max_length: int, batch_size: int,
                 log: logging.Logger) -> None:
    """Score ``rows`` (row_id, prompt, response) with each of ``scorers`` (objective -> scorer
    spec) and write each objective's scores to the output that names it (``output_paths``),
    recording its scorer (``scorer_provenance``)."""
    paths = output_paths(list(scorers), outputs)
    for objective, spec in scorers.items():
        with phase(log, "load"):
            scorer = build_scorer(spec, device, max_length)
        with phase(log, "work"):
            scores = scorer.score(rows["prompt"].tolist(), rows["response"].tolist(), batch_size)
        log_scored(log, scorer)
        check_finite(scores, rows["row_id"].tolist(), objective)
        log.info("%s: %d rows scored, mean %.4f", objective, len(rows), float(scores.mean()))
        write_table(pd.DataFrame({"row_id": rows["row_id"], "score": scores}), paths[objective],
                    provenance=scorer_provenance(objective, spec))
        del scorer


def output_paths(objectives: Sequence[str], outputs: Sequence[str]) -> dict[str, str]:
    """Each objective's score table: the one of ``outputs`` whose folder, or file name without
    its suffix, is the objective (``scores/<objective>/<part>.parquet``,
    ``offline/<objective>.parquet``); an error unless each names exactly one objective."""
    named = {objective: [path for path in outputs
                         if objective in (Path(path).parent.name, Path(path).stem)]
             for objective in objectives}
    unpaired = {objective: paths for objective, paths in named.items() if len(paths) != 1}
    if unpaired or len(outputs) != len(objectives):
        raise ValueError(f"score outputs {list(outputs)} do not name each objective of "
                         f"{list(objectives)} exactly once (folder or file name)")
    return {objective: paths[0] for objective, paths in named.items()}


def scorer_provenance(objective: str, spec: dict) -> dict[str, Any]:
    """What scored an objective, for its score tables' metadata (``paretohqd.io.read_scores``
    checks it): the objective, the scorer's spec (kind, model source, logit, input format) and
    the SHA-256 of its model's weight files (none for a scorer without a model, e.g. VADER)."""
    weights = weights_sha256(spec["model"]) if spec["kind"] == "classifier" else {}
    return {"objective": objective, **spec, "weights_sha256": weights}


def weights_sha256(source: str) -> dict[str, str]:
    """The SHA-256 of each weight file (``*.safetensors``, else ``pytorch_model*.bin``) of the
    model ``source`` (a folder, ``package:`` source or loaded hub name), by file name."""
    folder = local_model_folder(source)
    files = sorted(folder.glob("*.safetensors")) or sorted(folder.glob("pytorch_model*.bin"))
    if not files:
        raise ValueError(f"model {source!r}: no weight file in {folder}")
    return {path.name: file_digest(path) for path in files}


def log_scored(log: logging.Logger, scorer: Scorer) -> None:
    """The ``count`` lines of what ``scorer`` read: tokens, and tokens times parameters (what
    its forward FLOPs are proportional to; a job's lines add up over its scorers)."""
    log_count(log, "scored_tokens", scorer.tokens)
    log_count(log, "scored_param_tokens", scorer.parameters * scorer.tokens)
