"""The launch path of SFT: in this process, and for real in two processes under `accelerate
launch` (gloo on the CPU)."""

import json
import sys
from dataclasses import replace

import pandas as pd
import torch
from safetensors.torch import load_file

from paretohqd.policy.launch import accelerate_command, job_spec, run_sft
from paretohqd.policy.config import SFTSettings
from tiny_settings import tiny_config


def test_accelerate_command_launches_this_module_on_n_processes(tmp_path):
    spec = tmp_path / "job.json"
    assert accelerate_command(4, 2, spec) == [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu",
        "--num_processes", "4", "--num_machines", "1", "--num_cpu_threads_per_process", "2",
        "--main_process_port", "0", "--mixed_precision", "no",
        "-m", "paretohqd.policy.launch", str(spec)]


def test_job_spec_is_json_and_one_process_trains_here(tiny_causal_lm, tmp_path):
    data = tmp_path / "data.parquet"
    pd.DataFrame({"prompt": ["Hi?", "Why?"], "response": ["Hello.", "Because."]}).to_parquet(data)
    settings = SFTSettings.from_config(tiny_config(), steps=1, seed=0)
    spec = job_spec(str(tiny_causal_lm), str(data), tmp_path / "out", tmp_path / "ckpt",
                    settings, "chat", None)
    assert json.loads(json.dumps(spec)) == spec
    metrics = run_sft(spec, num_processes=1)
    assert metrics["steps"] == 1 and (tmp_path / "out/adapter_config.json").is_file()


def test_two_cpu_processes_train_the_one_process_adapter(tiny_causal_lm, tmp_path, capfd):
    """Two gloo processes at batch 2 each train the adapter that one process trains at batch 4,
    and rank 0 alone writes the outputs and the job's counts.

    The global batches hold the same rows: both runs shuffle the 8 rows with the same data
    seed, and accelerate gives process i the per-process batches i, i + 2, ... of that order;
    3 steps cross an epoch, so the second shuffle is compared too. Each process divides its
    loss by the tokens of the whole global batch (transformers' average_tokens_across_devices)
    before DDP combines the gradients, so both runs take the same steps in exact arithmetic.
    Dropout is 0, as each process would draw its own masks. What is left is float32 rounding
    (sums in another order, each half padded to its own longest row): 1.5e-8 measured, about
    one ulp of the weights. Adam can lift the rounding of a near-zero gradient to a sizeable
    part of its step (lr 1e-3), hence the tolerance 1e-6: 60x that, and far below what
    another split of the rows does (7e-4 when they are reordered, 1.9e-3 at a global batch of
    2).
    """
    rows = [(f"Question {i}{'?' * i}", "Answer" + " and more" * (i % 4)) for i in range(8)]
    data = tmp_path / "data.parquet"
    pd.DataFrame(rows, columns=["prompt", "response"]).to_parquet(data)
    one = SFTSettings.from_config(tiny_config(sft={"batch_size": 4, "lora_dropout": 0.0}),
                                  steps=3, seed=0)
    runs = {}
    for processes, settings in ((1, one), (2, replace(one, batch_size=2))):
        out, checkpoints = tmp_path / f"out{processes}", tmp_path / f"checkpoints{processes}"
        spec = job_spec(str(tiny_causal_lm), str(data), out, checkpoints, settings, "chat",
                        None)
        runs[processes] = (run_sft(spec, processes, threads=2),
                           load_file(out / "adapter_model.safetensors"))
        assert not checkpoints.exists()
    (metrics1, weights1), (metrics2, weights2) = runs[1], runs[2]
    assert metrics2["steps"] == metrics1["steps"] == 3
    assert metrics2["sequences"] == metrics1["sequences"] == 12
    assert metrics2["train_tokens"] == metrics1["train_tokens"]
    # the one-process run logs to pytest's handler, the launched ranks to stderr
    assert capfd.readouterr().err.count("count steps: 3") == 1
    assert weights2.keys() == weights1.keys()
    for name, weight in weights1.items():
        if "lora_B" in name:  # zero at the start: training moved it
            assert weight.abs().max() > 1e-4, name
        assert torch.allclose(weights2[name], weight, rtol=0, atol=1e-6), name
