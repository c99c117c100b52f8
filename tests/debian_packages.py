"""Debian packages that tests need (the SLURM daemons, Chromium), installed with apt-get when a
program is missing, as root. Package scripts are kept from starting system services
(policy-rc.d, as Debian images do), so installing leaves no daemon running."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Callable, NoReturn, Sequence

import pytest


class Unavailable(Exception):
    """This machine cannot provide the programs (not root, no apt); the reason is the message."""


def skip_unless_ci(reason: str) -> NoReturn:
    """Skip the test for want of a component; on CI (``CI`` set, as .ci/run does) fail it
    instead, so that a CI machine missing Chromium or SLURM turns red rather than green."""
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"a required component is unavailable on CI: {reason}", pytrace=False)
    pytest.skip(reason)


def ensure_programs(packages: Sequence[str], missing: Callable[[], list[str]]) -> None:
    """Install ``packages`` when ``missing()`` names a program; raise Unavailable where that
    cannot happen (not root; no apt-get), RuntimeError when apt-get fails or the programs are
    still missing after it."""
    if not missing():
        return
    if os.geteuid() != 0:
        raise Unavailable(f"not root: cannot apt-get {' '.join(packages)} for {missing()}")
    if not shutil.which("apt-get"):
        raise Unavailable(f"no apt-get to install {' '.join(packages)}")
    policy = Path("/usr/sbin/policy-rc.d")
    own_policy = not policy.exists()
    if own_policy:
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        for cmd in (["apt-get", "update", "-qq"],
                    ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages]):
            result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
            if result.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)} failed:\n{result.stdout[-2000:]}"
                                   f"{result.stderr[-2000:]}")
    finally:
        if own_policy:
            policy.unlink()
    if missing():
        raise RuntimeError(f"still missing after apt-get: {', '.join(missing())}")
