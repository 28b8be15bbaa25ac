"""The workflow under real SLURM (`--workflow-profile profiles/slurm`) on a one-node cluster on localhost.

Installs Debian's slurm-wlm and munge when missing (root + apt-get), starts munged, slurmctld and
slurmd by hand (tests/slurm/cluster.py), runs the demo workflow through `--executor slurm` and checks
that its results equal a local run's. Skipped only where SLURM cannot be installed (not root, no
apt-get); with CI=true that is a failure instead. See tests/slurm/README.md.
"""

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import cluster as slurm
import pandas as pd
import pytest
import yaml
from conftest import CI, REPO
from snakemake_runner import HTML_ONLY

pytestmark = pytest.mark.workflow

PROFILE = REPO / "profiles" / "slurm"
PATIENTS = 4  # with images (A and B); 4 more tables-only patients in centre C
KEY = {"SPINESTUDY_PSEUDONYM_KEY": "slurm-test-key"}
# Longest a workflow run may take before the test gives up (a hung status check must fail, not hang CI).
RUN_TIMEOUT = 900
QUICK_RADIOMICS = "config/radiomics/mr_quick.yaml"

TIMINGS: dict[str, float] = {}


def report(request, line: str) -> None:
    """Write a line to the terminal even while pytest captures output (timings belong in CI logs)."""
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    terminal = request.config.pluginmanager.get_plugin("terminalreporter")
    if capture is None or terminal is None:
        print(f"[slurm] {line}", file=sys.stderr)
        return
    with capture.global_and_fixture_disabled():
        terminal.write_line(f"\n[slurm] {line}")


@pytest.fixture(scope="module")
def cluster(request):
    reason = slurm.install_reason_to_skip()
    if reason:
        if CI:
            pytest.fail(f"CI=true, so the SLURM test may not be skipped: {reason}")
        pytest.skip(reason)
    log = lambda line: report(request, line)  # noqa: E731
    TIMINGS["apt-get install"] = slurm.install(log=log)
    c = slurm.Cluster.temporary(log=log)
    try:
        TIMINGS["cluster start"] = c.start()
        yield c
    finally:
        began = time.monotonic()
        c.stop(remove=True)
        TIMINGS["cluster stop"] = time.monotonic() - began
        report(request, "timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in TIMINGS.items()))


def snakemake(workdir: Path, *args: str, env: dict, timeout: float = RUN_TIMEOUT) -> str:
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
           "--directory", str(workdir), "--configfile", str(workdir / "config.yaml"), *args]
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, env=env | KEY, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = (e.stderr or b"").decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        pytest.fail(f"snakemake did not finish in {timeout} s: {' '.join(args)}\n{out[-3000:]}{err[-5000:]}")
    assert result.returncode == 0, f"{' '.join(args)}\n{result.stdout[-3000:]}{result.stderr[-8000:]}"
    return result.stdout + result.stderr


def make_workdir(root: Path, config: dict) -> Path:
    """A workdir laid out like the repository: its config/ (parameter files the config names) and a small cohort."""
    root.mkdir(parents=True)
    shutil.copytree(REPO / "config", root / "config")
    cfg = config | {"demo": {"out": "resources/demo", "patients": 2 * PATIENTS, "imaging_patients": PATIENTS,
                              "seed": 11}}
    if "radiomics" in cfg and (root / QUICK_RADIOMICS).is_file():  # as tests/test_workflow.py: fewer features
        cfg["radiomics"] = cfg["radiomics"] | {"params": QUICK_RADIOMICS}
    (root / "config.yaml").write_text(yaml.safe_dump(cfg))
    return root


@pytest.fixture(scope="module")
def runs(cluster, tmp_path_factory, config, request) -> dict:
    base = tmp_path_factory.mktemp("slurm-workflow")
    local, remote = make_workdir(base / "local", config), make_workdir(base / "slurm", config)

    began = time.monotonic()
    snakemake(local, "--cores", "2", env=os.environ | HTML_ONLY)
    TIMINGS["workflow local (--cores 2)"] = time.monotonic() - began

    began = time.monotonic()
    try:
        log = snakemake(remote, "--workflow-profile", str(PROFILE), env=cluster.env | HTML_ONLY)
    except BaseException:
        report(request, "daemon logs:\n" + cluster.logs())
        raise
    TIMINGS["workflow under SLURM"] = time.monotonic() - began
    return {"local": local, "slurm": remote, "log": log}


def test_root_job_sees_the_venv_and_the_environment(cluster, tmp_path):
    """A batch job submitted as root runs, as root, and finds this interpreter and the caller's variables."""
    out = tmp_path / "job.out"
    script = (f"{sys.executable} -c 'import os, sys, snakemake, spinestudy; "
              f"print(os.getuid(), sys.executable, os.environ.get(\"SPINESTUDY_PSEUDONYM_KEY\"))'")
    result = subprocess.run(["sbatch", "--wait", "--parsable", "--export=ALL", "--mem", "500", "-t", "2",
                             "--output", str(out), "--wrap", script],
                            capture_output=True, text=True, env=cluster.env | KEY, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr + cluster.logs()
    assert out.read_text().split() == ["0", sys.executable, KEY["SPINESTUDY_PSEUDONYM_KEY"]]


def frames(root: Path) -> dict[str, pd.DataFrame]:
    found = {}
    for path in sorted((root / "results").rglob("*")):
        if path.suffix == ".parquet":
            frame = pd.read_parquet(path)
        elif path.suffix == ".csv":
            frame = pd.read_csv(path, keep_default_na=False)
        else:
            continue
        found[str(path.relative_to(root))] = frame
    return found


def test_slurm_results_equal_local_results(runs):
    local, remote = frames(runs["local"]), frames(runs["slurm"])
    assert "results/ingest/series_index.parquet" in local
    assert any(name.startswith("results/tables/") for name in local)
    assert sorted(remote) == sorted(local)
    for name, frame in local.items():
        pd.testing.assert_frame_equal(remote[name], frame, obj=name)
    files = lambda root: sorted(str(p.relative_to(root)) for p in (root / "results").rglob("*") if p.is_file())  # noqa: E731
    assert files(runs["slurm"]) == files(runs["local"])
    index = pd.read_parquet(runs["slurm"] / "results/ingest/series_index.parquet")
    assert index.patient.nunique() == PATIENTS


@pytest.fixture(scope="module")
def slurm_jobs(runs, cluster) -> list[dict]:
    """The run's jobs as slurmctld knows them (MinJobAge keeps finished jobs listed)."""
    run_id = re.search(r"SLURM run ID: (\S+)", runs["log"])[1]
    out = subprocess.run(["squeue", "--states=all", "--noheader", "--name", run_id, "--format=%i|%T|%m|%l|%k"],
                         capture_output=True, text=True, env=cluster.env, check=True).stdout
    jobs = []
    for line in out.split():
        jobid, state, memory, limit, comment = line.split("|")
        rule = re.fullmatch(r"rule_(\w+?)(?:_wildcards_.*)?", comment)[1]
        jobs.append({"id": jobid, "state": state, "memory": memory, "time_limit": limit, "rule": rule})
    return jobs


def test_every_job_went_through_slurm_and_completed(runs, slurm_jobs):
    log = runs["log"]
    submitted = re.findall(r"has been submitted with SLURM jobid (\d+)", log)
    finished = re.findall(r"Finished jobid: \d+ \(Rule: (\w+)\)", log)
    # every job but the target rule `all` (no output, run by Snakemake itself) was an sbatch job
    assert len(submitted) == len([r for r in finished if r != "all"]) > PATIENTS
    assert sorted(j["id"] for j in slurm_jobs) == sorted(submitted)
    assert {j["state"] for j in slurm_jobs} == {"COMPLETED"}, slurm_jobs
    assert sorted(j["rule"] for j in slurm_jobs) == sorted(r for r in finished if r != "all")
    # status came from slurmctld (squeue), never from the disabled accounting database
    assert "Falling back to 'sacct'" not in log


def test_no_rerun_after_a_slurm_run_locally_or_on_the_cluster(runs, cluster):
    """The slurm and default profiles share rerun triggers: switching between them reruns nothing."""
    assert "Nothing to be done" in snakemake(runs["slurm"], "--workflow-profile", str(PROFILE), "--dry-run",
                                             env=cluster.env | HTML_ONLY)
    assert "Nothing to be done" in snakemake(runs["slurm"], "--cores", "2", "--dry-run", env=os.environ | HTML_ONLY)


def test_every_job_asks_for_memory_and_runtime(slurm_jobs):
    """Rules declare mem_mb and runtime: without them a job is submitted with no --mem (it takes a whole
    node's memory) and no -t (the partition's time limit)."""
    without = {}
    for job in slurm_jobs:
        missing = [r for r, unset in (("mem_mb", job["memory"] == "0"), ("runtime", job["time_limit"] == "UNLIMITED")) if unset]
        if missing:
            without[job["rule"]] = missing
    assert not without, f"rules submitted without these resources: {without}"
