"""A throwaway single-node SLURM cluster on localhost, for testing `snakemake --executor slurm`.

Debian's slurm-wlm and munge packages are used, but none of their system files: munged, slurmctld
and slurmd are started by hand (no systemd needed) with a generated MUNGE key, a slurm.conf and all
state, spool, PID and log files under one directory of our own, on free TCP ports. Clients (sbatch,
squeue, scontrol, and so snakemake's SLURM plugin) find this cluster through the SLURM_CONF variable
in `Cluster.env`. No accounting database: job states come from slurmctld (`squeue`), which keeps a
finished job for MinJobAge seconds.

Command line (for trying the SLURM profile by hand):
    python tests/slurm/cluster.py install          # apt-get install slurm-wlm munge, if missing
    python tests/slurm/cluster.py start DIR        # prints the `export SLURM_CONF=... PATH=...` to use
    python tests/slurm/cluster.py stop DIR         # stops the daemons started in DIR, by PID
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
BINARIES = ("munged", "munge", "slurmctld", "slurmd", "sbatch", "srun", "squeue", "scontrol", "sinfo", "scancel")
PACKAGES = ("slurm-wlm", "munge")
MARKER = "spinestudy-slurm-"  # prefix of every cluster directory made by `Cluster.temporary`
MIN_JOB_AGE = 600  # seconds slurmctld keeps a finished job: what `squeue` status checks need


def missing_binaries() -> list[str]:
    return [b for b in BINARIES if shutil.which(b) is None and not Path("/usr/sbin", b).exists()]


def install_reason_to_skip() -> str | None:
    """Why SLURM cannot be installed here (None: it is installed, or apt-get can install it)."""
    if not missing_binaries():
        return None
    if os.geteuid() != 0:
        return f"SLURM is not installed ({', '.join(missing_binaries())} missing) and we are not root to apt-get it"
    if shutil.which("apt-get") is None:
        return f"SLURM is not installed ({', '.join(missing_binaries())} missing) and there is no apt-get"
    return None


def install(log=print) -> float:
    """apt-get install slurm-wlm and munge when a binary is missing; returns the seconds it took."""
    if not missing_binaries():
        return 0.0
    start = time.monotonic()
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    # Debian's postinst scripts try to start munge/slurm services; we start our own daemons by hand, so a
    # policy-rc.d refusal (as in Docker images) or a missing init system does no harm either way.
    for cmd in (["apt-get", "update", "-q"],
                ["apt-get", "install", "-y", "-q", "--no-install-recommends", *PACKAGES]):
        result = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    if missing_binaries():
        raise RuntimeError(f"installed {PACKAGES} but still missing: {missing_binaries()}")
    took = time.monotonic() - start
    log(f"apt-get install {' '.join(PACKAGES)}: {took:.1f} s")
    return took


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _which(name: str) -> str:
    return shutil.which(name) or str(Path("/usr/sbin", name))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped) counts as dead
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class Cluster:
    """munged + slurmctld + slurmd for one node (this host), everything under `root`."""

    def __init__(self, root: Path, log=print, owned: bool = True):
        self.root = Path(root).resolve()
        # owned: the cluster lives as long as this process; if this process dies without stopping it,
        # the next start treats its daemons as stale. A cluster started from the command line is not owned.
        self.owner = os.getpid() if owned else None
        self.conf = self.root / "slurm.conf"
        self.socket = self.root / "munge" / "munge.socket"
        self.pids_file = self.root / "pids.json"
        self.log = log
        self.pids: dict[str, int] = {}
        self._procs: dict[str, subprocess.Popen] = {}

    @classmethod
    def temporary(cls, log=print) -> "Cluster":
        import tempfile

        # short path: the MUNGE socket path must fit a sockaddr_un (108 bytes)
        return cls(Path(tempfile.mkdtemp(prefix=MARKER, dir="/tmp")), log=log)

    @property
    def env(self) -> dict[str, str]:
        """Environment for clients of this cluster (sbatch, squeue, snakemake --executor slurm)."""
        path = f"{self.root / 'bin'}{os.pathsep}{os.environ.get('PATH', os.defpath)}"
        return os.environ | {"SLURM_CONF": str(self.conf), "PATH": path}

    def _write_srun_wrapper(self) -> None:
        """bin/srun: the real srun, with SLURM_CONF put back.

        Inside a job, snakemake's slurm-jobstep plugin (0.6.1) runs the rule with `srun` after deleting
        every SLURM_* variable but the job's identity, SLURM_CONF included, so srun would look for
        /etc/slurm/slurm.conf. A real cluster keeps its configuration there; this one keeps it in its
        own directory and touches no system file, so the PATH of its clients (Cluster.env) finds this
        wrapper first. Jobs inherit that PATH (sbatch --export=ALL).
        """
        wrapper = self.root / "bin" / "srun"
        wrapper.write_text(f'#!/bin/sh\nSLURM_CONF={self.conf}\nexport SLURM_CONF\nexec {_which("srun")} "$@"\n')
        wrapper.chmod(0o755)

    # ---------------------------------------------------------------- start
    def start(self, timeout: float = 60) -> float:
        """Write the configuration, start the three daemons and wait for an idle node; returns seconds."""
        began = time.monotonic()
        stop_stale(self.log)
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)  # munged: every directory above its socket must be executable by all
        for sub in ("munge", "state", "spool", "log", "bin"):
            (self.root / sub).mkdir(exist_ok=True)
        (self.root / "munge").chmod(0o755)
        key = self.root / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o600)
        self._write_conf()
        self._write_srun_wrapper()
        try:
            self._spawn("munged", [_which("munged"), "--foreground", "--force", f"--key-file={key}",
                                   f"--socket={self.socket}", f"--pid-file={self.root / 'munge/munged.pid'}",
                                   f"--seed-file={self.root / 'munge/munged.seed'}"])
            self._wait(lambda: self.socket.exists() and self._run(["munge", "-S", str(self.socket), "-n"]).returncode == 0,
                       timeout, "munged to answer")
            self._spawn("slurmctld", [_which("slurmctld"), "-D", "-i", "-f", str(self.conf)])
            self._wait(lambda: self._run(["scontrol", "ping"]).stdout.count("UP") >= 1, timeout, "slurmctld to answer")
            self._spawn("slurmd", [_which("slurmd"), "-D", "-f", str(self.conf), "-N", self.node])
            self._wait(self._node_idle, timeout, f"node {self.node} to become idle")
        except Exception:
            self.stop()
            raise
        took = time.monotonic() - began
        self.log(f"SLURM cluster up in {took:.1f} s ({self.root})")
        return took

    @property
    def node(self) -> str:
        # NodeName must equal `hostname -s`: slurmd looks itself up by it
        return socket.gethostname().split(".")[0]

    def _node_line(self) -> str:
        """The node's hardware as slurmd itself detects it (`slurmd -C`), addressed on localhost."""
        out = subprocess.run([_which("slurmd"), "-C"], capture_output=True, text=True, check=True).stdout
        line = next(ln for ln in out.splitlines() if ln.startswith("NodeName="))
        fields = dict(f.split("=", 1) for f in line.split())
        fields["NodeName"] = self.node
        # leave a little memory unclaimed so a slightly different reading at slurmd start does not drain the node
        fields["RealMemory"] = str(max(int(fields.get("RealMemory", "1000")) - 256, 500))
        return " ".join(f"{k}={v}" for k, v in fields.items()) + " NodeAddr=127.0.0.1 State=UNKNOWN"

    def _write_conf(self) -> None:
        r = self.root
        self.ctld_port = _free_port()
        self.conf.write_text(f"""\
# Single-node test cluster written by tests/slurm/cluster.py. No accounting, no cgroups.
ClusterName=spinestudy
SlurmctldHost={self.node}(127.0.0.1)
SlurmctldPort={self.ctld_port}
SlurmdPort={_free_port()}
# jobs are submitted as root (the CI user): the daemons run as root too
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.socket}
StateSaveLocation={r / 'state'}
SlurmdSpoolDir={r / 'spool'}
SlurmctldPidFile={r / 'slurmctld.pid'}
SlurmdPidFile={r / 'slurmd.pid'}
SlurmctldLogFile={r / 'log/slurmctld.log'}
SlurmdLogFile={r / 'log/slurmd.log'}
SlurmctldDebug=info
SlurmdDebug=info
# no cgroups (not available in containers): plain /proc process tracking, no task binding
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# finished jobs stay visible to `squeue` this long: the plugin's status checks rely on it
MinJobAge={MIN_JOB_AGE}
ReturnToService=2
SlurmdTimeout=120
InactiveLimit=0
KillWait=5
{self._node_line()}
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
""")

    def _spawn(self, name: str, cmd: list[str]) -> None:
        logfile = open(self.root / "log" / f"{name}.out", "ab")
        proc = subprocess.Popen(cmd, stdout=logfile, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=self.env, start_new_session=True)
        logfile.close()
        self._procs[name] = proc
        self.pids[name] = proc.pid
        self.pids_file.write_text(json.dumps({"owner": self.owner, **self.pids}))

    def _run(self, cmd: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run(cmd, capture_output=True, text=True, env=self.env, timeout=30)

    def _node_idle(self) -> bool:
        states = self._run(["sinfo", "-h", "-N", "-o", "%T"]).stdout.split()
        return bool(states) and all(s == "idle" for s in states)

    def _wait(self, ready, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, proc in self._procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited ({proc.returncode}) while waiting for {what}\n{self.logs()}")
            if ready():
                return
            time.sleep(0.3)
        raise RuntimeError(f"timed out after {timeout} s waiting for {what}\n{self.logs()}")

    def logs(self, tail: int = 3000) -> str:
        parts = []
        for path in sorted((self.root / "log").glob("*")):
            parts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-tail:]}")
        return "\n".join(parts)

    # ---------------------------------------------------------------- stop
    def stop(self, remove: bool = False) -> None:
        """Cancel every job of this cluster, then stop its daemons by their PIDs (TERM, then KILL).

        remove: delete the cluster's directory afterwards (configuration, state, logs)."""
        if not self.pids and self.pids_file.exists():
            self.pids = {k: v for k, v in json.loads(self.pids_file.read_text()).items() if k in DAEMONS}
        if self.pids.get("slurmctld") and _alive(self.pids["slurmctld"]):
            try:
                self._run(["scancel", "--user", str(os.getuid())])
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline and self._run(["squeue", "-h", "-t", "RUNNING,COMPLETING"]).stdout.strip():
                    time.sleep(0.5)
            except (subprocess.SubprocessError, OSError):
                pass
        for name in reversed(DAEMONS):
            pid = self.pids.get(name)
            if pid:
                _terminate(pid, self._procs.get(name))
        self.pids = {}
        self.pids_file.unlink(missing_ok=True)
        if remove:
            shutil.rmtree(self.root, ignore_errors=True)


def _terminate(pid: int, proc: subprocess.Popen | None = None, grace: float = 10) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return
        if proc is None and not _alive(pid):
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    if proc is not None:
        proc.wait(timeout=10)


def stop_stale(log=print) -> None:
    """Stop daemons left running by an earlier cluster of ours that was never stopped (a killed test run).

    Only PIDs recorded in /tmp/spinestudy-slurm-*/pids.json, by a process that has died since, whose
    command line still names that directory are touched: nothing else on the machine.
    """
    for pids_file in Path("/tmp").glob(f"{MARKER}*/pids.json"):
        root = pids_file.parent
        try:
            pids = json.loads(pids_file.read_text())
        except (OSError, ValueError):
            continue
        owner = pids.get("owner")
        if owner is None or _alive(owner):
            continue  # started by hand (`cluster.py start`), or its test run is still going
        for name in reversed(DAEMONS):
            pid = pids.get(name)
            if pid and _alive(pid) and str(root) in _cmdline(pid):
                log(f"stopping stale {name} (pid {pid}) of {root}")
                _terminate(pid)
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str]) -> int:
    if len(argv) >= 1 and argv[0] == "install":
        reason = install_reason_to_skip()
        if reason:
            print(reason, file=sys.stderr)
            return 1
        install()
        return 0
    if len(argv) == 2 and argv[0] in ("start", "stop"):
        cluster = Cluster(Path(argv[1]), log=lambda m: print(m, file=sys.stderr), owned=False)
        if argv[0] == "start":
            cluster.start()
            print(f"export SLURM_CONF={cluster.conf} PATH={cluster.root / 'bin'}:$PATH")
        else:
            cluster.stop()
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
