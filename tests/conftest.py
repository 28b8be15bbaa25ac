import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
sys.path.insert(0, str(Path(__file__).parent))
# CI (CI=true, as .ci/run's machine sets it): what may be skipped on a developer's machine fails there instead.
CI = os.environ.get("CI", "").lower() in ("true", "1", "yes")


@pytest.fixture(scope="session")
def config() -> dict:
    with open(REPO / "config" / "config.yaml") as fh:
        return yaml.safe_load(fh)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"shared data not found at {SHARED}: CI and developers have it beside the clone")
    return SHARED


def find_chromium() -> str | None:
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium. In CI it is installed here when missing (apt-get, as root) and its absence fails
    the test; elsewhere the test is skipped."""
    path = find_chromium()
    if path is None and CI and os.geteuid() == 0:
        env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env)
        path = find_chromium()
    if path is None:
        message = "Chromium not installed: apt-get install -y chromium (as root)"
        pytest.fail(message) if CI else pytest.skip(message)
    return path
