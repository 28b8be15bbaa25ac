"""A new centre's data arrive: only its own jobs and the aggregates rerun, and the result equals a
from-scratch run on all centres (made with one batch per centre, so it also checks batching; and killed
mid-way with SIGKILL and resumed as `make run` does, so it also checks resuming)."""

import hashlib
import os
import signal
import subprocess
import sys
import time
from base64 import urlsafe_b64encode
from pathlib import Path

import pandas as pd
import pytest

from snakemake_runner import (
    AFTER_TABLES,
    HTML_ONLY,
    KEY,
    RADIOMICS_MERGES,
    command,
    job_counts,
    snakemake,
    write_config,
)
from spinestudy.demo.cohort import generate
from spinestudy.unlock import snakemake_processes

pytestmark = pytest.mark.workflow
FINAL = ["ingest/series_index.parquet", "radiomics/features.parquet", "tables/analysis.parquet",
         "tables/gradings_long.parquet", "tables/flow.csv", "stats/table1.csv", "stats/prevalence_by_decade.csv",
         "stats/associations.csv", "radiomics_stats/shape_by_modic.csv", "radiomics_stats/icc.csv"]


def state(folder: Path) -> dict[str, tuple[str, int]]:
    return {p.relative_to(folder).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def read(path: Path) -> pd.DataFrame:
    """A final table; volume paths without their batch folder (volumes/A/<batch>/<patient>/T2.nii.gz)."""
    table = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    if "volume" in table:
        table["volume"] = table.volume.str.replace(r"/p[0-9a-f]{0,12}/(?=p[0-9a-f]{12}/)", "/", regex=True)
    return table


def interrupt(workdir: Path) -> None:
    """Start a run and SIGKILL it, jobs and all, once one ingestion batch is done and another half-written."""
    run = subprocess.Popen(command(workdir), env=os.environ | KEY | HTML_ONLY, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 600

    def marked_incomplete(path: str) -> bool:
        return (workdir / ".snakemake/incomplete" / urlsafe_b64encode(path.encode()).decode()).exists()

    def midway() -> bool:
        """Some batch's job has finished (index written, Snakemake's incomplete mark gone) and another has not."""
        started = [f"results/ingest/batches/{p.parent.name}/{p.name}.parquet"
                   for p in workdir.glob("results/ingest/volumes/*/*")]
        running = [f for f in started if marked_incomplete(f) or not (workdir / f).exists()]
        return 0 < len(running) < len(started)

    while not midway():
        assert run.poll() is None and time.monotonic() < deadline, "the run ended before it was interrupted"
        time.sleep(0.05)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    while snakemake_processes(workdir) and time.monotonic() < deadline:  # its jobs, until they are gone
        time.sleep(0.05)


def test_new_centre_reruns_only_its_jobs_and_matches_a_fresh_run(tmp_path, config):
    cohort = tmp_path / "cohort"
    generate(cohort, patients=6, centres=["A", "B", "C"], seed=5, jobs=2)
    incremental, scratch = tmp_path / "incremental", tmp_path / "scratch"
    incremental.mkdir(), scratch.mkdir()

    write_config(incremental, config, cohort, ["A", "B"])
    snakemake(incremental)
    per_patient = {stage: state(incremental / "results" / stage)
                   for stage in ("ingest/batches", "ingest/volumes/A", "ingest/volumes/B", "radiomics/A", "radiomics/B")}

    write_config(incremental, config, cohort, ["A", "B", "C"])
    counts = job_counts(snakemake(incremental))
    assert counts == {"ingest_batch": 2, "radiomics_batch": 2, "radiomics_robustness_batch": 2, "withdraw": 1,
                      "series_index": 1, "ingest_exclusions": 1, "icc": 1} | RADIOMICS_MERGES | AFTER_TABLES
    for stage, before in per_patient.items():
        after = state(incremental / "results" / stage)
        assert {k: v for k, v in after.items() if k in before} == before, stage
    assert "Nothing to be done" in snakemake(incremental, "--dry-run")
    changes = pd.read_csv(incremental / "results/provenance/changes.csv", dtype=str, keep_default_na=False)
    patients = changes[changes["kind"] == "patient"]
    assert set(patients["centre"]) == {"C"} and set(patients["change"]) == {"added"}
    assert set(patients["stage"]) == {"imaging", "clinical", "gradings"} and patients["patient"].nunique() == 2
    assert (changes["kind"] == "number").any()

    write_config(scratch, config, cohort, ["A", "B", "C"], batch_digits=0)
    interrupt(scratch)
    assert any((scratch / ".snakemake/locks").iterdir()) and any((scratch / ".snakemake/incomplete").iterdir())
    unlock = subprocess.run([sys.executable, "-m", "spinestudy.unlock"], cwd=scratch, capture_output=True, text=True)
    assert unlock.stdout.startswith("removed the lock an interrupted Snakemake run left in"), unlock.stderr
    assert 1 <= job_counts(snakemake(scratch))["ingest_batch"] <= 2  # the finished batch stays, the killed one reruns
    assert len(list(scratch.glob("results/ingest/batches/*/*.parquet"))) == 3
    for name in FINAL:
        pd.testing.assert_frame_equal(read(incremental / "results" / name), read(scratch / "results" / name))
        if name != "ingest/series_index.parquet":  # its volume paths name the batch
            assert (incremental / "results" / name).read_bytes() == (scratch / "results" / name).read_bytes(), name
    assert read(scratch / "results/tables/analysis.parquet").centre.tolist().count("C") == 2
