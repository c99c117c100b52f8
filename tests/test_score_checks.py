"""The end-to-end runs' check of score tables (pipeline_checks.check_scores_rescored) on a
hand-built run scored by write_scores with a real tiny classifier and VADER: it passes as the
workflow writes the tables and fails when a table holds another objective's scores or was
scored by another model."""

import logging
import shutil

import pandas as pd
import pytest
import torch
import yaml
from transformers import BertForSequenceClassification

from paretohqd.io import read_provenance, write_table
from paretohqd.rewards.scoring import write_scores
from pipeline_checks import check_scores_rescored, run_config, run_scorers

PREFS = ("p000_100", "p100_000")


@pytest.fixture()
def scored_run(tiny_classifier, tmp_path):
    """A run with harmless scored by its trained model (the tiny classifier) and helpful by
    VADER, no judges; one method's answers at two preferences, each scored as generate_eval
    does."""
    shutil.copytree(tiny_classifier, tmp_path / "results/reward_models/harmless/model")
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(yaml.safe_dump({
        "objectives": [{"name": "harmless", "scorer": "classifier", "train_recipe": "pyrit_harm"},
                       {"name": "helpful", "scorer": "vader"}],
        "evaluation": {"judges": {"enabled": False}}}))
    config = run_config(overlay)
    specs = run_scorers(tmp_path, config)["scores"]
    eval_dir = tmp_path / "results/eval/m/seed42"
    for i, pref in enumerate(PREFS):
        rows = pd.DataFrame({"row_id": [f"q{j}-{pref}" for j in range(3)],
                             "prompt_id": ["q0", "q1", "q2"],
                             "prompt": ["hello there", "how are you", "tell me a story"],
                             "response": ["a wonderful day to you", "awful, thanks" * (i + 1),
                                          "once upon a time it was sad"],
                             "source": "eval"})
        write_table(rows, eval_dir / f"responses/{pref}.parquet")
        write_scores(rows, specs, [str(eval_dir / f"scores/{o}/{pref}.parquet") for o in specs],
                     torch.device("cpu"), config["scoring"]["max_length"], batch_size=2,
                     log=logging.getLogger())
    return tmp_path, config


def test_the_check_passes_on_tables_as_the_workflow_writes_them(scored_run):
    check_scores_rescored(*scored_run, sample=4)


def test_the_check_fails_on_tables_swapped_between_objectives(scored_run):
    run, config = scored_run
    scores = run / "results/eval/m/seed42/scores"
    harmless, helpful = scores / "harmless/p100_000.parquet", scores / "helpful/p100_000.parquet"
    harmless.rename(run / "swap.parquet")
    helpful.rename(harmless)
    (run / "swap.parquet").rename(helpful)
    with pytest.raises(AssertionError, match="p100_000.parquet"):
        check_scores_rescored(run, config, sample=4)


def test_the_check_fails_on_another_objectives_scores_under_the_right_metadata(scored_run):
    """helpful's table holding harmless's scores, though it records helpful's scorer (a
    pairing broken after the metadata was chosen): the re-scored sample tells them apart."""
    run, config = scored_run
    scores = run / "results/eval/m/seed42/scores"
    for pref in PREFS:
        helpful = scores / f"helpful/{pref}.parquet"
        write_table(pd.read_parquet(scores / f"harmless/{pref}.parquet"), helpful,
                    provenance=read_provenance(helpful))
    with pytest.raises(AssertionError, match="scores of helpful"):
        check_scores_rescored(run, config, sample=6)


def test_the_check_fails_on_tables_scored_by_another_model(scored_run, tiny_classifier):
    """harmless's answers scored by another classifier (the tiny one with another head bias),
    as if the rule had handed the objective another objective's model: its weights' digest
    in the tables is not that of results/reward_models/harmless/model."""
    run, config = scored_run
    other = run / "other_model"
    shutil.copytree(tiny_classifier, other)
    model = BertForSequenceClassification.from_pretrained(other)
    with torch.no_grad():
        model.classifier.bias += 1.0
    model.save_pretrained(other)
    spec = {**run_scorers(run, config)["scores"]["harmless"], "model": str(other)}
    eval_dir = run / "results/eval/m/seed42"
    rows = pd.read_parquet(eval_dir / "responses/p100_000.parquet")
    write_scores(rows, {"harmless": spec}, [str(eval_dir / "scores/harmless/p100_000.parquet")],
                 torch.device("cpu"), config["scoring"]["max_length"], batch_size=2,
                 log=logging.getLogger())
    with pytest.raises(AssertionError, match="harmless/p100_000.parquet"):
        check_scores_rescored(run, config, sample=4)
