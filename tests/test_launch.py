"""The multi-GPU launch path: the accelerate command it builds, and the in-process path."""

import json
import sys

import pandas as pd

from paretohqd.policy.launch import accelerate_command, job_spec, run_sft
from paretohqd.settings import SFTSettings
from tiny_settings import tiny_config


def test_accelerate_command_launches_this_module_on_n_processes(tmp_path):
    spec = tmp_path / "job.json"
    assert accelerate_command(4, spec) == [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu",
        "--num_processes", "4", "--num_machines", "1", "--mixed_precision", "no",
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
