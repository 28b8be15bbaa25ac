"""What built the results: git commit, a hash of the config as used, Python and key package versions, date."""

import hashlib
import json
import os
import platform
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ["numpy", "scipy", "pandas", "pyarrow", "pydicom", "SimpleITK", "highdicom", "pyradiomics",
            "PyWavelets", "scikit-learn", "statsmodels", "scikit-posthocs", "pingouin", "pandera", "plotly",
            "kaleido", "openpyxl", "snakemake"]


def provenance(config: dict, commit: str | None = None, date: str | None = None) -> dict:
    """Git commit, config hash, Python and key package versions, date. commit and date are injectable;
    the date otherwise honours SOURCE_DATE_EPOCH (reproducible builds), then today (UTC)."""
    if commit is None:
        commit = git("rev-parse", "HEAD") or "unknown (not a git checkout)"
        if git("status", "--porcelain", "--untracked-files=no"):
            commit += " (with uncommitted changes)"
    if date is None:
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        date = (datetime.fromtimestamp(int(epoch), timezone.utc) if epoch else datetime.now(timezone.utc)).date().isoformat()
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    config_hash = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()
    return {"commit": commit, "config_sha256": config_hash, "date": date,
            "python": platform.python_version(), "packages": versions}


def git(*args: str) -> str:
    """Output of a git command in the repository, or "" where git or the checkout is missing."""
    try:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""
