"""The SLURM profile on a real one-node SLURM cluster: sbatch submission, srun steps, squeue status.

Needs root (and apt-get where slurm-wlm/munge are missing); skips with the reason otherwise.
Select it alone with ``-m slurm``.
"""

import filecmp
import json
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from slurm_cluster import SlurmCluster, Unavailable, ensure_installed
from workflow_runner import TINY, copy_run, snakemake

pytestmark = pytest.mark.slurm

TARGET = "results/offline/scored.parquet"
# the offline stage after the prompts and the base model (copied from the local run): reward
# models, offline answers, their scores and the scored table
EXPECTED_RULES = {"reward_model": 2, "generate_offline": 1, "score": 2, "scored_offline": 1}
SUBMITTED = re.compile(r"Job \d+ has been submitted with SLURM jobid (\d+) \(log: (\S+)\)")


@pytest.fixture(scope="module")
def cluster(request, tmp_path_factory):
    cluster = SlurmCluster(tmp_path_factory.mktemp("slurm"))
    request.addfinalizer(cluster.stop)  # also when start() fails half-way
    try:
        ensure_installed()
        cluster.start()
    except Unavailable as reason:
        pytest.skip(f"no SLURM test cluster: {reason}")
    return cluster


@pytest.fixture(scope="module")
def slurm_run(cluster, offline_stage, tmp_path_factory):
    """The tiny slice up to the scored offline data, every job an sbatch job: the local offline
    stage's prompts and base model (a GGUF conversion, a minute of CPU) are copied, the rest
    is made again."""
    workdir = tmp_path_factory.mktemp("slurm_run")
    copy_run(offline_stage, workdir, leave_out=("reward_models", "offline"))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SLURM_CONF", str(cluster.conf))
        result = snakemake(
            TARGET,  # first: options such as --resources take every word after them
            "--workflow-profile", "profiles/slurm", "--configfile", str(TINY),
            # no accounting database on the test cluster: status from squeue, no account
            "--slurm-status-command", "squeue", "--slurm-no-account",
            # poll soon after submitting (the default waits 40 s), keep logs to check them
            "--slurm-init-seconds-before-status-checks", "2", "--slurm-keep-successful-logs",
            # the profile's threads and memory are for a GPU node: cap every job to half of
            # this one, so that two jobs run side by side
            "--max-threads", str(half_cpus(cluster)), "--resources",
            f"mem_mb={cluster.memory_mb // 2}", workdir=workdir, timeout=900)
    assert result.returncode == 0, (result.stdout[-3000:] + result.stderr[-5000:]
                                    + cluster.logs())
    return workdir, result.stdout + result.stderr


def half_cpus(cluster) -> int:
    return max(1, cluster.cpus // 2)


def scontrol_job(cluster, jobid: str) -> dict[str, str]:
    out = subprocess.run(["scontrol", "--oneliner", "show", "job", jobid], env=cluster.env,
                         capture_output=True, text=True, check=True).stdout
    return dict(field.split("=", 1) for field in out.split() if "=" in field)


def test_every_job_went_through_sbatch(cluster, slurm_run):
    workdir, log = slurm_run
    submitted = SUBMITTED.findall(log)
    rules = {}
    for jobid, slurm_log in submitted:
        rule = re.search(r"slurm_logs/rule_(\w+?)/", slurm_log).group(1)
        rules[rule] = rules.get(rule, 0) + 1
        assert Path(slurm_log).is_relative_to(workdir / ".snakemake/slurm_logs")
        assert Path(slurm_log).is_file()
        job = scontrol_job(cluster, jobid)  # MinJobAge=600 keeps finished jobs listed
        assert job["JobState"] == "COMPLETED" and job["ExitCode"] == "0:0", job
        assert job["Partition"] == cluster.partition
        if rule == "reward_model":  # profile: 8 threads, 16000 MB; capped
            assert job["NumCPUs"] == str(min(8, half_cpus(cluster))), job
            assert job["MinMemoryNode"] == f"{min(16000, cluster.memory_mb // 2)}M", job
        if rule == "scored_offline":  # the profile's default resources
            assert job["NumCPUs"] == "1" and job["MinMemoryNode"] == "4000M", job
    assert rules == EXPECTED_RULES, log[-3000:]


def test_outputs_are_complete(slurm_run):
    workdir, _ = slurm_run
    results = workdir / "results"
    prompts = pd.read_parquet(results / "data/prompts.parquet")
    train = prompts.loc[prompts["split"] == "train"]
    table = pd.read_parquet(results / "offline/scored.parquet")
    assert list(table.columns) == ["row_id", "prompt_id", "prompt", "response", "source",
                                   "harmless", "helpful"]
    assert table["row_id"].is_unique
    assert set(table["prompt_id"]) == set(train["prompt_id"])
    tiny = yaml.safe_load(TINY.read_text())
    assert len(train) == tiny["prompts"]["max_train"]
    assert (table["source"] == "base-model").sum() == (
        len(train) * tiny["offline"]["samples_per_prompt"])
    assert (table["source"] == "human").sum() == train["references"].map(len).sum()
    assert table[["harmless", "helpful"]].notna().all().all()
    stats = json.loads((results / "offline/stats.json").read_text())
    assert stats["rows"] == len(table)


# what the offline stage writes that later stages read, past the copied prompts and base model
REPRODUCED = ("reward_models/harmless/model/model.safetensors",
              "reward_models/helpful/model/model.safetensors",
              "offline/responses/shard0.parquet", "offline/scores/harmless/shard0.parquet",
              "offline/scores/helpful/shard0.parquet", "offline/scored.parquet",
              "offline/stats.json")


def test_the_cluster_run_reproduces_the_local_run_byte_for_byte(slurm_run, offline_stage):
    """Two independent runs of the offline stage with the same seed, one in sbatch jobs and one
    local, write the same bytes: reward-model training, sampling and scoring are deterministic
    (every later run in the suite starts from a copy of the local one)."""
    workdir, _ = slurm_run
    for path in REPRODUCED:
        assert filecmp.cmp(workdir / "results" / path, offline_stage / "results" / path,
                           shallow=False), path
