"""spinestudy.unlock: an interrupted run's lock goes, unless a Snakemake process runs in the directory.
(tests/test_refresh.py kills a real run and resumes it.)"""

import subprocess
import sys
import time
from pathlib import Path

from spinestudy.unlock import release, snakemake_processes


def locked(directory):
    locks = directory / ".snakemake/locks"
    locks.mkdir(parents=True)
    (locks / "0.input.lock").write_text("/data/a.dcm\n")
    (locks / "0.output.lock").write_text("results/ingest/series_index.parquet\n")
    return locks


def started(process: subprocess.Popen) -> subprocess.Popen:
    """The process once it runs its own command line (right after fork, /proc shows the parent's)."""
    deadline = time.monotonic() + 30
    while b"snakemake" not in Path(f"/proc/{process.pid}/cmdline").read_bytes():
        assert time.monotonic() < deadline, "the test process did not start"
        time.sleep(0.05)
    return process


def test_lock_of_an_interrupted_run_is_removed(tmp_path):
    locks = locked(tmp_path)
    assert release(tmp_path).startswith("removed the lock an interrupted Snakemake run left in")
    assert not locks.exists() and (tmp_path / ".snakemake").is_dir()
    assert release(tmp_path) is None


def test_lock_stays_while_snakemake_runs_in_the_directory(tmp_path):
    locks = locked(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    sleep = [sys.executable, "-c", "import time; time.sleep(60)", "snakemake", "--cores", "2"]
    here = started(subprocess.Popen(sleep, cwd=tmp_path))
    other = started(subprocess.Popen(sleep, cwd=elsewhere))
    try:
        assert snakemake_processes(tmp_path) == [here.pid]
        assert snakemake_processes(elsewhere) == [other.pid]
        message = release(tmp_path)
        assert f"Snakemake runs there (pid {here.pid})" in message and len(message.splitlines()) == 1
        assert sorted(p.name for p in locks.iterdir()) == ["0.input.lock", "0.output.lock"]
    finally:
        here.kill(), other.kill()
        here.wait(), other.wait()
    assert release(tmp_path).startswith("removed")
