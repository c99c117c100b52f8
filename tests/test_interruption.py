"""Interruption: SIGKILL mid-training resumes from the last checkpoint and ends with the same
adapter; a workflow killed mid-generation re-runs only the unfinished shard."""

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
from safetensors.torch import load_file

from paretohqd.policy.launch import job_spec, run_spec
from paretohqd.policy.training import ELAPSED_FILE
from paretohqd.policy.config import SFTSettings
from tiny_settings import tiny_config
from workflow_runner import ROOT, TINY, copy_run, job_counts, snakemake

SETTINGS = SFTSettings.from_config(tiny_config(sft={"save_steps": 10}), steps=60, seed=0)
ROWS = 6
STEPS_PER_EPOCH = ROWS // SETTINGS.batch_size


def wait_for(predicate, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert process.poll() is None, "the job ended before it could be killed"
        assert time.monotonic() < deadline, "timed out waiting for the job"
        time.sleep(0.02)


def test_killed_training_resumes_to_the_same_adapter(tiny_causal_lm, tmp_path, caplog):
    """A job SIGKILLed right after saving its step-20 checkpoint leaves no adapter; run again,
    it resumes from exactly that checkpoint and ends with the adapter of an uninterrupted run,
    bit for bit (CPU float32 is deterministic; the trainer restores data order and RNG). Six
    rows in batches of 2 make 3 steps an epoch, so step 20 is 2 batches into the 7th epoch: the
    resumed run must skip the batches of that epoch already trained on, in the same shuffle."""
    data = tmp_path / "data.parquet"
    # answers of different lengths: a wrong row in a batch changes the tokens trained, too
    pd.DataFrame({"prompt": [f"Question {i}?" for i in range(ROWS)],
                  "response": [f"Answer {i}:" + " yes" * i for i in range(ROWS)]}).to_parquet(data)

    def spec(name: str) -> dict:
        return job_spec(str(tiny_causal_lm), str(data), tmp_path / name / "adapter",
                        tmp_path / name / "ckpt", SETTINGS, "chat", None)

    run_spec(spec("straight"))

    killed = spec("killed")
    spec_path = tmp_path / "killed.json"
    spec_path.write_text(json.dumps(killed))
    child = subprocess.run([sys.executable, str(ROOT / "tests/train_until_killed.py"),
                            str(spec_path), "20"], cwd=ROOT, capture_output=True, text=True,
                           env={**os.environ, "OMP_NUM_THREADS": str(torch.get_num_threads())})
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
    assert not Path(killed["output_dir"]).exists()  # no adapter from the killed run
    assert [p.name for p in Path(killed["checkpoint_dir"]).glob("checkpoint-*")] == [
        "checkpoint-20"]

    saved = Path(killed["checkpoint_dir"]) / "checkpoint-20"
    epoch = json.loads((saved / "trainer_state.json").read_text())["epoch"]
    assert epoch == pytest.approx(20 / STEPS_PER_EPOCH) and not epoch.is_integer()  # mid-epoch
    before = float((saved / ELAPSED_FILE).read_text())
    with caplog.at_level(logging.INFO, logger="paretohqd.policy.training"):
        metrics = run_spec(killed)
    assert Path(metrics["resumed_from"]).name == "checkpoint-20"
    assert "resuming from checkpoint-20 (step 20 of 60)" in caplog.text
    # the work of the killed run counts too; the tokens are the trainer's, resumed with it
    assert metrics["seconds"] > before > 0
    straight_metrics = json.loads((tmp_path / "straight/adapter/train_metrics.json").read_text())
    assert metrics["train_tokens"] == straight_metrics["train_tokens"] > 0
    assert metrics["steps"] == SETTINGS.steps
    straight = load_file(tmp_path / "straight/adapter/adapter_model.safetensors")
    again = load_file(tmp_path / "killed/adapter/adapter_model.safetensors")
    assert straight.keys() == again.keys()
    for name, tensor in straight.items():
        assert torch.equal(again[name], tensor), name


@pytest.mark.e2e
def test_killed_workflow_reruns_only_the_unfinished_shard(offline_stage, tmp_path):
    copy_run(offline_stage, tmp_path, leave_out=("offline",))  # no shard made yet
    overlay = tmp_path / "two_shards.yaml"
    overlay.write_text("offline: {shards: 2}\n")
    shards = [f"results/offline/responses/shard{i}.parquet" for i in (0, 1)]
    # targets before --configfile, which takes every word after it
    cmd = [sys.executable, "-m", "snakemake", *shards, "--snakefile", str(ROOT / "Snakefile"),
           "--directory", str(tmp_path), "--cores", "1", "--configfile", str(TINY), str(overlay)]
    log = tmp_path / "snakemake.log"
    with log.open("w") as sink:
        process = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True, stdout=sink,
                                   stderr=subprocess.STDOUT,
                                   env={**os.environ, "HF_HUB_OFFLINE": "1"})
        # kill once Snakemake has recorded one finished shard (not merely seen its file)
        wait_for(lambda: "(Rule: generate_offline)" in log.read_text(), process)
        os.killpg(process.pid, signal.SIGKILL)  # snakemake and its running job
        process.wait()
    done = [tmp_path / shard for shard in shards]
    assert sum(path.is_file() for path in done) == 1

    result = snakemake("-n", *shards, "--cores", "1", "--configfile", str(TINY), str(overlay),
                       workdir=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert job_counts(result.stdout) == {"generate_offline": 1}
    unfinished = next(shard for shard, path in zip(shards, done) if not path.is_file())
    assert f"output: {unfinished}" in result.stdout
