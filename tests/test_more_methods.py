"""The methods the all-methods tiny run leaves out, run for real on the tiny slice: MORLHF
(GRPO per preference), RiC with its online stage, and the two linear-key ablation chains
(paretohqd's chain with another selection mode). Their outputs are checked against what the
package computes from the run's own inputs (tests/pipeline_checks.py)."""


import pandas as pd
import pytest

from paretohqd.config import objective_names, preference_id
from paretohqd.evaluation.recipe_plan import ric_plan
from paretohqd.io import file_digest, read_json, read_provenance
from paretohqd.methods.ric.config import round_seed
from paretohqd.methods.ric.online import rejection_sample, replay_rows
from pipeline_checks import (
    VARIANT_MODES,
    answers_asked,
    check_evaluated_models,
    check_front,
    check_modpo_retraining,
    check_retraining,
    check_reward_pairing,
    check_selections,
    run_config,
    stage2_steps,
    train_prompt_count,
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
    assert counts["train_morlhf"] == 1 and counts["sft_ric_online"] == 2  # two online rounds
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
def test_ric_online_rounds_keep_the_rejection_sample_and_continue_the_last_model(
        methods_run, config, tmp_path):
    """Round r's rows are a replay of offline rows that pass the rejection sampling (seeded
    with round r's seed), then the answers of rounds 1..r above the quantile of any objective
    within their round, each conditioned on its own rewards; round 1 continues the offline RiC
    adapter, round 2 round 1's, at the online learning rate and schedule; each round samples
    with its own seed from the model it continues; RiC is evaluated with the last round's
    adapter."""
    results = methods_run / "results"
    ric = config["baselines"]["ric"]
    assert ric["online_rounds"] == 2
    objectives = [o["name"] for o in config["objectives"]]
    offline = pd.read_parquet(results / "offline/scored.parquet")
    ric_rows = pd.read_parquet(results / "ric/data.parquet")
    kept = []
    pools = []
    for r in (1, 2):
        folder = results / f"ric/seed{SEED}/online/round{r}"
        pool = pd.read_parquet(folder / "responses/pool.parquet")
        for objective in objectives:
            scores = pd.read_parquet(folder / f"scores/{objective}/pool.parquet")
            pool[objective] = pool["row_id"].map(scores.set_index("row_id")["score"])
        pools.append(pool)
        kept.append(rejection_sample(pool, objectives, ric["online_quantile"]))
        assert 0 < len(kept[-1]) < len(pool)  # the rejection sample keeps some, not all
        replay = replay_rows(offline, ric_rows, objectives, ric["online_quantile"],
                             ric["online_replay"], round_seed(SEED, r))
        assert len(replay) == ric["online_replay"]
        online = pd.read_parquet(folder / "data.parquet")
        assert online["response"].tolist() == [
            *replay["response"], *(row for k in kept for row in k["response"])]
        assert online["prompt"].str.contains(
            r" <harmless> -?\d+\.\d <helpful> -?\d+\.\d$").all()
        (tmp_path / f"round{r}").mkdir()
        start = f"ric/seed{SEED}/adapter" if r == 1 else f"ric/seed{SEED}/online/round1/adapter"
        check_retraining(methods_run, config, f"ric/seed{SEED}/online/round{r}/adapter",
                         f"ric/seed{SEED}/online/round{r}/data.parquet", start,
                         ric["online_steps"], SEED, tmp_path / f"round{r}",
                         learning_rate=ric["online_learning_rate"],
                         lr_scheduler=ric["online_schedule"])
    assert set(pools[0]["row_id"]).isdisjoint(pools[1]["row_id"])
    # each round sampled with its own seed, from the model it continues
    starts = {1: f"ric/seed{SEED}/adapter", 2: f"ric/seed{SEED}/online/round1/adapter"}
    for r, start in starts.items():
        written = read_provenance(
            results / f"ric/seed{SEED}/online/round{r}/responses/pool.parquet")
        assert written["seed"] == round_seed(SEED, r) and (r == 1) == (written["seed"] == SEED)
        assert written["adapter_sha256"] == file_digest(
            results / start / "adapter_model.safetensors")
    check_evaluated_models(methods_run, config,
                           {"ric": "ric/seed{seed}/online/round2/adapter"})


@pytest.mark.e2e
def test_morlhf_trains_one_grpo_run_per_preference_with_its_weights(methods_run, config):
    """One GRPO run per preference, each for the configured steps, whose trainer weighed each
    objective's reward by that objective's weight; each preference is evaluated with its own
    adapter."""
    results = methods_run / "results"
    for weights in config["preferences"]:
        pref = preference_id(weights)
        metrics = read_json(results / f"morlhf/seed{SEED}/{pref}/adapter/train_metrics.json")
        assert metrics["steps"] == config["baselines"]["morlhf"]["steps"]
        assert len(set(weights)) == len(weights)  # unequal: a swapped pairing shows
        check_reward_pairing(results / f"morlhf/seed{SEED}/{pref}/adapter",
                             dict(zip(objective_names(config), weights)))
    check_evaluated_models(methods_run, config, {"morlhf": "morlhf/seed{seed}/{pref}/adapter"})


@pytest.mark.e2e
def test_modpo_trains_each_preference_with_its_own_weights(methods_run, config, tmp_path):
    """MODPO retrained here for the preference (unequal weights: the main objective ranks the
    pairs, the other's weighted difference is the margin) equals the workflow's adapter."""
    pref = preference_id(config["preferences"][0])
    check_modpo_retraining(methods_run, config, pref, SEED, tmp_path)
    check_evaluated_models(methods_run, config, {"modpo": "modpo/seed{seed}/{pref}/adapter"})


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
    counted; RiC with two online rounds: three models, and the online answers it generated
    and scored, as its recipe plan counts them."""
    table = pd.read_csv(methods_run / "results/summary/compute.csv").set_index("name")
    morlhf = table.loc["morlhf"]
    pref = preference_id(config["preferences"][0])
    metrics = read_json(methods_run / f"results/morlhf/seed{SEED}/{pref}/adapter/"
                        "train_metrics.json")
    assert morlhf["train_tokens"] == metrics["train_tokens"] > 0
    assert morlhf["scored_tokens"] > 0 and morlhf["flops"] > 0
    ric = table.loc["ric"]
    assert ric["models"] == 3 and ric["generated_tokens"] > 0 and ric["scored_tokens"] > 0
    plan = ric_plan(config, train_prompt_count(methods_run))
    assert (plan.models, plan.sequences) == (ric["models"], ric["sequences"])
    assert plan.answers == answers_asked(methods_run, f"generate_ric_online/seed{SEED}", 1)
