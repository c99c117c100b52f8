"""A throwaway one-node SLURM cluster on this machine, for testing the SLURM profile.

Debian's ``slurm-wlm`` and ``munge`` packages, run as root. State, logs and munge's key and
socket live in private directories, the daemons use free TCP ports (a port another process
takes between our choosing and the daemon's binding makes that daemon fail: the start is then
retried on fresh ports), run in the foreground as children of the test and are stopped by pid.
The one shared file is the configuration, /etc/slurm/slurm.conf: Snakemake's job step drops
every ``SLURM_*`` variable (``SLURM_CONF`` included) before its inner ``srun``, so a private
configuration is not seen inside jobs. A machine that already has that file (a real cluster) is
left alone: the test skips.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from debian_packages import Unavailable, ensure_programs

SLURM_CONF = Path("/etc/slurm/slurm.conf")
MARKER = "# Test cluster of tests/slurm_cluster.py, pid "
DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "scontrol", "srun", "sinfo")
PACKAGES = ("slurm-wlm", "munge")


def which(name: str) -> str | None:
    """The program's path; the daemons live in /usr/sbin, which a PATH may lack."""
    return shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")


def missing_programs() -> list[str]:
    return [name for name in (*DAEMONS, *CLIENTS) if not which(name)]


def ensure_installed() -> None:
    """Install slurm-wlm and munge when a program is missing; Unavailable where the cluster
    cannot run (not root: its daemons need root, even with every program installed)."""
    if os.geteuid() != 0:
        raise Unavailable("not root: the test cluster's daemons (and apt-get) need root")
    ensure_programs(PACKAGES, missing_programs)


def free_ports(n: int) -> list[int]:
    """``n`` distinct TCP ports free right now (all held open together, so none repeats). They
    are released before the daemons bind them, so one may be taken meanwhile: ``start`` checks
    that the daemons came up and retries on fresh ports otherwise."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def available_memory_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) // 1024
    raise RuntimeError("no MemAvailable in /proc/meminfo")


@dataclass
class SlurmCluster:
    """One node (this host, all its CPUs, 80% of its available memory), one partition. A job
    past its time limit gets SIGTERM within 30 s (slurmctld checks limits that often) and
    SIGKILL 5 s later (``KillWait``, 30 s by default), so a time-limit test waits little."""

    root: Path
    partition: str = "debug"
    node: str = field(default_factory=lambda: socket.gethostname().split(".")[0])
    cpus: int = field(default_factory=lambda: os.cpu_count() or 1)
    memory_mb: int = field(default_factory=lambda: int(available_memory_mb() * 0.8))
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    ports: list[int] = field(default_factory=list)  # slurmctld's, slurmd's

    conf: Path = SLURM_CONF
    port_attempts: int = 3

    @property
    def env(self) -> dict[str, str]:
        """The environment for SLURM clients (sbatch, squeue, Snakemake) to use this cluster."""
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def start(self, timeout: float = 60) -> None:
        self._claim_conf()
        self.root.mkdir(parents=True, exist_ok=True)
        # munged refuses a socket or key in a directory others can reach into: give it its own
        # directory, owned by the munge user, outside pytest's root-only temp tree.
        self.munge_dir = Path(tempfile.mkdtemp(prefix="munge-", dir="/run"
                                               if os.access("/run", os.W_OK) else None))
        munge = pwd.getpwnam("munge")
        key = self.munge_dir / "munge.key"
        key.write_bytes(os.urandom(1024))
        for path in (self.munge_dir, key):
            os.chown(path, munge.pw_uid, munge.pw_gid)
        self.munge_dir.chmod(0o755)
        key.chmod(0o600)
        self.munge_socket = self.munge_dir / "munge.socket"
        for sub in ("state", "spool"):
            (self.root / sub).mkdir(exist_ok=True)

        self._spawn("munged", ["munged", "--foreground", f"--socket={self.munge_socket}",
                               f"--key-file={key}", f"--pid-file={self.munge_dir}/munged.pid",
                               f"--log-file={self.munge_dir}/munged.log",
                               f"--seed-file={self.munge_dir}/munged.seed"],
                    user="munge")
        self._wait(lambda: self.munge_socket.exists(), timeout, "munged socket")
        for attempt in range(1, self.port_attempts + 1):
            self.ports = free_ports(2)
            self.conf.write_text(self.slurm_conf())
            try:
                self._start_slurm(timeout)
                return
            except RuntimeError:  # a daemon exited or never answered: perhaps its port was taken
                if attempt == self.port_attempts:
                    raise
                for name in ("slurmd", "slurmctld"):
                    self._terminate(name)

    def _start_slurm(self, timeout: float) -> None:
        """Start slurmctld and slurmd on ``self.ports`` and wait until the controller answers
        and the node is idle (slurmd registered): both daemons are listening."""
        self._spawn("slurmctld", ["slurmctld", "-D", "-f", str(self.conf)])
        self._wait(lambda: self._client("scontrol", "ping").returncode == 0, timeout,
                   "slurmctld to answer scontrol ping")
        self._spawn("slurmd", ["slurmd", "-D", "-f", str(self.conf), "-N", self.node])
        self._wait(self._node_idle, timeout, f"node {self.node} to be idle")

    def stop(self) -> None:
        """Cancel this cluster's unfinished jobs (a failed test may leave some), then stop the
        daemons this object started, by pid, newest first; remove munge's files and slurm.conf."""
        if "slurmctld" in self.processes and self.processes["slurmctld"].poll() is None:
            self._cancel_jobs()
        for name in reversed(list(self.processes)):
            self._terminate(name)
        if getattr(self, "munge_dir", None):
            shutil.rmtree(self.munge_dir, ignore_errors=True)
        if getattr(self, "own_conf", False):
            self.conf.unlink(missing_ok=True)
            self.own_conf = False

    def _terminate(self, name: str) -> None:
        """Stop the daemon ``name`` this object started (if it did), by pid."""
        process = self.processes.pop(name, None)
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def _cancel_jobs(self, timeout: float = 30) -> None:
        def unfinished() -> list[str]:
            out = self._client("squeue", "--noheader", "--format", "%i").stdout
            return out.split()

        jobs = unfinished()
        if jobs:
            self._client("scancel", *jobs)
            deadline = time.monotonic() + timeout
            while unfinished() and time.monotonic() < deadline:
                time.sleep(0.5)

    def _claim_conf(self) -> None:
        """Take /etc/slurm/slurm.conf, unless someone else's configuration is there (Unavailable);
        a leftover of a test run whose process is gone is replaced."""
        if self.conf.exists():
            first = self.conf.read_text(errors="replace").split("\n", 1)[0]
            if not first.startswith(MARKER):
                raise Unavailable(f"{self.conf} exists (a real SLURM installation?); "
                                  "not replacing it")
            owner = int(first[len(MARKER):] or 0)
            if owner and Path(f"/proc/{owner}").exists():
                raise Unavailable(f"{self.conf} belongs to the test cluster of running "
                                  f"process {owner}")
        self.conf.parent.mkdir(parents=True, exist_ok=True)
        self.conf.write_text(f"{MARKER}{os.getpid()}\n")
        self.own_conf = True

    def slurm_conf(self) -> str:
        r = self.root
        return f"""\
{MARKER}{os.getpid()}
ClusterName=paretohqd-test
SlurmctldHost={self.node}(127.0.0.1)
SlurmctldPort={self.ports[0]}
SlurmdPort={self.ports[1]}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={self.munge_socket}
CredType=cred/munge
StateSaveLocation={r}/state
SlurmdSpoolDir={r}/spool
SlurmctldPidFile={r}/slurmctld.pid
SlurmdPidFile={r}/slurmd.pid
SlurmctldLogFile={r}/slurmctld.log
SlurmdLogFile={r}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
ReturnToService=2
MinJobAge=600
KillWait=5
OverTimeLimit=0
NodeName={self.node} NodeAddr=127.0.0.1 CPUs={self.cpus} RealMemory={self.memory_mb} State=UNKNOWN
PartitionName={self.partition} Nodes={self.node} Default=YES MaxTime=INFINITE State=UP
"""

    def logs(self) -> str:
        """The daemons' logs, for a failure message."""
        parts = []
        for path in (self.root / "slurmctld.log", self.root / "slurmd.log",
                     getattr(self, "munge_dir", self.root) / "munged.log"):
            if path.exists():
                parts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}")
        return "\n".join(parts)

    def _client(self, *cmd: str) -> subprocess.CompletedProcess:
        return subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=30)

    def _node_idle(self) -> bool:
        result = self._client("sinfo", "--noheader", "--nodes", self.node, "--format", "%t")
        return result.returncode == 0 and result.stdout.strip() == "idle"

    def _spawn(self, name: str, cmd: list[str], user: str | None = None) -> None:
        log = open(self.root / f"{name}.out", "w")
        self.processes[name] = subprocess.Popen([which(cmd[0]), *cmd[1:]], env=self.env,
                                                stdout=log, stderr=subprocess.STDOUT, user=user)
        log.close()

    def _wait(self, ready, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode} while waiting "
                                       f"for {what}\n{self.logs()}")
            if ready():
                return
            time.sleep(0.5)
        raise RuntimeError(f"timed out after {timeout} s waiting for {what}\n{self.logs()}")
