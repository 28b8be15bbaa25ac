"""The demo cohort as a whole: deterministic, complete, with its truth, PHI list and planted defects."""

import hashlib
import json
import subprocess
import sys

import pandas as pd
import pydicom
import pytest
import SimpleITK as sitk
import yaml

from spinestudy.anatomy import label_table
from spinestudy.demo.cohort import generate


def digest(path):
    """sha256 of a file; of its cell values for XLSX, whose zip entries carry the time of writing."""
    if path.suffix == ".xlsx":
        data = pd.read_excel(path, sheet_name=None, header=None).__repr__().encode()
    else:
        data = path.read_bytes()
    return hashlib.sha256(data).hexdigest()


def digests(root):
    return {p.relative_to(root).as_posix(): digest(p) for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    generate(out, patients=6, centres=["A", "B", "C"], seed=11, jobs=2)
    return out


def test_same_seed_gives_identical_files(cohort, tmp_path):
    generate(tmp_path, patients=6, centres=["A", "B", "C"], seed=11, jobs=1)
    assert digests(tmp_path) == digests(cohort)


def test_layout_manifest_and_truth(cohort):
    manifest = json.loads((cohort / "manifest.json").read_text())
    assert {c: len(ids) for c, ids in manifest["patients"].items()} == {"A": 2, "B": 2, "C": 2}
    for centre, ids in manifest["patients"].items():
        for study_id in ids:
            assert (cohort / centre / "dicom" / study_id).is_dir()
            mask = sitk.ReadImage(str(cohort / centre / "masks" / f"{study_id}.nii.gz"))
            assert {1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15} <= set(sitk.GetArrayViewFromImage(mask).ravel())
        assert manifest["tables"][centre] and all((cohort / p).is_file() for p in manifest["tables"][centre].values())
    truth = yaml.safe_load((cohort / "truth.yaml").read_text())
    assert truth["parameters"] == {"patients": 6, "centres": ["A", "B", "C"], "seed": 11}
    assert {"tables", "agreement", "shapes", "ingest_defects"} <= set(truth)
    assert {"gradings_reader2", "gradings_repeat"} <= set(manifest["tables"]["B"])  # B_MRI_reader2.xlsx, ...
    assert yaml.safe_load((cohort / "labels.yaml").read_text())["labels"] == label_table()


def test_phi_list_matches_the_headers(cohort):
    phi = pd.read_csv(cohort / "phi.csv", dtype=str)
    assert len(phi) == 6 and phi.PatientName.str.contains(r"\^").all()
    row = phi.iloc[0]
    first = next(p for p in sorted((cohort / row.centre / "dicom" / row.study_id).rglob("*")) if p.is_file())
    ds = pydicom.dcmread(first, stop_before_pixels=True)
    assert (str(ds.PatientName), ds.PatientID, ds.PatientBirthDate) == (row.PatientName, row.PatientID,
                                                                         row.PatientBirthDate)


def test_cli_tables_only(tmp_path):
    subprocess.run([sys.executable, "-m", "spinestudy.cli", "demo", "--out", str(tmp_path), "--patients", "50",
                    "--centres", "4", "--seed", "3", "--tables-only"], check=True, capture_output=True)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["parameters"]["images"] is False
    assert sum(len(v) for v in manifest["patients"].values()) == 50
    assert not any(tmp_path.rglob("*.dcm"))


def test_no_imaging_centre_gives_a_tables_only_cohort(tmp_path):
    """As the workflow calls it when no centre has dicom or images (issue 23): tables for every patient, no
    DICOM, no masks, no PHI list, an empty imaging list."""
    manifest = json.loads(generate(tmp_path, patients=12, centres=["A", "B", "C"], seed=3,
                                   imaging_centres=[]).read_text())
    assert manifest["imaging"] == {} and manifest["parameters"]["imaging_patients"] == 0
    assert {c: len(p) for c, p in manifest["patients"].items()} == {"A": 4, "B": 4, "C": 4}
    assert not any(tmp_path.glob("*/dicom")) and not any(tmp_path.glob("*/masks"))
    assert not (tmp_path / "phi.csv").exists()
    for centre, files in manifest["tables"].items():
        assert all((tmp_path / path).is_file() for path in files.values()), centre


def test_cli_rejects_unknown_centre_count(tmp_path):
    result = subprocess.run([sys.executable, "-m", "spinestudy.cli", "demo", "--out", str(tmp_path),
                             "--centres", "9"], capture_output=True, text=True)
    assert result.returncode != 0 and "--centres must be 1..4" in result.stderr
