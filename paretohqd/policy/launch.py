"""Run a LoRA SFT job in this process, or in N data-parallel processes under ``accelerate
launch``.

With one process the trainer runs here. With N > 1 the job's arguments go to a JSON file and
``accelerate launch --multi_gpu --num_processes N -m paretohqd.policy.launch <file>`` starts N
copies of this module, which read the file and train; rank 0 writes the adapter, the metrics
and the ``count`` lines. ``--multi_gpu`` is only accelerate's name for its torchrun launcher:
each copy's trainer picks the backend from the job's device, NCCL on CUDA and gloo on a CPU
(``TrainingArguments(use_cpu=True)``). accelerate's ``--cpu`` starts one process unless it is
given an MPI host file. ``sft.batch_size`` is per process: the global batch is N times it.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from paretohqd.io import read_json, read_table
from paretohqd.policy.config import SFTSettings
from paretohqd.policy.training import train_adapter


def accelerate_command(num_processes: int, threads: int, spec_path: Path) -> list[str]:
    """The ``accelerate launch`` command line of an N-process run of ``spec_path``, each
    process with ``threads`` CPU threads."""
    return [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu",
            "--num_processes", str(num_processes), "--num_machines", "1",
            "--num_cpu_threads_per_process", str(threads),
            "--main_process_port", "0",  # a free port: jobs side by side on one node
            "--mixed_precision", "no",  # the trainer sets bf16/fp16 itself
            "-m", "paretohqd.policy.launch", str(spec_path)]


def job_spec(base_model: str, data_path: str, output_dir: Path, checkpoint_dir: Path,
             settings: SFTSettings, prompt_format: str, init_adapter: str | None) -> dict:
    """The JSON-able arguments of one SFT job."""
    return {"base_model": base_model, "data_path": data_path, "output_dir": str(output_dir),
            "checkpoint_dir": str(checkpoint_dir), "settings": asdict(settings),
            "prompt_format": prompt_format, "init_adapter": init_adapter}


def run_spec(spec: dict) -> dict[str, float]:
    """Train as ``spec`` says (what each launched process does)."""
    rows = read_table(spec["data_path"], required=["prompt", "response"],
                      nonempty_text=["prompt", "response"])
    return train_adapter(spec["base_model"], rows, Path(spec["output_dir"]),
                         Path(spec["checkpoint_dir"]), SFTSettings(**spec["settings"]),
                         spec["prompt_format"], spec["init_adapter"])


def run_sft(spec: dict, num_processes: int, threads: int = 1) -> dict[str, float]:
    """Run the job in-process (one process) or under ``accelerate launch`` (several, sharing
    the job's ``threads`` evenly, at least one each), whose output goes to this process's
    stdout and stderr (the job's log)."""
    if num_processes <= 1:
        return run_spec(spec)
    with tempfile.TemporaryDirectory() as folder:
        spec_path = Path(folder) / "job.json"
        spec_path.write_text(json.dumps(spec))
        command = accelerate_command(num_processes, max(1, threads // num_processes), spec_path)
        subprocess.run(command, check=True, stdout=sys.stdout, stderr=sys.stderr)
    return read_json(Path(spec["output_dir"]) / "train_metrics.json")


if __name__ == "__main__":
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    run_spec(read_json(sys.argv[1]))
