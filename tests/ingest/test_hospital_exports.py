"""Ingestion of DICOM as hospitals export it, at realistic size (512 x 512, 15 slices): each layout gives the
clean series' exact volume (GDCM's reading of the clean files is the reference), the known resampled
geometry, or an exclusion line with its specific reason; never another patient's images, never a file name."""

import gzip
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
import pytest
import SimpleITK as sitk
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid

from dicom_factory import shear, strip_preamble, write_dicomdir, write_enhanced, write_series, zip_files
from spinestudy import pseudonym
from spinestudy.ingest.job import FOLDER, ingest_batch, ingest_patient
from spinestudy.ingest.sources import label

KEY = b"test-key-123"
PATIENT = "p0123456789ab"
SIZE, N = 512, 15


@pytest.fixture(scope="module")
def cfg(config):
    return config["ingest"]


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("store")


@pytest.fixture(scope="module")
def clean(store) -> list[Path]:
    """The clean series every layout below is made from: T2 sagittal, 512 x 512, 15 slices."""
    return write_series(store / "clean", n=N, size=SIZE, patient_id="A0001", seed=7)


@pytest.fixture(scope="module")
def reference(clean) -> sitk.Image:
    """The clean series as GDCM (SimpleITK's reader) builds it: the independent reference volume."""
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(clean[0].parent)))
    return reader.Execute()


def copy(paths: list[Path], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy(p, folder / p.name)) for p in paths]


def ingest(source: Path, out: Path, cfg: dict, **kwargs) -> tuple[pd.DataFrame, pd.DataFrame]:
    out.mkdir(parents=True, exist_ok=True)
    ingest_patient(source, "A", PATIENT, cfg, KEY, out / "index.parquet", out / "excl.csv", out / "vol",
                   out / "lookup.csv", **kwargs)
    return pd.read_parquet(out / "index.parquet"), pd.read_csv(out / "excl.csv", keep_default_na=False)


def assert_same_volume(path: Path, expected: sitk.Image) -> None:
    ours = sitk.ReadImage(str(path))
    assert ours.GetSize() == expected.GetSize()
    assert ours.GetSpacing() == pytest.approx(expected.GetSpacing(), abs=1e-6)
    assert ours.GetOrigin() == pytest.approx(expected.GetOrigin(), abs=1e-6)
    assert ours.GetDirection() == pytest.approx(expected.GetDirection(), abs=1e-9)
    assert np.array_equal(sitk.GetArrayFromImage(ours), sitk.GetArrayFromImage(expected))


def t2_of(index: pd.DataFrame) -> pd.Series:
    rows = index[index.sequence == "T2"]
    assert (rows.status == "volume").sum() == 1, index[["sequence", "status", "reason"]]
    return rows[rows.status == "volume"].iloc[0]


def test_clean_series_is_the_reference_volume(tmp_path, cfg, clean, reference):
    index, excl = ingest(clean[0].parent, tmp_path, cfg)
    assert excl.empty
    assert_same_volume(Path(t2_of(index).volume), reference)


# 1. Another patient's study in the folder --------------------------------------------------------------------

@pytest.fixture(scope="module")
def foreign(store) -> list[Path]:
    """A second patient's complete T2 study: same size, same series count, other pixels."""
    return write_series(store / "foreign", n=N, size=SIZE, patient_id="MRN778899", name="Other^Patient", seed=8)


def test_tie_with_another_patient_excludes_the_whole_patient(tmp_path, cfg, clean, foreign):
    folder = tmp_path / "in" / "A0099"  # a study id neither PatientID matches
    copy(clean, folder / "own")
    copy(foreign, folder / "other")
    index, excl = ingest(folder, tmp_path / "out", cfg)
    assert set(index.status) == {"excluded"} and not list((tmp_path / "out" / "vol").iterdir())
    line = excl[excl.item == FOLDER].reason.tolist()
    ids = sorted(pseudonym.patient(KEY, "A", i) for i in ("A0001", "MRN778899"))
    assert line == [f"cannot establish the folder's patient: its series carry 2 PatientIDs (0010,0020) "
                    f"(pseudonymised: {ids[0]}: 1 series, {ids[1]}: 1 series); none match the folder's study id "
                    "or the centre's PatientID mapping, and none holds 66% of the series"]


@pytest.mark.parametrize("study_id, how", [
    ("A0001", "matches the folder's study id"),
    # lower case, and the zeros Excel or a PACS export dropped: the same id as PatientID 'A0001'
    ("a01", "matches the folder's study id once case and leading zeros are ignored"),
])
def test_folder_study_id_names_the_patient_among_two(tmp_path, cfg, clean, foreign, reference, study_id, how):
    folder = tmp_path / "in" / study_id
    copy(clean, folder / "own")
    copy(foreign, folder / "other")
    index, _ = ingest(folder, tmp_path / "out", cfg)
    assert_same_volume(Path(t2_of(index).volume), reference)
    other = index[index.status == "excluded"].reason.tolist()
    assert other == [f"PatientID (0010,0020) {pseudonym.patient(KEY, 'A', 'MRN778899')} is not the folder's patient "
                     f"(PatientID {pseudonym.patient(KEY, 'A', 'A0001')} {how})"]


def test_patient_id_mapping_names_the_patient(tmp_path, cfg, clean, foreign):
    folder = tmp_path / "in" / "S-17"
    copy(clean, folder / "own")
    copy(foreign, folder / "other")
    (tmp_path / "ids.csv").write_text("study_id,patient_id\nS-17,MRN778899\n")
    ingest_batch({PATIENT: folder}, "A", cfg, KEY, tmp_path / "i.parquet", tmp_path / "e.csv", tmp_path / "vol",
                  patient_ids=tmp_path / "ids.csv")
    index = pd.read_parquet(tmp_path / "i.parquet")
    chosen = sitk.GetArrayFromImage(sitk.ReadImage(t2_of(index).volume))
    assert np.array_equal(chosen[0], pydicom.dcmread(foreign[0]).pixel_array)  # the mapped patient's images


# 2. Geometry: every slice's full 3-D position -----------------------------------------------------------------

@pytest.fixture(scope="module")
def sheared(store, clean) -> list[Path]:
    paths = copy(clean, store / "sheared")
    shear(paths, step=0.9)  # one pixel per slice along the rows
    return paths


def test_sheared_stack_is_resampled_onto_the_known_grid(tmp_path, cfg, sheared, reference):
    index, excl = ingest(sheared[0].parent, tmp_path, cfg)
    row = t2_of(index)
    assert row.reason == ("resampled onto the orthogonal grid of its first slice: sheared stack (gantry tilt), "
                          f"largest in-plane shift {0.9 * (N - 1):.3f} mm")
    assert row.slice_spacing == pytest.approx(4.0)
    expected = sitk.GetArrayFromImage(reference).copy()
    for k in range(N):  # columns that came from outside the sheared slice are 0
        expected[k, :, :k] = 0
    known = sitk.GetImageFromArray(expected)
    known.CopyInformation(reference)
    assert_same_volume(Path(row.volume), known)


def test_sheared_stack_is_excluded_when_configured(tmp_path, cfg, sheared):
    index, excl = ingest(sheared[0].parent, tmp_path, dict(cfg, sheared_stacks="exclude"))
    assert index.reason.tolist() == [
        "sheared stack (gantry tilt): each slice is shifted by 0.900 mm along the rows and 0.000 mm along the "
        "columns within the image plane (config ingest.sheared_stacks: exclude)"]
    assert index.status.tolist() == ["excluded"]


def test_slice_off_the_stack_line_is_excluded(tmp_path, cfg, clean):
    paths = copy(clean, tmp_path / "in")
    ds = pydicom.dcmread(paths[6])
    ds.ImagePositionPatient = [float(v) + d for v, d in zip(ds.ImagePositionPatient, (0.0, 0.0, 2.5))]
    ds.save_as(paths[6])
    index, _ = ingest(paths[0].parent, tmp_path / "out", cfg)
    assert index.reason.tolist() == [
        f"slice positions do not lie on a straight line: instance 7 ({label(KEY, PATIENT, paths[6].name)}) is "
        "2.500 mm off it within the image plane"]


# 3. Truncated pixel data at realistic size ----------------------------------------------------------------------

def test_truncated_512_slice_is_named_by_its_label(tmp_path, cfg, clean):
    paths = copy(clean, tmp_path / "in")
    data = paths[4].read_bytes()
    paths[4].write_bytes(data[: len(data) // 2])
    index, excl = ingest(paths[0].parent, tmp_path / "out", cfg)
    tag = label(KEY, PATIENT, paths[4].name)
    held = len(data) // 2 - (len(data) - SIZE * SIZE * 2)
    assert excl[excl.item == tag].reason.tolist() == [
        f"truncated file: PixelData (7FE0,0010) declares {SIZE * SIZE * 2} bytes, the file holds {held}"]
    assert index.reason.tolist() == [f"1 slice(s) with unusable pixel data, e.g. instance 5 ({tag}): "
                                     f"truncated file: PixelData (7FE0,0010) declares {SIZE * SIZE * 2} bytes, "
                                     f"the file holds {held}"]


# 4. Formats -------------------------------------------------------------------------------------------------------

def test_enhanced_mr_multiframe_is_the_reference_volume(tmp_path, cfg, clean, reference):
    write_enhanced(clean[::-1], tmp_path / "in" / "enhanced.dcm")  # frames in reverse order on purpose
    index, excl = ingest(tmp_path / "in", tmp_path / "out", cfg)
    assert excl.empty
    assert t2_of(index).n_slices == N
    assert_same_volume(Path(t2_of(index).volume), reference)


def _with_geometry(ds: pydicom.Dataset) -> pydicom.Dataset:
    """emri_small carries no functional groups: give its frames a sagittal stack's geometry."""
    shared = pydicom.Dataset()
    shared.PixelMeasuresSequence = [pydicom.Dataset()]
    shared.PixelMeasuresSequence[0].PixelSpacing = [1.0, 1.0]
    shared.PlaneOrientationSequence = [pydicom.Dataset()]
    shared.PlaneOrientationSequence[0].ImageOrientationPatient = [0, 1, 0, 0, 0, -1]
    ds.SharedFunctionalGroupsSequence = [shared]
    frames = []
    for k in range(int(ds.NumberOfFrames)):
        frame = pydicom.Dataset()
        frame.PlanePositionSequence = [pydicom.Dataset()]
        frame.PlanePositionSequence[0].ImagePositionPatient = [1.2 * k, 0, 0]
        frames.append(frame)
    ds.PerFrameFunctionalGroupsSequence = frames
    ds.SeriesDescription = "t1_tfe_sag"
    return ds


def test_real_enhanced_mr_without_functional_groups_is_excluded_with_reason(tmp_path, cfg):
    """pydicom-data's emri_small.dcm (a real Enhanced MR object) carries no plane position or orientation."""
    ds = pydicom.dcmread(get_testdata_file("emri_small.dcm"))
    ds.SeriesDescription = "t1_tfe"
    ds.save_as(tmp_path / "emri.dcm")
    index, _ = ingest(tmp_path, tmp_path / "out", cfg)
    first = f"frame 1 of {label(KEY, PATIENT, 'emri.dcm')}"
    assert index.status.tolist() == ["excluded"]
    assert index.reason.tolist() == ["; ".join(
        f"missing {keyword} in the per-frame functional groups of 10 slice(s), e.g. {first}"
        for keyword in ("ImageOrientationPatient (0020,0037)", "ImagePositionPatient (0020,0032)",
                        "PixelSpacing (0028,0030)"))]


@pytest.mark.parametrize("variant", ["emri_small_RLE.dcm", "emri_small_jpeg_ls_lossless.dcm",
                                     "emri_small_jpeg_2k_lossless.dcm"])
def test_compressed_enhanced_mr_decodes_like_the_native_one(tmp_path, cfg, variant):
    """RLE, JPEG-LS and JPEG 2000 (real pydicom-data objects) give the voxels of the uncompressed object."""
    t1 = dict(cfg, sequences=["T1"])
    volumes = []
    for name in ("emri_small.dcm", variant):
        folder = tmp_path / name
        folder.mkdir()
        _with_geometry(pydicom.dcmread(get_testdata_file(name))).save_as(folder / "mr.dcm")
        index, excl = ingest(folder, tmp_path / f"out-{name}", t1)
        assert index.status.tolist() == ["volume"] and excl.empty, index.reason.tolist()
        volumes.append(sitk.GetArrayFromImage(sitk.ReadImage(index.volume[0])))
    assert volumes[0].shape == (10, 64, 64) and volumes[0].any()
    assert np.array_equal(volumes[0], volumes[1])


def test_files_without_preamble_are_read(tmp_path, cfg, clean, reference):
    paths = copy(clean, tmp_path / "in")
    for path in paths:
        strip_preamble(path)
    with pytest.raises(pydicom.errors.InvalidDicomError):
        pydicom.dcmread(paths[0])
    index, excl = ingest(paths[0].parent, tmp_path / "out", cfg)
    assert excl.empty
    assert_same_volume(Path(t2_of(index).volume), reference)


def test_zip_inside_the_patient_folder(tmp_path, cfg, clean, reference):
    zip_files(clean, tmp_path / "in" / "export.zip", clean[0].parent)
    zip_files([zip_files(clean[:2], tmp_path / "inner.zip", clean[0].parent)], tmp_path / "in" / "nested.zip",
              tmp_path)
    with zipfile.ZipFile(tmp_path / "in" / "damaged.zip", "w") as archive:  # stored, then one byte flipped
        archive.writestr("IM0001.dcm", b"\x00" * 4096)
    data = bytearray((tmp_path / "in" / "damaged.zip").read_bytes())
    data[100] ^= 0xFF
    (tmp_path / "in" / "damaged.zip").write_bytes(bytes(data))
    index, excl = ingest(tmp_path / "in", tmp_path / "out", cfg)
    assert_same_volume(Path(t2_of(index).volume), reference)
    assert sorted(excl.reason) == ["ZIP archive inside a ZIP archive: not read (unpack the outer archive)",
                                   "cannot be read (BadZipFile)"]
    assert sorted(os.listdir(tmp_path / "in")) == ["damaged.zip", "export.zip", "nested.zip"]  # nothing unpacked


def test_whole_patient_as_zip_at_the_centre_root(tmp_path, cfg, clean, reference):
    archive = zip_files(clean, tmp_path / "dicom" / "A0001.zip", clean[0].parent)
    index, excl = ingest(archive, tmp_path / "out", cfg)
    assert excl.empty
    assert_same_volume(Path(t2_of(index).volume), reference)


def test_symlinked_series_folder_is_followed_and_loops_logged(tmp_path, cfg, clean, reference):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "series").symlink_to(clean[0].parent, target_is_directory=True)
    (tmp_path / "in" / "loop").symlink_to(tmp_path / "in", target_is_directory=True)
    index, excl = ingest(tmp_path / "in", tmp_path / "out", cfg)
    assert_same_volume(Path(t2_of(index).volume), reference)
    assert excl.item.tolist() == [label(KEY, PATIENT, "loop")]
    assert excl.reason.str.startswith("folder already read through another path").all()


def test_two_echoes_in_one_series_are_split(tmp_path, cfg, clean, reference):
    folder = tmp_path / "in"
    series, study = generate_uid(), generate_uid()
    common = dict(n=N, size=SIZE, patient_id="A0001", description="sag dual echo", study_uid=study,
                  RepetitionTime=3000, SeriesInstanceUID=series)
    write_series(folder, prefix="E1_", seed=3, EchoNumbers=1, EchoTime=15, **common)
    copy(clean, folder)  # the clean T2 series as echo 2 of the same series
    for path in clean:
        ds = pydicom.dcmread(folder / path.name)
        ds.SeriesInstanceUID, ds.StudyInstanceUID, ds.EchoNumbers = series, study, 2
        ds.SeriesDescription, ds.RepetitionTime = "sag dual echo", 3000
        ds.save_as(folder / path.name)
    index, excl = ingest(folder, tmp_path / "out", cfg)
    assert sorted(zip(index.series_description, index.sequence, index.status)) == [
        ("sag dual echo [echo 1]", "other", "not used"), ("sag dual echo [echo 2]", "T2", "volume")]
    assert index.series_uid.nunique() == 2
    assert_same_volume(Path(t2_of(index).volume), reference)


def test_dicomdir_is_skipped_quietly(tmp_path, cfg, clean, reference):
    copy(clean, tmp_path / "in")
    write_dicomdir(tmp_path / "in")
    index, excl = ingest(tmp_path / "in", tmp_path / "out", cfg)
    assert excl.empty and len(index) == 1
    assert_same_volume(Path(t2_of(index).volume), reference)


# 5. Two studies in one folder -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def two_studies(store, clean) -> Path:
    """Baseline (the clean series, 2024-01-15) and a follow-up T2 (2024-09-02) of the same patient."""
    folder = store / "two_studies"
    copy(clean, folder / "baseline")
    write_series(folder / "follow-up", n=N, size=SIZE, patient_id="A0001", seed=9, study_uid=generate_uid(),
                 StudyDate="20240902")
    return folder


@pytest.mark.parametrize("procedure, rule, chosen, why", [
    ("2024-03-01", "latest_on_or_before_procedure", "baseline",
     "another study was chosen (the latest of 2 studies on or before the procedure date); this study is 231 days "
     "after it"),
    ("2024-10-01", "latest_on_or_before_procedure", "follow-up",
     "another study was chosen (the latest of 2 studies on or before the procedure date); this study is 231 days "
     "before it"),
    (None, "latest_on_or_before_procedure", "baseline",
     "another study was chosen (the earliest of 2 studies (no procedure date for the patient)); this study is 231 "
     "days after it"),
    ("2024-10-01", "earliest", "baseline",
     "another study was chosen (the earliest of 2 studies); this study is 231 days after it"),
])
def test_study_choice(tmp_path, cfg, two_studies, procedure, rule, chosen, why):
    from datetime import date
    index, excl = ingest(two_studies, tmp_path, dict(cfg, study_choice=rule),
                         procedure_date=date.fromisoformat(procedure) if procedure else None)
    expected = pydicom.dcmread(sorted((two_studies / chosen).iterdir())[0]).pixel_array
    assert np.array_equal(sitk.GetArrayFromImage(sitk.ReadImage(t2_of(index).volume))[0], expected)
    study = index[index.status == "volume"].study_uid.iloc[0]
    assert index[index.status == "not used"].reason.tolist() == [why.replace("another study", f"study {study}")]


# 6. Empty patient folder --------------------------------------------------------------------------------------------

def test_empty_patient_folder_has_its_own_line(tmp_path, cfg):
    (tmp_path / "A0005").mkdir()
    index, excl = ingest(tmp_path / "A0005", tmp_path / "out", cfg)
    assert index.empty
    assert excl[["item", "reason"]].values.tolist() == [[FOLDER, "empty patient folder: no files"]]


# 7. Privacy: nothing from a file or folder name reaches the outputs --------------------------------------------------

PHI = ["KOWALCZYK", "BARTHOLOMEW", "19471103", "MRN99117733", "SZ-4471"]


def test_names_in_folders_files_and_zips_never_reach_the_outputs(tmp_path, cfg, clean):
    centre = tmp_path / "dicom"
    folder = centre / "SZ-4471"  # the raw study id
    copy(clean, folder / "KOWALCZYK_BARTHOLOMEW_19471103")
    (folder / "KOWALCZYK_BARTHOLOMEW_19471103" / "MRN99117733_notes.txt").write_text("scanner notes")
    zip_files(clean[:3], folder / "KOWALCZYK_19471103_MRN99117733.zip", clean[0].parent)
    write_series(folder / "BARTHOLOMEW_MRN99117733", n=3, size=SIZE, patient_id="A0001", prefix="MRN99117733_",
                 description="localizer")
    whole = zip_files(clean, tmp_path / "zips" / "SZ-4471.zip", clean[0].parent)
    out = tmp_path / "results"
    out.mkdir()
    (tmp_path / "logs").mkdir()
    for i, source in enumerate((folder, whole)):
        ingest_batch({PATIENT: source}, "A", cfg, KEY, out / f"{i}.parquet", out / f"{i}.csv", out / f"vol{i}",
                     tmp_path / "logs" / f"{i}.csv")
    written = b""
    for path in out.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            written += gzip.decompress(data) if path.suffix == ".gz" else data
    assert b"not a DICOM file" in written  # the notes file was logged ...
    for phi in PHI:
        assert phi.encode() not in written, phi  # ... but by its label only
    lookup = pd.concat(pd.read_csv(p) for p in (tmp_path / "logs").iterdir())
    assert lookup.path.str.contains("MRN99117733_notes.txt").any()  # the user can find the file
    files = {i for i in pd.read_csv(out / "0.csv").item if i.startswith("file ")}
    assert files and files <= set(lookup.file)  # every file named in the log is in the lookup
