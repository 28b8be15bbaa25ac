"""Run the workflow in a scratch working directory, as a user would, and read Snakemake's own job counts."""

import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import REPO

SNAKEMAKE = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--cores", "2"]
KEY = {"SPINESTUDY_PSEUDONYM_KEY": "workflow-test-key"}


def snakemake(workdir: Path, *args: str, config: str = "config.yaml") -> str:
    """Run Snakemake in workdir with workdir/config; fail the test with its log tail if it fails."""
    result = subprocess.run(
        SNAKEMAKE + ["--directory", str(workdir), "--configfile", str(workdir / config), *args],
        capture_output=True, text=True, env=os.environ | KEY,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return result.stdout + result.stderr


def job_counts(log: str) -> dict[str, int]:
    """Snakemake's own 'Job stats' table: rule -> number of jobs."""
    table = log.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.MULTILINE) if m[1] != "total"}
