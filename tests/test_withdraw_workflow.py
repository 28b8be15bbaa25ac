"""Two patients withdraw consent: the next delivery lacks their DICOM, masks and table rows. The run removes
everything of theirs under results/ (with batch_digits 1: one was alone in its batch, which goes; the other
shared it, and the batch is rebuilt without them), the change report lists them as removed, and the other
patients' results stay as they were."""

import gzip
import hashlib
import shutil
from pathlib import Path

import pandas as pd
import pytest

from snakemake_runner import KEY, job_counts, snakemake, write_config
from spinestudy import pseudonym
from spinestudy.demo.cohort import generate

pytestmark = pytest.mark.workflow
# Pseudonyms under the test key: A0001 p9098..., alone in batch p9; A0003 p57b9... shares batch p5 with A0004.
WITHDRAWN = ["A0001", "A0003"]
STAGES = {"imaging", "clinical", "gradings"}


def texts(path: Path) -> list[str]:
    """What a result file says: its bytes (gzip: inflated) and, for parquet and Excel, every cell and name."""
    data = path.read_bytes()
    out = [(gzip.decompress(data) if path.suffix == ".gz" else data).decode("latin-1")]
    if path.suffix == ".parquet":
        out.append(pd.read_parquet(path).astype(str).to_csv())
    elif path.suffix == ".xlsx":
        out += [sheet.astype(str).to_csv() for sheet in pd.read_excel(path, sheet_name=None, dtype=str).values()]
    return out


def digests(folder: Path) -> dict[str, str]:
    return {hashlib.sha256(p.read_bytes()).hexdigest(): p.relative_to(folder).as_posix()
            for p in folder.rglob("*") if p.is_file()}


def withdraw_from_delivery(centre: Path, study_id: str) -> None:
    """Remove the patient's DICOM folder, mask and every table row (clinical, gradings, other reads)."""
    shutil.rmtree(centre / "dicom" / study_id)
    (centre / "masks" / f"{study_id}.nii.gz").unlink()
    for table in centre.glob("*.csv"):
        rows = pd.read_csv(table, dtype=str, keep_default_na=False)
        assert study_id in set(rows["study_id"]), table
        rows[rows["study_id"] != study_id].to_csv(table, index=False)


def test_withdrawn_patients_leave_nothing_under_results(tmp_path, config):
    cohort, work = tmp_path / "cohort", tmp_path / "work"
    generate(cohort, patients=8, centres=["A", "B"], seed=5, jobs=2)
    work.mkdir()
    write_config(work, config, cohort, ["A", "B"], batch_digits=1)
    snakemake(work)
    key = KEY["SPINESTUDY_PSEUDONYM_KEY"].encode()
    gone = {pseudonym.patient(key, "A", study_id): study_id for study_id in WITHDRAWN}
    assert {p[:2] for p in gone} == {"p9", "p5"}
    shared = next(p for p in gone if p[:2] == "p5")
    assert shared in {p.name for p in (work / "results/ingest/volumes/A/p5").iterdir()}
    theirs = {d: f for d, f in digests(work / "results").items()
              if any(f.startswith(f"ingest/volumes/A/{p[:2]}/{p}/") for p in gone)}
    assert len(theirs) >= 4  # their T1, T2, STIR volumes
    before = {name: pd.read_parquet(work / "results" / name) for name in ("radiomics/features.parquet",
                                                                          "tables/analysis.parquet")}

    for study_id in WITHDRAWN:
        withdraw_from_delivery(cohort / "A", study_id)
    counts = job_counts(snakemake(work))
    batch_jobs = ("withdraw", "ingest_batch", "radiomics_batch", "radiomics_robustness_batch")
    assert {rule: counts.get(rule) for rule in batch_jobs} == dict.fromkeys(batch_jobs, 1)  # batch p5's, rebuilt
    assert "Nothing to be done" in snakemake(work, "--dry-run")

    # Nothing of theirs under results/: no file named after them, none naming them, none holding their volumes.
    assert not {d: f for d, f in digests(work / "results").items() if d in theirs}
    assert not (work / "results/ingest/batches/A/p9.parquet").exists()
    assert not (work / "results/ingest/volumes/A/p9").exists()
    named = {}
    for path in sorted(p for p in (work / "results").rglob("*") if p.is_file()):
        assert not any(p in path.as_posix() or s in path.as_posix() for p, s in gone.items()), path
        found = {word for text in texts(path) for word in (*gone, *gone.values()) if word in text}
        if found:
            named[path.relative_to(work / "results").as_posix()] = found
    changes = pd.read_csv(work / "results/provenance/changes.csv", dtype=str, keep_default_na=False)
    stored = sorted(k for k in named if k.startswith("provenance/versions/"))
    assert set(named) == {"provenance/changes.csv", *stored} and len(stored) == 1  # the record of their removal
    assert all(found <= set(gone) for found in named.values())  # pseudonyms only, never the study id
    old = pd.read_csv(work / "results" / stored[0], dtype=str)
    assert set(old.loc[old.patient.isin(gone), "digest"]) == {"withdrawn"}  # no digest of their data is kept
    patients = changes[changes.kind == "patient"]
    assert sorted(zip(patients.patient, patients.stage, patients.change, patients.old)) == sorted(
        (p, s, "removed", "withdrawn") for p in gone for s in STAGES)

    # Locally, under logs/: the ledger and the withdraw log name them by pseudonym; no lookup or job log of
    # theirs (those name the files of their folder) remains.
    ledger = pd.read_csv(work / "logs/withdraw/patients.csv", dtype=str)
    assert set(ledger.loc[ledger.status == "withdrawn", "patient"]) == set(gone)
    assert (ledger.status == "delivered").sum() == 6
    assert all(p in (work / "logs/withdraw.log").read_text() for p in gone)
    for path in (p for p in (work / "logs").rglob("*") if p.is_file()):
        assert not any(s in path.read_text(encoding="latin-1") for s in gone.values()), path
    assert not (work / "logs/ingest/files/A/p9.csv").exists()

    # The others' results are unchanged: the tables without their rows.
    for name, table in before.items():
        after = pd.read_parquet(work / "results" / name)
        expected = table[~table.patient.isin(gone)].reset_index(drop=True)
        pd.testing.assert_frame_equal(after.reset_index(drop=True), expected, check_dtype=False)
