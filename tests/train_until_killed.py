"""Child process of the resume test: run an SFT job spec as ``python -m paretohqd.policy.launch``
does, and SIGKILL this process right after the trainer has saved the checkpoint of a given
step (no polling: the kill happens at a known step, as a crash or a scheduler's kill would): as
the next step begins, so that every callback of the save (the job's elapsed time) has run.

Usage: python tests/train_until_killed.py <job.json> <step>"""

import os
import signal
import sys

from transformers import TrainerCallback

import paretohqd.policy.training as training
from paretohqd.io import read_json
from paretohqd.policy.launch import run_spec


class KillAfterSave(TrainerCallback):
    """SIGKILL the process when the step after checkpoint-``step`` begins."""

    def __init__(self, step: int):
        self.step = step

    def on_step_begin(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            os.kill(os.getpid(), signal.SIGKILL)


def fit_then_killed(trainer, *args, **kwargs):
    trainer.add_callback(KillAfterSave(int(sys.argv[2])))
    return original_fit(trainer, *args, **kwargs)


original_fit = training.fit
training.fit = fit_then_killed  # train_adapter looks `fit` up in its module at call time
run_spec(read_json(sys.argv[1]))
sys.exit("the job finished without reaching the step to kill it at")
