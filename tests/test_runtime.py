"""What every workflow script does first (paretohqd.runtime): thread sizing without torch."""

import subprocess
import sys

import pytest

SCRIPT = """
import sys
from paretohqd.runtime import use_threads
{before}
use_threads(1)
assert ('torch' in sys.modules) == {imported}, 'use_threads imported torch'
import torch
print(torch.get_num_threads())
"""


@pytest.mark.parametrize("before, imported", [("", False), ("import torch", True)],
                         ids=["torch imported later", "torch imported before"])
def test_threads_are_sized_without_importing_torch(before, imported):
    """A script with no use for torch never imports it for its thread count, and torch gets
    the rule's threads whether the script imported it before or imports it after."""
    code = SCRIPT.format(before=before, imported=imported)
    # two threads asked from outside: the rule's one must win
    env = {"OMP_NUM_THREADS": "2", "PATH": ""}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["1"]
