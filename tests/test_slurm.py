"""The SLURM profile on a real one-node SLURM cluster: sbatch submission, srun steps, squeue status;
retries of training jobs killed at their time limit or cancelled, resumed from their checkpoints.

Needs root (and apt-get where slurm-wlm/munge are missing); skips with the reason otherwise.
Select it alone with ``-m slurm``.
"""

import filecmp
import json
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml

from debian_packages import skip_unless_ci
from slurm_cluster import SlurmCluster, Unavailable, ensure_installed
from workflow_runner import ROOT, TINY, copy_run, snakemake, start_snakemake

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
        skip_unless_ci(f"no SLURM test cluster: {reason}")
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


def rule_of(slurm_log: str) -> str:
    """The rule of a job, from its SLURM log's path (.snakemake/slurm_logs/rule_<rule>/...)."""
    return re.search(r"slurm_logs/rule_(\w+?)/", slurm_log).group(1)


def scontrol_job(cluster, jobid: str) -> dict[str, str]:
    out = subprocess.run(["scontrol", "--oneliner", "show", "job", jobid], env=cluster.env,
                         capture_output=True, text=True, check=True).stdout
    return dict(field.split("=", 1) for field in out.split() if "=" in field)


def test_every_job_went_through_sbatch(cluster, slurm_run):
    workdir, log = slurm_run
    submitted = SUBMITTED.findall(log)
    rules = {}
    for jobid, slurm_log in submitted:
        rule = rule_of(slurm_log)
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


# Faults on a real cluster: two training jobs of the tiny config, each hit once past its first
# checkpoint. The time limit falls on the SFT baseline (`sft_full`, which needs nothing past the
# offline stage), scancel on one stage-1 model (after its quick selection job).
TRAINING = {"sft_full": ("results/sft/seed0/adapter", "results/logs/sft_full/seed0.log"),
            "sft_stage1": ("results/paretohqd/seed0/p000_100/stage1/adapter",
                           "results/logs/sft_stage1/paretohqd/seed0/p000_100.log")}
STEPS, SAVE_STEPS = 20, 2
# sft_full's first attempt gets two minutes, its retry ten; sft_stage1 keeps the profile's
# "480 * attempt". On a slow, loaded host one minute was less than start-up, load and the steps
# to the first checkpoint: the limit killed the first attempt before it saved one, and the
# retry's own checkpoint was taken for the first attempt's (the CI of 8520a45).
SFT_FULL_RUNTIME = "2 * 5 ** (attempt - 1)"


@dataclass
class Fault:
    """What the test did to a job's first attempt: its SLURM job id and the step of its last
    complete checkpoint once the job could no longer write one."""

    jobid: str
    step: int


def complete_checkpoints(folder: Path) -> list[int]:
    """The steps of the checkpoints in ``folder`` that the trainer finished saving (it writes
    trainer_state.json last), in order."""
    return sorted(int(path.name.split("-")[1]) for path in folder.glob("checkpoint-*")
                  if (path / "trainer_state.json").is_file())


def scratch(workdir: Path, output: str) -> Path:
    """A training job's checkpoint folder (rules/common.smk: ``get_checkpoint_dir``)."""
    return workdir / "scratch" / Path(output).relative_to("results")


def submissions(log: str) -> dict[str, list[str]]:
    """{rule: SLURM job ids in the order Snakemake submitted them} from its output."""
    jobs: dict[str, list[str]] = {}
    for jobid, slurm_log in SUBMITTED.findall(log):
        jobs.setdefault(rule_of(slurm_log), []).append(jobid)
    return jobs


def script_process(cluster, jobid: str, workdir: Path) -> int:
    """The pid of the job's rule script (Snakemake runs it from .snakemake/scripts/)."""
    out = subprocess.run(["scontrol", "listpids", jobid], env=cluster.env, capture_output=True,
                         text=True, check=True).stdout
    for line in out.splitlines()[1:]:
        pid = int(line.split()[0])
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except FileNotFoundError:
            continue
        if str(workdir / ".snakemake/scripts") in cmdline:
            return pid
    raise AssertionError(f"no rule script among the processes of SLURM job {jobid}:\n{out}")


def wait_until_gone(pid: int, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists():
        assert time.monotonic() < deadline, f"process {pid} still there after {timeout} s"
        time.sleep(0.1)


def freeze(cluster, jobid: str, workdir: Path, folder: Path) -> tuple[Fault, int | None]:
    """SIGSTOP the job's training process, as a job too slow for its limit: SLURM kills it at
    the limit however fast this machine trains (SIGKILL ends a stopped process too). On a slow
    machine the limit may come first: SLURM has then killed the job already, the same fault,
    and there is nothing to stop (None)."""
    try:
        pid = script_process(cluster, jobid, workdir)
        os.kill(pid, signal.SIGSTOP)
    except (subprocess.CalledProcessError, ProcessLookupError):
        wait_until_ended(cluster, jobid)
        return Fault(jobid, complete_checkpoints(folder)[-1]), None
    return Fault(jobid, complete_checkpoints(folder)[-1]), pid


def wait_until_ended(cluster, jobid: str, timeout: float = 180) -> None:
    """Wait until SLURM lists the job no more as pending or running."""
    deadline = time.monotonic() + timeout
    while subprocess.run(["squeue", "--noheader", "--jobs", jobid], env=cluster.env,
                         capture_output=True, text=True).stdout.strip():
        assert time.monotonic() < deadline, f"SLURM job {jobid} still queued after {timeout} s"
        time.sleep(0.5)


def cancel(cluster, jobid: str, workdir: Path, folder: Path) -> tuple[Fault, int]:
    """``scancel`` the job and wait for its training process to end."""
    pid = script_process(cluster, jobid, workdir)
    subprocess.run(["scancel", jobid], env=cluster.env, check=True)
    wait_until_gone(pid)
    return Fault(jobid, complete_checkpoints(folder)[-1]), pid


def inject_faults(cluster, process: subprocess.Popen, log: Path, workdir: Path,
                  timeout: float = 600) -> dict[str, Fault]:
    """Freeze sft_full's first attempt and cancel sft_stage1's, each as soon as it has saved a
    checkpoint (both training side by side)."""
    actions = {"sft_full": freeze, "sft_stage1": cancel}
    faults, stopped = {}, []
    deadline = time.monotonic() + timeout
    try:
        while actions:
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            jobs = submissions(log.read_text())
            for rule in [rule for rule in actions if rule in jobs]:
                folder = scratch(workdir, TRAINING[rule][0])
                if complete_checkpoints(folder):
                    # a retry already submitted: the checkpoint may be the retry's own
                    assert len(jobs[rule]) == 1, (
                        f"{rule}'s first attempt ended before the test saw a checkpoint (jobs "
                        f"{jobs[rule]}): this machine is too slow for the test's time limit")
                    faults[rule], pid = actions.pop(rule)(cluster, jobs[rule][0], workdir, folder)
                    if pid is not None:
                        stopped.append(pid)
            time.sleep(0.1)
    except BaseException:
        for pid in stopped:  # never leave a stopped process behind
            if Path(f"/proc/{pid}").exists():
                os.kill(pid, signal.SIGKILL)
        raise
    return faults


def retry_profile(folder: Path) -> Path:
    """profiles/slurm with sft_full's runtime in minutes a test can wait for."""
    profile = yaml.safe_load((ROOT / "profiles/slurm/config.yaml").read_text())
    profile["set-resources"]["sft_full"]["runtime"] = SFT_FULL_RUNTIME
    folder.mkdir()
    (folder / "config.yaml").write_text(yaml.safe_dump(profile))
    return folder


@pytest.fixture(scope="module")
def faulted_run(cluster, offline_stage, tmp_path_factory):
    """Both training jobs on the cluster, faulted as ``inject_faults`` says, beside the same two
    jobs run locally without a fault (the reference). Returns both working folders, the
    cluster run's output and the faults."""
    root = tmp_path_factory.mktemp("faults")
    overlay = root / "training.yaml"
    overlay.write_text(yaml.safe_dump({"sft": {"steps": STEPS, "save_steps": SAVE_STEPS},
                                       "baselines": {"sft": {"steps": STEPS}}}))
    clustered, local = root / "cluster", root / "local"
    for workdir in (clustered, local):
        copy_run(offline_stage, workdir)
    targets = [output for output, _ in TRAINING.values()]
    reference = start_snakemake(*targets, "--cores", "2", "--configfile", TINY, overlay,
                                workdir=local, log=root / "local.log")
    log = root / "cluster.log"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SLURM_CONF", str(cluster.conf))
        process = start_snakemake(
            *targets, "--workflow-profile", retry_profile(root / "profile"),
            "--slurm-status-command", "squeue", "--slurm-no-account",
            "--slurm-init-seconds-before-status-checks", "2",
            # one thread per job, as the local jobs have (TORCH_THREADS): the same arithmetic
            "--max-threads", "1", "--resources", f"mem_mb={cluster.memory_mb // 2}",
            "--configfile", TINY, overlay, workdir=clustered, log=log)
    try:
        faults = inject_faults(cluster, process, log, clustered)
        process.wait(timeout=900)
        reference.wait(timeout=300)
    finally:
        for running in (process, reference):
            if running.poll() is None:
                running.send_signal(signal.SIGINT)  # as Ctrl-C: Snakemake cancels its jobs
                try:
                    running.wait(timeout=180)
                except subprocess.TimeoutExpired:  # keep the error that got us here
                    running.kill()
                    running.wait()
    output = log.read_text()
    assert process.returncode == 0, output[-5000:] + cluster.logs()
    assert reference.returncode == 0, (root / "local.log").read_text()[-3000:]
    return clustered, local, output, faults


def attempts(cluster, output: str, rule: str) -> list[dict[str, str]]:
    return [scontrol_job(cluster, jobid) for jobid in submissions(output)[rule]]


def test_a_job_killed_at_its_time_limit_resumes_on_a_retry_with_more_time(cluster, faulted_run):
    workdir, _, output, faults = faulted_run
    first, retry = attempts(cluster, output, "sft_full")
    assert first["JobId"] == faults["sft_full"].jobid
    assert (first["JobState"], first["Reason"], first["TimeLimit"]) == (
        "TIMEOUT", "TimeLimit", "00:02:00"), first
    assert (retry["JobState"], retry["TimeLimit"]) == ("COMPLETED", "00:10:00"), retry
    step = faults["sft_full"].step
    assert 0 < step < STEPS
    assert f"resuming from checkpoint-{step} (step {step} of {STEPS})" in (
        workdir / TRAINING["sft_full"][1]).read_text()


def test_a_cancelled_job_resumes_on_a_retry(cluster, faulted_run):
    workdir, _, output, faults = faulted_run
    first, retry = attempts(cluster, output, "sft_stage1")
    assert first["JobId"] == faults["sft_stage1"].jobid
    assert first["JobState"] == "CANCELLED", first
    # the profile's own "480 * attempt"
    assert (first["TimeLimit"], retry["TimeLimit"]) == ("08:00:00", "16:00:00")
    assert retry["JobState"] == "COMPLETED", retry
    step = faults["sft_stage1"].step
    assert 0 < step < STEPS
    assert f"resuming from checkpoint-{step} (step {step} of {STEPS})" in (
        workdir / TRAINING["sft_stage1"][1]).read_text()


# train_metrics.json entries a resumed job must share with an undisturbed one; not the loss
# (the trainer averages it over the last attempt's steps only), the seconds or resumed_from
SAME_WORK = ("steps", "examples", "sequences", "epochs", "train_tokens", "forward_tokens",
             "policy_params")


def test_the_faulted_run_ends_with_the_undisturbed_adapters(faulted_run):
    """Each faulted job's adapter weights are byte for byte those of the same job run locally
    without a fault (one CPU thread each, float32: the trainer restores the data order and RNG
    at a checkpoint), and so is the work counted in train_metrics.json. Its checkpoints are
    gone once the adapter is saved."""
    clustered, local, _, faults = faulted_run
    for rule, (output, _) in TRAINING.items():
        faulted, undisturbed = clustered / output, local / output
        assert filecmp.cmp(faulted / "adapter_model.safetensors",
                           undisturbed / "adapter_model.safetensors", shallow=False), rule
        metrics, reference = (json.loads((folder / "train_metrics.json").read_text())
                              for folder in (faulted, undisturbed))
        assert {key: metrics[key] for key in SAME_WORK} == {
            key: reference[key] for key in SAME_WORK}, rule
        assert metrics["steps"] == STEPS
        assert Path(metrics["resumed_from"]).name == f"checkpoint-{faults[rule].step}"
        assert reference["resumed_from"] is None
        assert not scratch(clustered, output).exists()
