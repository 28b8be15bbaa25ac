"""DICOM ingestion on real files: a corpus of broken inputs, PHI, and the real STS_002 MR series."""

import gzip
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
import pytest
import SimpleITK as sitk
from pydicom.uid import generate_uid

from dicom_factory import write_series
from spinestudy import pseudonym
from spinestudy.demo.dicom import CENTRE_PROFILES, LOCALIZER
from spinestudy.ingest.job import ingest_batch, ingest_patient
from spinestudy.ingest.sequences import classify, classifying_words
from spinestudy.ingest.sources import label

KEY = b"test-key-123"
PATIENT = "p0123456789ab"


def run(folder: Path, out: Path, cfg: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    ingest_patient(folder, "A", PATIENT, cfg, KEY, out / "index.parquet", out / "excl.csv", out / "vol")
    return pd.read_parquet(out / "index.parquet"), pd.read_csv(out / "excl.csv", keep_default_na=False)


@pytest.fixture
def cfg(config):
    return config["ingest"]


def named(rel: str, instance: int | None = None, patient: str = PATIENT) -> str:
    """How outputs name a file under the patient folder (keyed label), or the slice it holds."""
    tag = label(KEY, patient, rel)
    return tag if instance is None else f"instance {instance} ({tag})"


def only_series(index: pd.DataFrame) -> pd.Series:
    assert len(index) == 1, index
    return index.iloc[0]


def test_batch_writes_what_its_patients_write_one_by_one(tmp_path, cfg):
    folders = {"p0123456789ab": tmp_path / "in/A0001", "p00000000000c": tmp_path / "in/A0002"}
    write_series(folders["p0123456789ab"], n=6, seed=1)
    write_series(folders["p00000000000c"], n=5, seed=2, patient_id="MRN2")
    (folders["p00000000000c"] / "notes.txt").write_text("scanner notes")
    ingest_batch(folders, "A", cfg, KEY, tmp_path / "batch.parquet", tmp_path / "batch.csv", tmp_path / "vol")
    index = pd.read_parquet(tmp_path / "batch.parquet")
    log = pd.read_csv(tmp_path / "batch.csv", keep_default_na=False)

    singles, logs = [], []
    for patient, folder in folders.items():
        out = tmp_path / "single" / patient
        out.mkdir(parents=True)
        ingest_patient(folder, "A", patient, cfg, KEY, out / "index.parquet", out / "excl.csv", out / "vol")
        singles.append(pd.read_parquet(out / "index.parquet"))
        logs.append(pd.read_csv(out / "excl.csv", keep_default_na=False))
    expected = pd.concat(singles).sort_values("patient", kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(index.drop(columns="volume"), expected.drop(columns="volume"))
    assert index.volume.tolist() == [(tmp_path / "vol" / p / "T2.nii.gz").as_posix() for p in index.patient]
    assert all(Path(v).is_file() for v in index.volume)
    pd.testing.assert_frame_equal(log, pd.concat(logs, ignore_index=True), check_dtype=False)
    assert log.item.tolist() == [named("notes.txt", patient="p00000000000c")]


def test_valid_series_becomes_a_volume(tmp_path, cfg):
    paths = write_series(tmp_path / "in" / "A0001", n=6)
    index, excl = run(tmp_path / "in" / "A0001", tmp_path, cfg)
    row = only_series(index)
    assert (row.status, row.sequence, row.orientation, row.n_slices) == ("volume", "T2", "SAG", 6)
    assert row.slice_spacing == pytest.approx(4.0)
    assert excl.empty
    image = sitk.ReadImage(str(tmp_path / "vol" / "T2.nii.gz"))
    assert image.GetSize() == (8, 8, 6)
    assert image.GetSpacing() == pytest.approx((0.9, 0.9, 4.0))
    # voxel values survive: slice k of the volume is the k-th slice along the normal
    first = pydicom.dcmread(paths[0]).pixel_array
    assert np.array_equal(sitk.GetArrayFromImage(image)[0], first)


def reason_of(index: pd.DataFrame, excl: pd.DataFrame) -> str:
    row = only_series(index)
    assert row.status == "excluded"
    assert row.reason in " ".join(excl.reason)
    return row.reason


def test_truncated_file(tmp_path, cfg):
    paths = write_series(tmp_path / "p", n=5)
    data = paths[2].read_bytes()
    paths[2].write_bytes(data[: len(data) - 50])
    index, excl = run(tmp_path / "p", tmp_path, cfg)
    assert "truncated file: PixelData (7FE0,0010) declares 128 bytes, the file holds 78" in excl.reason.tolist()
    assert excl.item.tolist().count(named(paths[2].name)) == 1
    assert "unusable pixel data" in reason_of(index, excl)
    assert not (tmp_path / "vol" / "T2.nii.gz").exists()


def test_non_dicom_file_in_tree(tmp_path, cfg):
    write_series(tmp_path / "p" / "series1", n=4)
    (tmp_path / "p" / "notes.txt").write_text("scanner notes")
    index, excl = run(tmp_path / "p", tmp_path, cfg)
    assert only_series(index).status == "volume"
    hit = excl[excl.item == named("notes.txt")]
    assert hit.reason.tolist() == ["not a DICOM file (no 'DICM' prefix at byte 128) and no DICOM dataset without the preamble"]


def test_missing_slice(tmp_path, cfg):
    paths = write_series(tmp_path / "p", n=6)
    paths[3].unlink()
    reason = reason_of(*run(tmp_path / "p", tmp_path, cfg))
    assert reason.startswith(f"missing slice(s): about 1: gap of 8.000 mm between {named('IM0002.dcm', 3)} and "
                             f"{named('IM0004.dcm', 5)}")
    assert "expected 4.000 mm" in reason


def test_duplicated_slice(tmp_path, cfg):
    paths = write_series(tmp_path / "p", n=5)
    ds = pydicom.dcmread(paths[1])
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.save_as(tmp_path / "p" / "copy.dcm")
    reason = reason_of(*run(tmp_path / "p", tmp_path, cfg))
    assert reason.startswith("duplicate slice position")
    assert named("IM0001.dcm", 2) in reason and named("copy.dcm", 2) in reason


def test_two_series_in_one_folder_are_split(tmp_path, cfg):
    study = generate_uid()
    write_series(tmp_path / "p", n=5, description="t2_tse_sag", prefix="A", study_uid=study)
    write_series(tmp_path / "p", n=7, description="t1_tse_sag", prefix="B", study_uid=study,
                 RepetitionTime=500, EchoTime=10)
    index, excl = run(tmp_path / "p", tmp_path, cfg)
    assert sorted(zip(index.sequence, index.n_slices, index.status)) == [("T1", 7, "volume"), ("T2", 5, "volume")]
    assert index.series_uid.nunique() == 2 and index.study_uid.nunique() == 1
    assert sitk.ReadImage(str(tmp_path / "vol" / "T1.nii.gz")).GetSize()[2] == 7
    assert excl.empty


def test_second_series_of_a_class_is_not_used_and_logged(tmp_path, cfg):
    """Without acquisition times the series number decides: by default the higher (the later series)."""
    write_series(tmp_path / "p", n=5, prefix="A", SeriesNumber=3)
    write_series(tmp_path / "p", n=5, prefix="B", SeriesNumber=9)
    index, excl = run(tmp_path / "p", tmp_path, cfg)
    assert sorted(index.status) == ["not used", "volume"]
    assert index.set_index("series_number").loc[9, "status"] == "volume"
    assert excl.reason.tolist() == ["not used: another T2 series was chosen (series number 9: the higher series "
                                    "number, not every series has an acquisition time; config "
                                    "ingest.series_choice: latest)"]


def test_mixed_orientation(tmp_path, cfg):
    paths = write_series(tmp_path / "p", n=5)
    ds = pydicom.dcmread(paths[4])
    ds.ImageOrientationPatient = [0.0, 0.9, 0.43589, 0.0, 0.43589, -0.9]
    ds.save_as(paths[4])
    reason = reason_of(*run(tmp_path / "p", tmp_path, cfg))
    assert reason.startswith("ImageOrientationPatient differs within the series")
    assert named("IM0004.dcm", 5) in reason
    assert "[0.0, 0.9, 0.43589, 0.0, 0.43589, -0.9]" in reason and "[0.0, 1.0, 0.0, 0.0, 0.0, -1.0]" in reason


def test_missing_pixel_spacing(tmp_path, cfg):
    paths = write_series(tmp_path / "p", n=5)
    ds = pydicom.dcmread(paths[2])
    del ds.PixelSpacing
    ds.save_as(paths[2])
    reason = reason_of(*run(tmp_path / "p", tmp_path, cfg))
    assert reason == f"missing PixelSpacing (0028,0030) in 1 slice(s), e.g. {named('IM0002.dcm', 3)}"


def test_wrong_modality(tmp_path, cfg):
    write_series(tmp_path / "p", n=4, Modality="CT")
    reason = reason_of(*run(tmp_path / "p", tmp_path, cfg))
    assert reason == "Modality (0008,0060) is 'CT', expected 'MR'"


def test_foreign_patient_series_is_excluded(tmp_path, cfg):
    write_series(tmp_path / "p", n=5, prefix="A", patient_id="MRN1", description="t2_tse_sag")
    write_series(tmp_path / "p", n=5, prefix="B", patient_id="MRN1", description="t1_tse_sag")
    write_series(tmp_path / "p", n=5, prefix="C", patient_id="MRN2", description="stir_sag")
    index, excl = run(tmp_path / "p", tmp_path, cfg)
    stir = index.set_index("sequence").loc["STIR"]
    assert stir.status == "excluded"
    foreign, own = (pseudonym.patient(KEY, "A", i) for i in ("MRN2", "MRN1"))
    assert stir.reason == (f"PatientID (0010,0020) {foreign} is not the folder's patient (PatientID {own} holds "
                           "2 of 3 series (majority 66%))")
    assert (index.set_index("sequence").loc[["T1", "T2"], "status"] == "volume").all()


def test_other_orientation_and_class_are_logged_not_used(tmp_path, cfg):
    write_series(tmp_path / "p", n=3, description="localizer", prefix="L")
    write_series(tmp_path / "p", n=5, description="t2_tse_tra", prefix="X", iop=[1, 0, 0, 0, 1, 0])
    index, excl = run(tmp_path / "p", tmp_path, cfg)
    assert sorted(zip(index.sequence, index.orientation, index.status)) == [
        ("T2", "AX", "not used"), ("other", "SAG", "not used")]
    assert len(excl) == 2 and all("not among the configured T1/T2/STIR SAG series" in r for r in excl.reason)


def test_sequence_classification_by_timing_when_description_says_nothing(tmp_path, cfg):
    write_series(tmp_path / "p", n=4, description="sag 3", prefix="A", RepetitionTime=550, EchoTime=12)
    write_series(tmp_path / "p", n=4, description="sag 4", prefix="B", ScanningSequence="IR",
                 InversionTime=150, RepetitionTime=4000, EchoTime=60)
    index, _ = run(tmp_path / "p", tmp_path, cfg)
    assert sorted(index.sequence) == ["STIR", "T1"]


DEMO_DESCRIPTIONS = sorted({p["SeriesDescription"] for profile in CENTRE_PROFILES.values()
                           for p in profile["protocols"].values()} | {LOCALIZER["protocol"]["SeriesDescription"]})


def test_demo_descriptions_reach_the_index_as_written(cfg):
    """Every word of the demo centres' protocol names tells the class: the index shows them as written, so the
    demo's outputs stay as they were."""
    assert len(DEMO_DESCRIPTIONS) == 13
    assert {d: classifying_words(d, cfg["sequence_rules"]) for d in DEMO_DESCRIPTIONS} == {
        d: d for d in DEMO_DESCRIPTIONS}


def _described(text: str) -> pydicom.Dataset:
    ds = pydicom.Dataset()
    ds.SeriesDescription = text
    return ds


@pytest.mark.parametrize("written, kept, sequence", [
    ("t2_tse_sag wdh Bianchi Peter 05.07.1971", "t2 tse sag", "T2"), ("t1_tse_sag MRN5854695", "t1 tse sag", "T1"),
    ("STIR sag Dr. Stirling", "STIR sag", "STIR"), ("sag T2W_TSE Müller-Lüdenscheidt", "sag T2W TSE", "T2"),
    ("3-plane loc Kowalczyk", "3-plane loc", "other"), ("T1_SE-sag 1971", "T1 SE sag", "T1"),
])
def test_description_keeps_only_the_words_that_tell_the_class(cfg, written, kept, sequence):
    rules = cfg["sequence_rules"]
    assert classifying_words(written, rules) == kept
    assert classify(_described(kept), rules) == classify(_described(written), rules) == sequence


def test_no_phi_in_outputs(tmp_path, cfg):
    write_series(tmp_path / "in" / "A0001", n=5, name="Kowalczyk^Bartholomew", patient_id="MRN99117733",
                 InstitutionName="St Elsewhere Clinic", PatientBirthDate="19471103")
    (tmp_path / "in" / "A0001" / "junk.bin").write_bytes(b"\x00\x01")
    (tmp_path / "out").mkdir()
    run(tmp_path / "in" / "A0001", tmp_path / "out", cfg)
    written = b""
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            written += gzip.decompress(data) if path.suffix == ".gz" else data
    assert written, "nothing was written"
    for phi in (b"Kowalczyk", b"Bartholomew", b"MRN99117733", b"Elsewhere", b"19471103", b"A0001"):
        assert phi not in written, phi


def test_real_sts002_series_matches_its_nifti(tmp_path, cfg, shared_data):
    """The IBSI STS_002 MR T1 DICOM series ingests to the same grid and voxels as the NIfTI shipped beside it."""
    folder = tmp_path / "STS_002"
    shutil.copytree(shared_data / "dicom_mr_rtstruct/dicom/STS_002/MR_T1/image", folder)
    index, excl = run(folder, tmp_path, dict(cfg, sequences=["T1"], orientation="AX"))
    assert only_series(index).status == "volume" and excl.empty
    ours = sitk.ReadImage(str(tmp_path / "vol" / "T1.nii.gz"))
    ref = sitk.ReadImage(str(shared_data / "dicom_mr_rtstruct/nifti/STS_002/MR_T1_image.nii.gz"))
    assert ours.GetSize() == ref.GetSize() == (115, 90, 35)
    assert ours.GetSpacing() == pytest.approx(ref.GetSpacing(), abs=1e-5)
    assert ours.GetOrigin() == pytest.approx(ref.GetOrigin(), abs=1e-4)
    assert ours.GetDirection() == pytest.approx(ref.GetDirection(), abs=1e-6)
    assert np.array_equal(sitk.GetArrayFromImage(ours).astype(np.float32), sitk.GetArrayFromImage(ref))
