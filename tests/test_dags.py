"""The workflow's plan without running it: lint, formatting, the dry run of every config and
what each plans (jobs per rule, GPU requests, per-seed jobs), and the errors that stop a bad
config before any job. Apart from tests/test_workflow.py (the tiny run's module), so that the
other pytest worker takes these while that one makes the tiny run."""

import shutil
import subprocess

import pytest
import yaml

from workflow_runner import ROOT, gpus_asked, job_counts, snakemake


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
        ("config/reddit_tldr.yaml", 2, 16),
    ],
)
def test_dry_run_builds_the_full_dag_offline(tmp_path, configfile, objectives, shards):
    result = snakemake("-n", "--configfile", str(ROOT / configfile), workdir=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    counts = job_counts(result.stdout)
    assert counts["generate_offline"] == shards
    n_prefs = {"config/hh_rlhf_3obj.yaml": 13, "config/config.yaml": 5}.get(configfile, 11)
    n_reps = objectives + 1
    evaluated = 1 + n_prefs  # base + the final model per preference (stage 1 is opt-in)
    assert counts["score"] == objectives * shards  # offline: one job per objective
    assert "score_all" not in counts  # stage-2 and evaluation answers: scored where written
    assert counts["generate_eval"] == evaluated
    for rule in ("select_stage1", "sft_stage1", "select_stage2", "sft_stage2"):
        assert counts[rule] == n_prefs
    assert counts["generate_stage2"] == n_reps
    assert counts["scored_offline"] == counts["scored_stage2"] == counts["summary"] == 1
    assert counts["hub"] == counts["answers"] == 1
    paper_scale = configfile != "config/config.yaml"
    assert ("base_model" in counts) != paper_scale  # hub models load directly
    assert ("reward_model" in counts) != paper_scale
    assert ("reward_models_page" in counts) != paper_scale  # the report's page of them


def test_bad_preference_fails_before_any_job(tmp_path):
    overlay = tmp_path / "bad.yaml"
    overlay.write_text("preferences:\n  - [0.5, 0.6]\n")
    result = snakemake("-n", "--configfile", str(overlay), workdir=tmp_path)
    assert result.returncode != 0
    assert "preferences[0] = [0.5, 0.6]: entries sum to 1.1" in result.stdout + result.stderr


def test_unknown_method_fails_naming_the_registered_ones(tmp_path):
    overlay = tmp_path / "bad.yaml"
    overlay.write_text("methods: [paretohqd, paretohqd_stage2, dpo]\n")
    result = snakemake("-n", "--configfile", str(overlay), workdir=tmp_path)
    assert result.returncode != 0
    assert ("methods: unknown method(s) ['paretohqd_stage2', 'dpo']; registered: ['modpo', "
            "'morlhf', 'paretohqd', 'paretohqd_fulldata', 'paretohqd_linear', "
            "'paretohqd_linear_all', 'paretohqd_stage1', 'rewarded_soups', 'ric', 'sft']") in result.stdout + result.stderr



def test_compare_config_dag_has_every_method(tmp_path):
    result = snakemake("-n", "--configfile", str(ROOT / "config/compare.yaml"), workdir=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    counts = job_counts(result.stdout)
    n_prefs = 5
    # base, sft (one model each) + paretohqd_stage1, paretohqd, _linear, _linear_all,
    # _fulldata, rewarded_soups, ric, modpo and morlhf per preference
    assert counts["generate_eval"] == 2 + 9 * n_prefs
    assert counts["sft_ric"] == counts["ric_data"] == 1
    assert counts["generate_ric_online"] == counts["sft_ric_online"] == 1
    assert counts["train_modpo"] == counts["train_morlhf"] == n_prefs
    assert counts["sft_objective"] == 2 and counts["soup"] == n_prefs
    assert counts["sft_full"] == 1
    assert counts["sft_stage1"] == 3 * n_prefs  # fulldata's stage 1 is the SFT model
    assert counts["sft_stage2"] == counts["select_stage2"] == 4 * n_prefs
    assert counts["generate_stage2"] == 3 + 3 + 3 + 1  # M+1 representatives thrice, one shared
    assert counts["scored_stage2"] == 4


def test_own_recipe_config_dag_runs_the_papers_preferences_and_rics_two_rounds(tmp_path):
    """config/own_recipe.yaml: ParetoHqD's two stages at the paper's 11 preferences, RiC's
    offline model and its two online rounds, each round's jobs once."""
    result = snakemake("-n", "--configfile", str(ROOT / "config/own_recipe.yaml"),
                       workdir=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    counts = job_counts(result.stdout)
    assert counts["sft_stage1"] == counts["sft_stage2"] == 11
    assert counts["generate_eval"] == 1 + 11 + 11  # base, ParetoHqD and RiC per preference
    assert counts["sft_ric"] == 1
    assert counts["generate_ric_online"] == counts["ric_online_data"] == 2
    assert counts["sft_ric_online"] == 2


def test_multiseed_config_dag_trains_every_preference_once_per_seed(tmp_path):
    """config/multiseed.yaml: 11 preferences x 3 training seeds for ParetoHqD (both stages)
    and MODPO, the shared offline stage and judges once, every model evaluated per seed (the
    base model too)."""
    result = snakemake("-n", "--configfile", str(ROOT / "config/multiseed.yaml"),
                       workdir=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    counts = job_counts(result.stdout)
    assert counts["sft_stage1"] == counts["sft_stage2"] == counts["train_modpo"] == 33
    assert counts["generate_eval"] == 3 * (1 + 2 * 11)
    assert counts["reward_model"] == counts["judge_model"] == 2 and counts["judge_offline"] == 1
    assert counts["select_stage1"] == 11  # the offline selection is shared by the seeds


# rules that load a model onto the device: they ask for the `gpu` resource with `device: cuda`
DEVICE_RULES = {"reward_model", "judge_model", "judge_offline", "score", "generate_offline",
                "generate_stage2", "generate_eval", "generate_heldout", "generate_ric_online",
                "sft_stage1", "sft_stage2", "sft_full", "sft_objective", "sft_ric",
                "sft_ric_online", "train_modpo", "train_morlhf"}
# the LoRA SFT rules, which `accelerate.num_processes` runs on that many GPUs
SFT_RULES = {"sft_stage1", "sft_stage2", "sft_full", "sft_objective", "sft_ric", "sft_ric_online"}


@pytest.mark.parametrize("device, processes", [("cpu", 1), ("cpu", 2), ("cuda", 1), ("cuda", 2)])
def test_device_rules_ask_for_gpus_only_on_cuda(tmp_path, device, processes):
    """As docs/USAGE.md's "On a GPU workstation" promises: with `device: cuda` every rule that loads a
    model on the device asks for one `gpu` (the SFT rules for `accelerate.num_processes`), so
    `--resources gpu=N` queues them; on the CPU no job asks for one. (Snakemake caps a job's
    request at the available amount: the default profile offers one GPU, so ask for four.)"""
    overlay = tmp_path / "device.yaml"
    overlay.write_text(yaml.safe_dump({"device": device,
                                       "accelerate": {"num_processes": processes}}))
    result = snakemake("-n", "--resources", "gpu=4", "--configfile",
                       str(ROOT / "config/compare.yaml"), str(overlay), workdir=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    asked = gpus_asked(result.stdout)
    assert DEVICE_RULES <= set(asked)
    gpus = 0 if device == "cpu" else 1
    assert asked == {rule: {gpus * processes if rule in SFT_RULES else gpus}
                     if rule in DEVICE_RULES else {0} for rule in asked}


# rules that train, generate with a trained model or evaluate: one job per seed
PER_SEED_RULES = {"generate_eval", "generate_heldout", "sft_full", "train_modpo",
                  "train_morlhf", "generate_stage2", "sft_objective", "sft_ric", "sft_stage1",
                  "generate_ric_online", "scored_stage2", "soup", "ric_online_data",
                  "select_stage2", "sft_ric_online", "sft_stage2"}


def test_two_seeds_double_exactly_the_per_seed_jobs(tmp_path):
    """Every method with seeds [1, 2]: training, the stage-2 pools, RiC's online stage and
    evaluation run twice; prompts, offline data, reward models and every selection that needs
    no trained model run once."""
    overlay = tmp_path / "seeds.yaml"
    overlay.write_text("seeds: [1, 2]\n")
    compare = str(ROOT / "config/compare.yaml")
    one = snakemake("-n", "--configfile", compare, workdir=tmp_path)
    two = snakemake("-n", "--configfile", compare, str(overlay), workdir=tmp_path)
    assert one.returncode == two.returncode == 0, one.stderr + two.stderr
    one, two = job_counts(one.stdout), job_counts(two.stdout)
    assert set(one) == set(two) and PER_SEED_RULES < set(one)
    assert {rule: two[rule] / one[rule] for rule in one} == {
        rule: 2 if rule in PER_SEED_RULES else 1 for rule in one}
    assert {"select_stage1", "select_objective", "ric_data", "score"} <= set(one) - PER_SEED_RULES
