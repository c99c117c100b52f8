"""The methods the all-methods tiny run leaves out, run for real on the tiny slice: MORLHF
(GRPO per preference), RiC with its online stage, and the two linear-key ablation chains
(paretohqd's chain with another selection mode). Their outputs are checked against what the
package computes from the run's own inputs (tests/pipeline_checks.py)."""

import json

import pandas as pd
import pytest

from paretohqd.config import preference_id
from paretohqd.io import read_json
from paretohqd.methods.ric import rejection_sample, replay_rows
from pipeline_checks import (
    VARIANT_MODES,
    check_evaluated_models,
    check_front,
    check_retraining,
    check_selections,
    run_config,
    stage2_steps,
)
from workflow_runner import ROOT, TINY, copy_run, job_counts, snakemake

MORE = ROOT / "tests/configs/more_methods.yaml"
SEED = 42  # the tiny slice's one training seed


@pytest.fixture(scope="module")
def methods_run(offline_stage, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("more_methods")
    copy_run(offline_stage, workdir)
    result = snakemake("--cores", "2", "--configfile", str(TINY), str(MORE), workdir=workdir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    counts = job_counts(result.stderr)
    assert counts["train_morlhf"] == 1 and counts["sft_ric_online"] == 1
    assert counts["sft_stage2"] == 2  # both linear chains, one preference each
    return workdir


@pytest.fixture(scope="module")
def config():
    return run_config(TINY, MORE)


@pytest.mark.e2e
@pytest.mark.parametrize("variant", ["paretohqd_linear", "paretohqd_linear_all"])
def test_linear_chains_select_and_train_as_configured(methods_run, config, variant, tmp_path):
    """Both stages of each linear-key chain select what select_rows chooses in that chain's
    mode, and stage 2 continues that chain's own stage-1 adapter."""
    assert VARIANT_MODES[variant] in {"linear", "linear_pool"}
    check_selections(methods_run, config, variant)
    pref = preference_id(config["preferences"][0])
    check_retraining(methods_run, config, f"{variant}/seed{SEED}/{pref}/stage2/adapter",
                     f"{variant}/seed{SEED}/{pref}/stage2/data.parquet",
                     f"{variant}/seed{SEED}/{pref}/stage1/adapter", stage2_steps(config), SEED,
                     tmp_path)


@pytest.mark.e2e
def test_ric_online_stage_keeps_the_rejection_sample_and_continues_the_offline_model(
        methods_run, config, tmp_path):
    """The online rows are the seeded replay of offline rows that pass the rejection sampling,
    then the online answers above the quantile of any objective, each conditioned on its own
    rewards; the online adapter is the offline RiC adapter trained further on them at the
    online learning rate and schedule; RiC is evaluated with the online adapter."""
    results = methods_run / "results"
    ric = config["baselines"]["ric"]
    objectives = [o["name"] for o in config["objectives"]]
    pool = pd.read_parquet(results / f"ric/seed{SEED}/online/responses/pool.parquet")
    for objective in objectives:
        scores = pd.read_parquet(
            results / f"ric/seed{SEED}/online/scores/{objective}/pool.parquet")
        pool[objective] = pool["row_id"].map(scores.set_index("row_id")["score"])
    kept = rejection_sample(pool, objectives, ric["online_quantile"])
    assert 0 < len(kept) < len(pool)  # the rejection sample keeps some, not all
    replay = replay_rows(pd.read_parquet(results / "offline/scored.parquet"),
                         pd.read_parquet(results / "ric/data.parquet"), objectives,
                         ric["online_quantile"], ric["online_replay"], SEED)
    assert len(replay) == ric["online_replay"]
    online = pd.read_parquet(results / f"ric/seed{SEED}/online/data.parquet")
    assert online["response"].tolist() == [*replay["response"], *kept["response"]]
    assert online["prompt"].str.contains(r" <harmless> -?\d+\.\d <helpful> -?\d+\.\d$").all()
    check_retraining(methods_run, config, f"ric/seed{SEED}/online/adapter",
                     f"ric/seed{SEED}/online/data.parquet", f"ric/seed{SEED}/adapter",
                     ric["online_steps"], SEED, tmp_path,
                     learning_rate=ric["online_learning_rate"],
                     lr_scheduler=ric["online_schedule"])
    check_evaluated_models(methods_run, config, {"ric": "ric/seed{seed}/online/adapter"})


@pytest.mark.e2e
def test_morlhf_trains_one_grpo_run_per_preference_with_its_weights(methods_run, config):
    """One GRPO run per preference, each for the configured steps, logging its preference's
    reward weights; each preference is evaluated with its own adapter."""
    results = methods_run / "results"
    for weights in config["preferences"]:
        pref = preference_id(weights)
        metrics = read_json(results / f"morlhf/seed{SEED}/{pref}/adapter/train_metrics.json")
        assert metrics["steps"] == config["baselines"]["morlhf"]["steps"]
        log = (results / f"logs/train_morlhf/seed{SEED}/{pref}.log").read_text()
        assert f"reward_weights {json.dumps(weights)}" in log
    check_evaluated_models(methods_run, config, {"morlhf": "morlhf/seed{seed}/{pref}/adapter"})


@pytest.mark.e2e
def test_summary_of_the_extra_methods_is_their_evaluation_files(methods_run, config):
    check_evaluated_models(methods_run, config, {
        "base": None, "paretohqd_linear": "paretohqd_linear/seed{seed}/{pref}/stage2/adapter",
        "paretohqd_linear_all": "paretohqd_linear_all/seed{seed}/{pref}/stage2/adapter"})
    check_front(methods_run, config, {})
    front = pd.read_csv(methods_run / "results/summary/front.csv")
    assert set(front["method"]) == {"base", *config["methods"]}


@pytest.mark.e2e
def test_compute_counts_grpo_and_the_online_stage(methods_run, config):
    """MORLHF's GRPO run: its generated sequences trained on and its reward models' tokens
    counted; RiC with its online stage: two models, and the online answers it generated and
    scored."""
    table = pd.read_csv(methods_run / "results/summary/compute.csv").set_index("name")
    morlhf = table.loc["morlhf"]
    pref = preference_id(config["preferences"][0])
    metrics = read_json(methods_run / f"results/morlhf/seed{SEED}/{pref}/adapter/"
                        "train_metrics.json")
    assert morlhf["train_tokens"] == metrics["train_tokens"] > 0
    assert morlhf["scored_tokens"] > 0 and morlhf["flops"] > 0
    ric = table.loc["ric"]
    assert ric["models"] == 2 and ric["generated_tokens"] > 0 and ric["scored_tokens"] > 0
