"""The paper configs end to end, on stand-in weights under the real hub names, offline.

config/hh_rlhf_3obj.yaml and reddit_tldr.yaml each run through every rule to the summary with
``HF_HUB_OFFLINE=1``, reading a Hugging Face cache that tests/hub_standins.py fills with small
random models of the real classes (a Llama policy with Llama-2's tokenizer layout, GPT-2, BART,
RoBERTa and DeBERTa-v3 reward models) and with small copies of hh-rlhf and
summarize_from_feedback in their real formats. The loading code is the code a cluster run
uses; only the cache's content is small. config/hh_rlhf.yaml is hh_rlhf_3obj.yaml less its
humour objective, with other preferences and pool factor: its models, prompts and AdvBench set
run in the 3-objective run, and its own DAG is the dry run of
tests/test_dags.py::test_dry_run_builds_the_full_dag_offline. The runs are sized down on
the command line (tests/configs/paper_sizes.yaml, and the preferences cut to the middle one of
the config's own list: the paper's 11 or 13 would only repeat the same rules, and each
repetition costs a minute of the suite; held-out sets cut to two prompts); nothing else is
changed.
Marker ``paper``: ``make test PYTEST_ARGS='-m "not paper"'`` leaves them out.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from hub_standins import build_cache
from pipeline_checks import (
    check_evaluated_models,
    check_front,
    check_judges,
    check_selections,
    run_config,
)
from workflow_runner import ROOT, snakemake

pytestmark = [pytest.mark.e2e, pytest.mark.paper]

SIZES = ROOT / "tests/configs/paper_sizes.yaml"
# the configs run end to end (config/hh_rlhf.yaml's parts run in hh_rlhf_3obj's: docstring)
PAPER_CONFIGS = ["hh_rlhf_3obj", "reddit_tldr"]


def hub_needs(config: dict) -> tuple[set[str], set[str]]:
    """The hub models, and the hub prompt source and held-out datasets, a config names."""
    evaluation = config.get("evaluation", {})
    models = {config["base_model"]["source"]}
    models |= {objective["model"] for objective in config["objectives"]}
    models |= {judge["model"] for judge in evaluation.get("judges", {}).get("models", {}).values()}
    heldout = {spec["dataset"] for spec in evaluation.get("heldout_sets", [])
               if spec["source"] == "hub"}
    return models, {config["prompts"]["source"]} | heldout


@pytest.fixture(scope="module")
def hub_env(tmp_path_factory) -> dict[str, str]:
    """One stand-in cache with what the paper configs run here name."""
    models, sources = set(), set()
    for name in PAPER_CONFIGS:
        config_models, config_sources = hub_needs(
            yaml.safe_load((ROOT / f"config/{name}.yaml").read_text()))
        models |= config_models
        sources |= config_sources
    return build_cache(tmp_path_factory.mktemp("hf"), models, sources)


@pytest.fixture(scope="module", params=PAPER_CONFIGS)
def paper_run(request, hub_env, tmp_path_factory) -> tuple[dict, Path]:
    """A paper config run to its summary in a fresh folder; returns (the run's config with the
    schema's defaults, results)."""
    name = request.param
    config = yaml.safe_load((ROOT / f"config/{name}.yaml").read_text())
    workdir = tmp_path_factory.mktemp(name)
    # one of the config's own preferences
    preferences = config["preferences"][len(config["preferences"]) // 2:][:1]
    config["preferences"] = preferences
    # and two prompts of each held-out set
    heldout = [{**spec, "max_prompts": 2} for spec in config["evaluation"]["heldout_sets"]]
    config["evaluation"]["heldout_sets"] = heldout
    chosen = workdir / "preference.yaml"
    chosen.write_text(yaml.safe_dump({"preferences": preferences,
                                      "evaluation": {"heldout_sets": heldout}}))
    with pytest.MonkeyPatch.context() as env:
        for key, value in hub_env.items():
            env.setenv(key, value)
        result = snakemake("--configfile", str(ROOT / f"config/{name}.yaml"), str(SIZES),
                           str(chosen), "--cores", "2", workdir=workdir, timeout=1200)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    return run_config(ROOT / f"config/{name}.yaml", SIZES, chosen), workdir / "results"


def test_prompts_come_from_the_hub_dataset_in_its_format(paper_run):
    config, results = paper_run
    prompts = pd.read_parquet(results / "data/prompts.parquet")
    assert set(prompts["split"]) >= {"train", "test"}
    if config["prompts"]["source"] == "hh_rlhf":
        # raw transcripts cut at the last assistant turn, as the Llama-2 base model reads them
        assert prompts["prompt"].str.startswith("\n\nHuman:").all()
        assert prompts["prompt"].str.endswith("Assistant:").all()
        assert prompts["prompt"].str.count("\n\nHuman:").max() >= 1  # multi-turn kept whole
        assert set(prompts["category"]) == {"hh-rlhf"}
    else:
        posts = prompts["prompt"].str.split("\n\n", n=1).str[1]
        assert posts.str.len().between(100, 1200).all()  # the loader's filter held
        assert set(prompts["category"]) == {"tldr"}
    train = prompts[prompts["split"] == "train"]
    assert (train["references"].map(len) > 0).all()  # human responses to score offline
    assert (prompts.loc[prompts["split"] == "test", "references"].map(len) == 0).all()


def test_offline_data_is_the_references_scored_by_every_hub_reward_model(paper_run):
    config, results = paper_run
    scored = pd.read_parquet(results / "offline/scored.parquet")
    names = [objective["name"] for objective in config["objectives"]]
    assert len(scored) > 0 and set(scored["source"]) == {"human"}
    values = scored[names].to_numpy()
    assert np.isfinite(values).all()
    # random heads still tell responses apart: a constant column would mean a broken input
    assert (values.std(axis=0) > 0).all()
    assert not (results / "reward_models").exists()  # hub scorers are used, never trained


def test_llama_adapters_are_trained_for_every_preference(paper_run):
    config, results = paper_run
    adapters = sorted(results.glob("paretohqd/seed*/*/stage2/adapter/adapter_config.json"))
    assert len(adapters) == len(config["preferences"])  # one per preference of the run
    for path in adapters:
        adapter = json.loads(path.read_text())
        assert adapter["base_model_name_or_path"] == config["base_model"]["source"]
        assert adapter["peft_type"] == "LORA" and adapter["r"] == 4


def test_summary_grades_every_preference_with_reward_models_and_judges(paper_run):
    config, results = paper_run
    names = [objective["name"] for objective in config["objectives"]]
    front = pd.read_csv(results / "summary/front.csv")
    judged = pd.read_csv(results / "summary/front_judged.csv")
    for table in (front, judged):
        assert set(table["method"]) == {"base", "paretohqd"}
        assert np.isfinite(table[names].to_numpy()).all()
    assert len(front[front["method"] == "paretohqd"]) == len(config["preferences"])
    # the judge is another model than the reward model: its grades differ
    judge = next(iter(config["evaluation"]["judges"]["models"]))
    assert not np.allclose(front[judge], judged[judge])
    metrics = json.loads((results / "summary/metrics.json").read_text())
    assert 0 <= metrics["methods"]["paretohqd"]["hypervolume"] <= 1


def test_the_checks_that_guard_the_tiny_run_hold_on_the_paper_run(paper_run, hub_env, tmp_path):
    """Recomputed from the run's inputs and config: both stages' selections, every answer
    table's adapter, the front, its frame and hypervolumes, the judges' grading, and the score
    tables against a re-scoring by each objective's hub model (in a process of its own that
    reads the stand-in cache: Hugging Face's libraries read its place when imported)."""
    config, results = paper_run
    run = results.parent
    check_selections(run, config, "paretohqd")
    check_evaluated_models(run, config, {"base": None,
                                         "paretohqd": "paretohqd/seed{seed}/{pref}/stage2/adapter"})
    check_front(run, config, {})
    check_judges(run, config)
    (tmp_path / "config.json").write_text(json.dumps(config))
    rescore = subprocess.run(
        [sys.executable, "-c", "import json, sys; from pathlib import Path; "
         "from pipeline_checks import check_scores_rescored; "
         "check_scores_rescored(Path(sys.argv[1]), json.loads(Path(sys.argv[2]).read_text()), "
         "sample=4)", str(run), str(tmp_path / "config.json")],
        cwd=ROOT, env={**os.environ, **hub_env, "PYTHONPATH": str(ROOT / "tests")},
        capture_output=True, text=True, timeout=600)
    errors = [line for line in rescore.stderr.splitlines() if "%|" not in line]  # no bars
    assert rescore.returncode == 0, "\n".join(errors[-40:])


def test_the_hh_configs_answer_advbench_as_a_held_out_set(paper_run):
    """AdvBench from the hub, written as a one-turn hh-rlhf transcript, answered by every model
    and graded in the test frame; the TL;DR config's empty list replaces the default's set."""
    config, results = paper_run
    if not config["evaluation"]["heldout_sets"]:
        assert not (results / "heldout").exists() and not (results / "summary/heldout").exists()
        return
    prompts = pd.read_parquet(results / "data/heldout/advbench.parquet")
    assert len(prompts) == 2
    assert prompts["prompt"].str.startswith("\n\nHuman: ").all()
    assert prompts["prompt"].str.endswith("\n\nAssistant:").all()
    assert not set(prompts["prompt"]) & set(pd.read_parquet(results / "data/prompts.parquet")[
        "prompt"])
    tested = json.loads((results / "summary/metrics.json").read_text())
    drops = pd.read_csv(results / "summary/heldout/drops.csv")
    assert set(drops["set"]) == {"advbench"}
    assert set(drops["method"]) == set(tested["methods"]) >= {"base", "paretohqd"}
    metrics = json.loads((results / "summary/heldout/advbench/metrics.json").read_text())
    assert metrics["normalisation"] == tested["normalisation"]
