"""Re-run guarantees: after a real run of a tiny slice, a config change re-runs only the jobs
it affects (read from the dry run's job table and reasons), and a held-out prompt set added
to the finished run runs only its own jobs."""

import json
import zipfile

import pandas as pd
import pytest
import yaml

from paretohqd.config import objective_names
from paretohqd.data.heldout import normalise
from paretohqd.io import read_provenance
from pipeline_checks import csv_rounding, run_config
from workflow_runner import ROOT, TINY, copy_run, job_counts, planned_outputs, snakemake

RERUN = ROOT / "tests/configs/rerun.yaml"
HELDOUT = ROOT / "tests/configs/heldout.yaml"
PREFS = [[0.0, 1.0], [0.25, 0.75], [0.5, 0.5]]
# one preference's chain: stage 1 and 2, its evaluation (answers and scores), the summary, the
# compute table and the model index (which lists every preference's adapters)
ONE_CHAIN = {"select_stage1": 1, "sft_stage1": 1, "select_stage2": 1, "sft_stage2": 1,
             "generate_eval": 1, "summary": 1, "compute": 1, "selection_diagnostics": 1,
             "model_index": 1, "hub": 1, "answers": 1, "all": 1}
OFFLINE_RULES = {"prompts", "base_model", "reward_model", "generate_offline", "scored_offline"}
# a second training seed: both stages' training and the stage-2 pool (2 generators) per
# preference, evaluation of the base model and of each preference, and the model index; the
# stage-1 selections are shared
NEW_SEED = {"sft_stage1": 3, "generate_stage2": 2, "scored_stage2": 1, "select_stage2": 3,
            "sft_stage2": 3, "generate_eval": 4, "summary": 1, "compute": 1,
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
    # no extreme's nor the balanced vector's nearest preference: not a stage-2 generator
    counts, out = dry_run(first_run, tmp_path, {"preferences": [*PREFS, [0.1, 0.9]]})
    assert counts == ONE_CHAIN
    assert "results/paretohqd/seed42/p010_090/stage2/adapter" in planned_outputs(out)


@pytest.mark.e2e
def test_changing_k_reruns_selection_and_downstream_only(first_run, tmp_path):
    counts, out = dry_run(first_run, tmp_path, {"selection": {"k": 3}})
    assert counts["select_stage1"] == counts["sft_stage1"] == 3
    assert counts["generate_stage2"] == 2 and counts["sft_stage2"] == 3
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
    assert counts == {"generate_eval": 4, "summary": 1, "compute": 1, "selection_diagnostics": 1,
                      "hub": 1, "answers": 1, "all": 1}


@pytest.mark.e2e
def test_adding_a_seed_runs_only_that_seeds_jobs(first_run, tmp_path):
    counts, out = dry_run(first_run, tmp_path, {"seeds": [42, 43]})
    assert counts == NEW_SEED
    outputs = planned_outputs(out)
    assert "results/paretohqd/seed43/p025_075/stage1/adapter" in outputs
    assert not [o for o in outputs if "seed42" in o]


@pytest.mark.e2e
def test_a_held_out_set_is_answered_by_every_model_and_graded_in_the_test_frame(first_run,
                                                                                tmp_path):
    """A held-out set added to a finished run: only its prompts, answers, summaries, the
    compute table and the hub folders (their cards quote the command) run. Every evaluated
    model answers it (prompts that no run prompt duplicates) with its own adapter and seed, as
    it answers the test prompts; the set's front rows are the means of its score files; its
    hypervolumes are in the test set's frame, each drop is the test hypervolume minus the
    held-out one, under both gradings; the report shows the set. On the re-run slice (the base
    model and ParetoHqD's three preferences): the held-out rule is generate_eval's, which the
    all-methods tiny run checks for every method's adapters."""
    workdir = tmp_path / "run"
    copy_run(first_run, workdir)
    args = ["--cores", "2", "--configfile", str(TINY), str(RERUN), str(HELDOUT)]
    planned = snakemake(*args, "-n", workdir=workdir)
    assert planned.returncode == 0, planned.stdout[-3000:] + planned.stderr[-3000:]
    models = len(pd.read_csv(first_run / "results/summary/front.csv"))
    assert job_counts(planned.stdout) == {"heldout_prompts": 1, "generate_heldout": models,
                                          "heldout_summary": 1, "heldout_drops": 1,
                                          "compute": 1, "hub": 1, "all": 1}
    result = snakemake(*args, workdir=workdir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    results = workdir / "results"
    config = run_config(TINY, RERUN, HELDOUT)
    objectives = objective_names(config)
    heldout = pd.read_parquet(results / "data/heldout/harmbench.parquet")
    assert len(heldout) == 3 and (heldout["split"] == "heldout").all()
    run_prompts = set(pd.read_parquet(results / "data/prompts.parquet")["prompt"].map(normalise))
    assert not set(heldout["prompt"].map(normalise)) & run_prompts
    removed = pd.read_csv(results / "data/heldout/harmbench_removed.csv")
    assert list(removed.columns) == ["prompt", "category", "matched", "reason"]
    test_metrics = json.loads((results / "summary/metrics.json").read_text())
    metrics = json.loads((results / "summary/heldout/harmbench/metrics.json").read_text())
    assert metrics["normalisation"] == test_metrics["normalisation"]
    assert metrics["judged"]["normalisation"] == test_metrics["judged"]["normalisation"]
    assert metrics["bootstrap"]["prompts"] == 3 and metrics["set"] == "harmbench"
    front = pd.read_csv(results / "summary/heldout/harmbench/front.csv")
    assert len(front) == len(pd.read_csv(results / "summary/front.csv"))
    for row in front.itertuples(index=False):
        base = results / f"heldout/harmbench/{row.method}/seed{config['seed']}"
        answers = pd.read_parquet(base / f"responses/{row.pref_id}.parquet")
        assert sorted(answers["prompt_id"]) == sorted(heldout["prompt_id"])
        tested = results / f"eval/{row.method}/seed{config['seed']}/responses/{row.pref_id}.parquet"
        assert read_provenance(base / f"responses/{row.pref_id}.parquet") == read_provenance(tested)
        for objective in objectives:
            scores = pd.read_parquet(base / f"scores/{objective}/{row.pref_id}.parquet")
            assert getattr(row, objective) == pytest.approx(scores["score"].mean(), rel=1e-5)
    drops = pd.read_csv(results / "summary/heldout/harmbench/drops.csv")
    assert set(drops["grading"]) == {"reward models", "judges"}
    assert len(drops) == 2 * len(test_metrics["methods"])
    for row in drops.itertuples(index=False):
        test, held = ((m["methods"] if row.grading == "reward models"
                       else m["judged"]["methods"]) for m in (test_metrics, metrics))
        # the CSV keeps 6 significant digits: each number within its own rounding of the
        # unrounded hypervolumes of metrics.json, the drop their exact difference
        test_hv, held_hv = test[row.method]["hypervolume"], held[row.method]["hypervolume"]
        assert row.hv_test == pytest.approx(test_hv, rel=0, abs=csv_rounding(test_hv))
        assert row.hv_heldout == pytest.approx(held_hv, rel=0, abs=csv_rounding(held_hv))
        assert row.drop == pytest.approx(test_hv - held_hv, rel=0,
                                         abs=csv_rounding(test_hv - held_hv))
        assert row.drop_ci_low <= row.drop_ci_high
    table = (results / "summary/heldout/drops.md").read_text()
    assert "| harmbench | judges | paretohqd |" in table
    assert "| hypervolume [95%] |" in (results / "summary/heldout/harmbench/comparison.md"
                                      ).read_text()
    compute = pd.read_csv(results / "summary/compute.csv").set_index("name")
    assert compute.loc["held-out sets", "wall_s"] > 0
    report = snakemake("--report", "report.zip", *args[2:], workdir=workdir)
    assert report.returncode == 0, report.stderr[-2000:]
    with zipfile.ZipFile(workdir / "report.zip") as archive:
        files = [name.rsplit("/", 1)[-1] for name in archive.namelist()]
        page = archive.read("report/report.html").decode()
    assert "Held-out prompts" in page and "drops.html" in files
    assert files.count("front.png") == files.count("comparison.html") == 2
