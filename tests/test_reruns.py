"""Re-run guarantees: after a real run of a tiny slice, a config change re-runs only the jobs
it affects (read from the dry run's job table and reasons), and a held-out prompt set added
to the finished run runs only its own jobs."""

import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml

from paretohqd.config import objective_names, preference_id, preference_text
from paretohqd.similarity import normalise
from paretohqd.io import file_digest, read_provenance
from pipeline_checks import (
    check_compute,
    check_evaluated_models,
    check_front,
    check_heldout,
    check_selections,
    check_served,
    run_config,
)
from workflow_runner import ROOT, TINY, copy_run, job_counts, planned_outputs, snakemake

RERUN = ROOT / "tests/configs/rerun.yaml"
HELDOUT = ROOT / "tests/configs/heldout.yaml"
PREFS = [[0.0, 1.0], [0.25, 0.75], [0.5, 0.5]]
# one preference's chain: stage 1 and 2, its evaluation (answers and scores), the summary and
# the report's landing page, the compute table and the model index (which lists every
# preference's adapters)
ONE_CHAIN = {"select_stage1": 1, "sft_stage1": 1, "select_stage2": 1, "sft_stage2": 1,
             "generate_eval": 1, "summary": 1, "landing": 1, "compute": 1,
             "selection_diagnostics": 1, "model_index": 1, "hub": 1, "answers": 1, "all": 1}
OFFLINE_RULES = {"prompts", "base_model", "reward_model", "generate_offline", "scored_offline"}
# a second training seed: both stages' training and the stage-2 pool (2 generators) per
# preference, evaluation of the base model and of each preference, and the model index; the
# stage-1 selections are shared
NEW_SEED = {"sft_stage1": 3, "generate_stage2": 2, "scored_stage2": 1, "select_stage2": 3,
            "sft_stage2": 3, "generate_eval": 4, "summary": 1, "landing": 1, "compute": 1,
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
    assert counts == {"generate_eval": 4, "summary": 1, "landing": 1, "compute": 1,
                      "selection_diagnostics": 1, "hub": 1, "answers": 1, "all": 1}


@pytest.mark.e2e
def test_adding_a_seed_runs_only_that_seeds_jobs(first_run, tmp_path):
    counts, out = dry_run(first_run, tmp_path, {"seeds": [42, 43]})
    assert counts == NEW_SEED
    outputs = planned_outputs(out)
    assert "results/paretohqd/seed43/p025_075/stage1/adapter" in outputs
    assert not [o for o in outputs if "seed42" in o]


@pytest.fixture(scope="module")
def heldout_run(first_run, tmp_path_factory):
    """The re-run slice with a held-out set added (a copy of the first run): the folder, and
    the jobs its dry run planned."""
    workdir = tmp_path_factory.mktemp("heldout")
    copy_run(first_run, workdir)
    args = ["--cores", "2", "--configfile", str(TINY), str(RERUN), str(HELDOUT)]
    planned = snakemake(*args, "-n", workdir=workdir)
    assert planned.returncode == 0, planned.stdout[-3000:] + planned.stderr[-3000:]
    result = snakemake(*args, workdir=workdir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return workdir, job_counts(planned.stdout)


@pytest.mark.e2e
def test_a_held_out_set_is_answered_by_every_model_and_graded_in_the_test_frame(first_run,
                                                                                heldout_run):
    """A held-out set added to a finished run: only its prompts, answers, summaries, the
    compute table and the hub folders (their cards quote the command) run. Every evaluated
    model answers it (prompts that no run prompt duplicates) with its own adapter and seed, as
    it answers the test prompts; the set's front rows are the means of its score files; its
    hypervolumes are in the test set's frame, each drop is the test hypervolume minus the
    held-out one, under both gradings; the report shows the set. On the re-run slice (the base
    model and ParetoHqD's three preferences): the held-out rule is generate_eval's, which the
    all-methods tiny run checks for every method's adapters."""
    workdir, planned = heldout_run
    models = len(pd.read_csv(first_run / "results/summary/front.csv"))
    assert planned == {"heldout_prompts": 1, "generate_heldout": models, "heldout_summary": 1,
                       "heldout_drops": 1, "compute": 1, "hub": 1, "all": 1}
    results = workdir / "results"
    config = run_config(TINY, RERUN, HELDOUT)
    heldout = pd.read_parquet(results / "data/heldout/harmbench.parquet")
    assert len(heldout) == 3 and (heldout["split"] == "heldout").all()
    run_prompts = set(pd.read_parquet(results / "data/prompts.parquet")["prompt"].map(normalise))
    assert not set(heldout["prompt"].map(normalise)) & run_prompts
    removed = pd.read_csv(results / "data/heldout/harmbench_removed.csv")
    assert list(removed.columns) == ["prompt", "category", "matched", "reason"]
    metrics = json.loads((results / "summary/heldout/harmbench/metrics.json").read_text())
    assert metrics["bootstrap"]["prompts"] == 3 and metrics["set"] == "harmbench"
    front = pd.read_csv(results / "summary/heldout/harmbench/front.csv")
    for row in front.itertuples(index=False):
        base = results / f"heldout/harmbench/{row.method}/seed{config['seed']}"
        answers = pd.read_parquet(base / f"responses/{row.pref_id}.parquet")
        assert sorted(answers["prompt_id"]) == sorted(heldout["prompt_id"])
        tested = results / f"eval/{row.method}/seed{config['seed']}/responses/{row.pref_id}.parquet"
        assert read_provenance(base / f"responses/{row.pref_id}.parquet") == read_provenance(tested)
    check_heldout(workdir, config, "harmbench")
    table = (results / "summary/heldout/drops.md").read_text()
    assert "| harmbench | judges | paretohqd |" in table
    assert "| hypervolume [95%] |" in (results / "summary/heldout/harmbench/comparison.md"
                                      ).read_text()
    compute = pd.read_csv(results / "summary/compute.csv").set_index("name")
    assert compute.loc["held-out sets", "wall_s"] > 0
    check_report(workdir, TINY, RERUN, HELDOUT)


def check_report(workdir: Path, *configfiles: Path) -> None:
    """The run's report builds and shows the held-out set beside the test front."""
    report = snakemake("--report", "report.zip", "--configfile", *map(str, configfiles),
                       workdir=workdir)
    assert report.returncode == 0, report.stderr[-2000:]
    with zipfile.ZipFile(workdir / "report.zip") as archive:
        files = [name.rsplit("/", 1)[-1] for name in archive.namelist()]
        page = archive.read("report/report.html").decode()
    assert "Held-out prompts" in page and "drops.html" in files
    assert files.count("front.png") == files.count("comparison.html") == 2


# Two real re-runs on a copy of the held-out run (preferences (0, 1), (0.25, 0.75), (0.5, 0.5);
# stage-2 generators (0.5, 0.5) for harmless and balanced, (0, 1) for helpful). First
# (0.25, 0.75) changes to (0.3, 0.7) and (0.1, 0.9) is added, neither a generator: the two new
# chains (both stages, test and held-out answers) and what lists every preference run. Then
# (0.3, 0.7) is removed and the generator (0.5, 0.5) changes to (0.6, 0.4): that generator's
# stage-2 pool is new, so every preference's stage 2 re-runs, and (0.6, 0.4)'s stage 1.
CHANGED = [[0.0, 1.0], [0.3, 0.7], [0.5, 0.5], [0.1, 0.9]]
GENERATOR_CHANGED = [[0.0, 1.0], [0.6, 0.4], [0.1, 0.9]]
# every job that lists every preference: the summaries, the report's landing page, the compute
# and selection tables, the model index, the hub folders, the answers page, the held-out set's
# summary and drops
LISTS_EVERY_PREFERENCE = {"summary": 1, "landing": 1, "compute": 1, "selection_diagnostics": 1,
                          "model_index": 1, "hub": 1, "answers": 1, "heldout_summary": 1,
                          "heldout_drops": 1, "all": 1}


def rerun(workdir: Path, tmp_path: Path, preferences: list[list[float]]
          ) -> tuple[dict, dict[str, int], list[str]]:
    """Run the re-run slice with a held-out set at ``preferences``; the run's config, the jobs
    that ran and their outputs; nothing is left to do after it."""
    overlay = tmp_path / f"preferences{len(list(tmp_path.glob('preferences*')))}.yaml"
    overlay.write_text(yaml.safe_dump({"preferences": preferences}))
    configfiles = [str(TINY), str(RERUN), str(HELDOUT), str(overlay)]
    result = snakemake("--cores", "2", "--configfile", *configfiles, workdir=workdir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    again = snakemake("-n", "--configfile", *configfiles, workdir=workdir)
    assert "Nothing to be done" in again.stdout + again.stderr
    return (run_config(TINY, RERUN, HELDOUT, overlay), job_counts(result.stderr),
            planned_outputs(result.stderr))


def check_rerun_outputs(workdir: Path, config: dict) -> None:
    """Every output that lists preferences holds exactly the configured ones, each computed
    from its own files."""
    stage2 = "paretohqd/seed{seed}/{pref}/stage2/adapter"
    front = pd.read_csv(workdir / "results/summary/front.csv")
    assert sorted(zip(front["method"], front["pref_id"])) == sorted(
        [("base", "none")] + [("paretohqd", preference_id(w)) for w in config["preferences"]])
    check_evaluated_models(workdir, config, {"base": None, "paretohqd": stage2})
    check_front(workdir, config, {})
    check_selections(workdir, config, "paretohqd")
    check_served(workdir, config, {"paretohqd": stage2})
    check_heldout(workdir, config, "harmbench")
    check_compute(workdir, config)
    answers = (workdir / "results/summary/answers.html").read_text()
    assert all(preference_text(dict(zip(objective_names(config), w))) in answers
               for w in config["preferences"])


def trained(workdir: Path, pref: str) -> dict[str, str]:
    """The digests of one preference's adapters and test answers."""
    results = workdir / "results"
    files = [f"paretohqd/seed42/{pref}/stage1/adapter/adapter_model.safetensors",
             f"paretohqd/seed42/{pref}/stage2/adapter/adapter_model.safetensors",
             f"eval/paretohqd/seed42/responses/{pref}.parquet"]
    return {name: file_digest(results / name) for name in files}


@pytest.mark.e2e
def test_changing_adding_and_removing_preferences_reruns_only_their_jobs(heldout_run, tmp_path):
    workdir = tmp_path / "run"
    copy_run(heldout_run[0], workdir)
    kept = {pref: trained(workdir, pref) for pref in ("p000_100", "p050_050")}

    config, ran, outputs = rerun(workdir, tmp_path, CHANGED)
    chains = {"select_stage1": 2, "sft_stage1": 2, "select_stage2": 2, "sft_stage2": 2,
              "generate_eval": 2, "generate_heldout": 2}
    assert ran == {**chains, **LISTS_EVERY_PREFERENCE}
    new = {"p030_070", "p010_090"}
    assert {path.split("/")[3] for path in outputs
            if path.startswith("results/paretohqd/seed42/")} == new
    assert {Path(path).stem for path in outputs if "/responses/" in path} == new
    assert {pref: trained(workdir, pref) for pref in kept} == kept  # not made again
    check_rerun_outputs(workdir, config)

    config, ran, outputs = rerun(workdir, tmp_path, GENERATOR_CHANGED)
    # (0.6, 0.4)'s stage 1, its pool (the other generator's is kept), and every stage 2
    assert ran == {"select_stage1": 1, "sft_stage1": 1, "generate_stage2": 1,
                   "scored_stage2": 1, "select_stage2": 3, "sft_stage2": 3,
                   "generate_eval": 3, "generate_heldout": 3, **LISTS_EVERY_PREFERENCE}
    assert [path for path in outputs if "generate_stage2" not in path
            and "/stage2_pool/" in path and "p000_100" in path] == []
    assert trained(workdir, "p000_100")[
        "paretohqd/seed42/p000_100/stage1/adapter/adapter_model.safetensors"] == kept[
        "p000_100"]["paretohqd/seed42/p000_100/stage1/adapter/adapter_model.safetensors"]
    check_rerun_outputs(workdir, config)
    check_report(workdir, TINY, RERUN, HELDOUT, tmp_path / "preferences1.yaml")
