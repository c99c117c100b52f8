"""Re-run guarantees: after a real run of a tiny slice, a config change re-runs only the jobs
it affects (read from the dry run's job table and reasons)."""

import pytest
import yaml

from workflow_runner import ROOT, TINY, copy_run, job_counts, planned_outputs, snakemake

RERUN = ROOT / "tests/configs/rerun.yaml"
PREFS = [[0.0, 1.0], [0.25, 0.75], [0.5, 0.5], [1.0, 0.0]]
# one preference's chain: stage 1 and 2, its evaluation (answers and scores), the summary, the
# compute table and the model index (which lists every preference's adapters)
ONE_CHAIN = {"select_stage1": 1, "sft_stage1": 1, "select_stage2": 1, "sft_stage2": 1,
             "generate_eval": 1, "summary": 1, "compute": 1, "selection_diagnostics": 1,
             "model_index": 1, "hub": 1, "answers": 1, "all": 1}
OFFLINE_RULES = {"prompts", "base_model", "reward_model", "generate_offline", "scored_offline"}
# a second training seed: both stages' training and the stage-2 pool (3 representatives) per
# preference, evaluation of the base model and of each preference, and the model index; the
# stage-1 selections are shared
NEW_SEED = {"sft_stage1": 4, "generate_stage2": 3, "scored_stage2": 1, "select_stage2": 4,
            "sft_stage2": 4, "generate_eval": 5, "summary": 1, "compute": 1,
            "selection_diagnostics": 1, "model_index": 1, "hub": 1, "all": 1}


@pytest.fixture(scope="module")
def first_run(offline_stage, tmp_path_factory):
    """The re-run slice, run from a copy of the session's offline stage."""
    workdir = tmp_path_factory.mktemp("rerun")
    copy_run(offline_stage, workdir)
    result = snakemake("--cores", "2", "--configfile", str(TINY), str(RERUN), workdir=workdir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return workdir


def dry_run(workdir, tmp_path, change: dict) -> tuple[dict[str, int], str]:
    """Job counts and output of a dry run with ``change`` overlaid on the first run's config."""
    overlay = tmp_path / "change.yaml"
    overlay.write_text(yaml.safe_dump(change))
    result = snakemake("-n", "--cores", "2", "--configfile", str(TINY), str(RERUN),
                       str(overlay), workdir=workdir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return job_counts(result.stdout), result.stdout


@pytest.mark.e2e
def test_nothing_to_do_after_the_first_run(first_run):
    result = snakemake("-n", "--configfile", str(TINY), str(RERUN), workdir=first_run)
    assert "Nothing to be done" in result.stdout + result.stderr


@pytest.mark.e2e
def test_changing_one_preference_reruns_only_its_chain(first_run, tmp_path):
    counts, out = dry_run(first_run, tmp_path, {"preferences": [PREFS[0], [0.3, 0.7], *PREFS[2:]]})
    assert counts == ONE_CHAIN
    outputs = planned_outputs(out)
    assert "results/paretohqd/p030_070/stage1/data.parquet" in outputs
    assert not [o for o in outputs if "p025_075" in o]


@pytest.mark.e2e
def test_adding_a_preference_runs_only_its_chain(first_run, tmp_path):
    counts, out = dry_run(first_run, tmp_path, {"preferences": [*PREFS, [0.75, 0.25]]})
    assert counts == ONE_CHAIN
    assert "results/paretohqd/seed42/p075_025/stage2/adapter" in planned_outputs(out)


@pytest.mark.e2e
def test_changing_k_reruns_selection_and_downstream_only(first_run, tmp_path):
    counts, out = dry_run(first_run, tmp_path, {"selection": {"k": 3}})
    assert counts["select_stage1"] == counts["sft_stage1"] == 4
    assert counts["generate_stage2"] == 3 and counts["sft_stage2"] == 4
    assert not OFFLINE_RULES & set(counts)
    assert not [o for o in planned_outputs(out) if o.startswith("results/offline/")]


@pytest.mark.e2e
def test_changing_one_reward_model_rescores_only_its_objective(first_run, tmp_path):
    objectives = yaml.safe_load((ROOT / "config/config.yaml").read_text())["objectives"]
    objectives[0]["train_recipe"] = "pyrit_helpful"  # retrain `harmless` on another recipe
    counts, out = dry_run(first_run, tmp_path, {"objectives": objectives})
    outputs = planned_outputs(out)
    assert "results/reward_models/harmless/model" in outputs
    assert "results/offline/scores/harmless/shard0.parquet" in outputs
    assert not [o for o in outputs if o.startswith(("results/reward_models/helpful",
                                                    "results/offline/scores/helpful"))]
    assert counts["reward_model"] == 1 and not {"generate_offline", "prompts"} & set(counts)


@pytest.mark.e2e
def test_changing_evaluation_reruns_only_evaluation_and_summary(first_run, tmp_path):
    counts, _ = dry_run(first_run, tmp_path, {"evaluation": {"max_new_tokens": 6}})
    # base once, paretohqd per preference
    assert counts == {"generate_eval": 5, "summary": 1, "compute": 1, "selection_diagnostics": 1,
                      "hub": 1, "answers": 1, "all": 1}


@pytest.mark.e2e
def test_adding_a_seed_runs_only_that_seeds_jobs(first_run, tmp_path):
    counts, out = dry_run(first_run, tmp_path, {"seeds": [42, 43]})
    assert counts == NEW_SEED
    outputs = planned_outputs(out)
    assert "results/paretohqd/seed43/p025_075/stage1/adapter" in outputs
    assert not [o for o in outputs if "seed42" in o]
