"""Snakemake workflow conventions: `snakemake --lint` finds nothing, and the Snakefile and rule files are
formatted by snakefmt (settings in pyproject.toml)."""

import os
import subprocess
import sys
from pathlib import Path

from conftest import REPO

SNAKEFMT = Path(sys.executable).with_name("snakefmt")


def test_snakemake_lint_finds_nothing():
    result = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], cwd=REPO, capture_output=True, text=True,
                            env=os.environ | {"PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Lints for" not in result.stdout + result.stderr
    assert "Congratulations, your workflow is in a good condition!" in result.stdout + result.stderr


def test_snakefile_and_rules_are_snakefmt_formatted():
    result = subprocess.run([str(SNAKEFMT), "--check", "--diff", "Snakefile", "workflow/rules"], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
