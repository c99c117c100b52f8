"""A second Snakemake on the same results/ while one runs is refused by Snakemake's own lock,
with a message that says what to do."""

import time

import pytest

from workflow_runner import TINY, copy_run, snakemake, start_snakemake

TARGET = "results/sft/seed0/adapter"  # one short training job past the offline stage


@pytest.mark.e2e
def test_a_second_run_on_the_same_results_is_refused(offline_stage, tmp_path):
    workdir = tmp_path / "run"
    copy_run(offline_stage, workdir)
    # a job long enough that a second Snakemake, started once it runs, finds the lock held
    # even on a loaded machine (the tiny config's 2 steps ended first on one)
    longer = tmp_path / "longer.yaml"
    longer.write_text("baselines:\n  sft:\n    steps: 40\n")
    log = tmp_path / "first.log"
    first = start_snakemake(TARGET, "--cores", "1", "--configfile", TINY, longer,
                            workdir=workdir, log=log)
    try:
        # the lock is taken before any job starts; the job's log shows one is under way
        job_log = workdir / "results/logs/sft_full/seed0.log"
        deadline = time.monotonic() + 300
        while not (any((workdir / ".snakemake/locks").glob("*.lock")) and job_log.exists()):
            assert first.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.1)
        second = snakemake(TARGET, "--cores", "1", "--configfile", str(TINY), str(longer),
                           workdir=workdir)
        assert first.poll() is None, "the first run ended before the second was refused"
    finally:
        first.wait(timeout=600)
    assert second.returncode == 1, second.stdout[-2000:] + second.stderr[-2000:]
    message = second.stderr
    assert "Directory cannot be locked" in message, message[-2000:]
    assert "--unlock" in message and str(workdir) in message, message[-2000:]
    # the first run is untouched by the refused one
    assert first.returncode == 0, log.read_text()[-3000:]
    assert (workdir / TARGET / "adapter_model.safetensors").is_file()
