"""The workflow itself: lint, formatting, dry runs of every config, a real run on a tiny slice."""

import json
import shutil
import subprocess

import pandas as pd
import pytest

from workflow_runner import ROOT, TINY, job_counts, snakemake


def test_lint_is_clean():
    result = snakemake("--lint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Lints for" not in result.stdout + result.stderr


def test_snakefmt_is_clean():
    snakefmt = shutil.which("snakefmt") or str(ROOT / ".venv/bin/snakefmt")
    result = subprocess.run([snakefmt, "--check", "Snakefile", "rules"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "configfile, objectives, shards",
    [
        ("config/config.yaml", 2, 2),
        ("config/hh_rlhf.yaml", 2, 16),
        ("config/hh_rlhf_3obj.yaml", 3, 16),
        ("config/summary.yaml", 2, 16),
    ],
)
def test_dry_run_builds_the_full_dag_offline(tmp_path, configfile, objectives, shards):
    result = snakemake("-n", "--configfile", str(ROOT / configfile), workdir=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    counts = job_counts(result.stdout)
    assert counts["generate_offline"] == shards
    assert counts["score"] == objectives * shards
    assert counts["scored_offline"] == 1
    paper_scale = configfile != "config/config.yaml"
    assert ("base_model" in counts) != paper_scale  # hub models load directly
    assert ("reward_model" in counts) != paper_scale


def test_bad_preference_fails_before_any_job(tmp_path):
    overlay = tmp_path / "bad.yaml"
    overlay.write_text("preferences:\n  - [0.5, 0.6]\n")
    result = snakemake("-n", "--configfile", str(overlay), workdir=tmp_path)
    assert result.returncode != 0
    assert "preferences[0] = [0.5, 0.6]: entries sum to 1.1" in result.stdout + result.stderr


@pytest.mark.e2e
def test_tiny_slice_end_to_end_up_to_scored_table(tmp_path):
    result = snakemake("--cores", "2", "--configfile", str(TINY), workdir=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    results = tmp_path / "results"

    prompts = pd.read_parquet(results / "data/prompts.parquet")
    assert prompts["split"].value_counts().to_dict() == {"train": 4, "test": 2}

    table = pd.read_parquet(results / "offline/scored.parquet")
    assert list(table.columns) == ["row_id", "prompt_id", "prompt", "response", "source",
                                   "harmless", "helpful"]
    assert table["row_id"].is_unique
    assert set(table["prompt_id"]) == set(prompts.loc[prompts.split == "train", "prompt_id"])
    assert (table["source"] == "base-model").sum() == 4  # one sample per train prompt
    expected_human = prompts.loc[prompts.split == "train", "references"].map(len).sum()
    assert (table["source"] == "human").sum() == expected_human
    assert table[["harmless", "helpful"]].notna().all().all()
    assert (table["response"].str.strip() != "").all()

    stats = json.loads((results / "offline/stats.json").read_text())
    assert stats["rows"] == len(table)
    for objective in ("harmless", "helpful"):
        metrics = json.loads((results / f"reward_models/{objective}/metrics.json").read_text())
        assert 0.0 <= metrics["roc_auc"] <= 1.0 and metrics["n_test"] > 50
        assert (results / f"reward_models/{objective}/model/config.json").is_file()
    assert (results / "models/base/model.safetensors").is_file()
    assert (results / "benchmarks/generate_offline/shard0.tsv").is_file()

    again = snakemake("-n", "--cores", "2", "--configfile", str(TINY), workdir=tmp_path)
    assert "Nothing to be done" in again.stdout + again.stderr
