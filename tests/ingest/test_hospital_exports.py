"""Ingestion of DICOM as hospitals export it, at realistic size (512 x 512, 15 slices): each layout gives the
clean series' exact volume (GDCM's reading of the clean files is the reference), the known resampled
geometry, or an exclusion line with its specific reason; never another patient's images, never a file name."""

import gzip
import os
import shutil
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
import pytest
import SimpleITK as sitk
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid

from dicom_factory import (deflate, gzip_in_place, rle, shear, strip_file_meta, strip_preamble, write_dicomdir,
                           write_enhanced, write_series, zip_files)
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


def gdcm(folder: Path) -> sitk.Image:
    """A folder's series as GDCM (SimpleITK's reader) builds it: the independent reference volume."""
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder)))
    return reader.Execute()


@pytest.fixture(scope="module")
def reference(clean) -> sitk.Image:
    return gdcm(clean[0].parent)


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


@pytest.mark.parametrize("implicit", [True, False], ids=["implicit VR", "explicit VR"])
def test_raw_datasets_without_preamble_or_file_meta_are_decoded(tmp_path, cfg, clean, reference, implicit):
    """Old PACS write bare datasets: no preamble, no file meta, so no transfer syntax; it is inferred."""
    paths = copy(clean, tmp_path / "in")
    for path in paths:
        strip_file_meta(path, implicit)
    ds = pydicom.dcmread(paths[0], force=True)
    assert "TransferSyntaxUID" not in ds.file_meta and ds.original_encoding == (implicit, True)
    index, excl = ingest(paths[0].parent, tmp_path / "out", cfg)
    assert excl.empty
    assert_same_volume(Path(t2_of(index).volume), reference)


def test_deflated_files_give_the_uncompressed_voxels(tmp_path, cfg, clean, reference):
    paths = copy(clean, tmp_path / "in")
    for path in paths:
        deflate(path)
    assert pydicom.dcmread(paths[0]).file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1.99"
    assert paths[0].stat().st_size < SIZE * SIZE * 2  # the file is smaller than its inflated PixelData
    index, excl = ingest(paths[0].parent, tmp_path / "out", cfg)
    assert excl.empty
    assert_same_volume(Path(t2_of(index).volume), reference)


def _meta_end(data: bytes) -> int:
    """Where the file meta ends: after the preamble, 'DICM' and (0002,0000) FileMetaInformationGroupLength."""
    return 144 + int.from_bytes(data[140:144], "little")


def test_truncated_deflated_files_are_named(tmp_path, cfg, clean):
    """Cut in the deflate stream, or a complete stream holding a dataset cut 1000 bytes short: the PixelData
    length is checked against the inflated dataset."""
    paths = copy(clean, tmp_path / "in")
    for path in paths:
        deflate(path)
    data = paths[4].read_bytes()
    paths[4].write_bytes(data[: len(data) - 5000])
    data, start = paths[7].read_bytes(), _meta_end(paths[7].read_bytes())
    short = zlib.decompress(data[start:], -zlib.MAX_WBITS)[:-1000]
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    paths[7].write_bytes(data[:start] + packer.compress(short) + packer.flush())
    index, excl = ingest(paths[0].parent, tmp_path / "out", cfg)
    short_read = (f"truncated file: PixelData (7FE0,0010) declares {SIZE * SIZE * 2} bytes, the inflated dataset "
                  f"holds {SIZE * SIZE * 2 - 1000}")
    assert excl.set_index("item").reason.to_dict() == {
        label(KEY, PATIENT, paths[4].name): "truncated or damaged deflated dataset (transfer syntax "
                                            "1.2.840.10008.1.2.1.99): Error -5 while decompressing data: incomplete "
                                            "or truncated stream",
        label(KEY, PATIENT, paths[7].name): short_read,
        "series 3 (t2_tse_sag)": f"excluded: 1 slice(s) with unusable pixel data, e.g. instance 8 "
                                 f"({label(KEY, PATIENT, paths[7].name)}): {short_read}",
    }
    assert index.n_slices.tolist() == [N - 1]


@pytest.fixture(scope="module")
def rle_series(store, clean) -> list[Path]:
    paths = copy(clean, store / "rle")
    for path in paths:
        rle(path)
    return paths


def test_rle_series_is_the_reference_volume(tmp_path, cfg, rle_series, reference):
    index, excl = ingest(rle_series[0].parent, tmp_path, cfg)
    assert excl.empty
    assert_same_volume(Path(t2_of(index).volume), reference)


def test_truncated_rle_slice_is_named_in_its_series(tmp_path, cfg, rle_series):
    """pydicom reads a file that ends within encapsulated pixel data as an empty dataset: its header is read
    again, so that the slice is named in its own series (no phantom series of an empty PatientID)."""
    paths = copy(rle_series, tmp_path / "in")
    data = paths[4].read_bytes()
    paths[4].write_bytes(data[: len(data) // 2])
    index, excl = ingest(paths[0].parent, tmp_path / "out", cfg)
    tag = label(KEY, PATIENT, paths[4].name)
    assert excl[["item", "reason"]].values.tolist() == [
        [tag, "truncated file: it ends within PixelData (7FE0,0010)"],
        ["series 3 (t2_tse_sag)", f"excluded: 1 slice(s) with unusable pixel data, e.g. instance 5 ({tag}): "
                                  "truncated file: it ends within PixelData (7FE0,0010)"]]
    assert index.n_slices.tolist() == [N]


def test_gzip_compressed_files_are_read_in_memory(tmp_path, cfg, clean, reference):
    paths = copy(clean, tmp_path / "in")
    for path in paths:
        gzip_in_place(path)
    (tmp_path / "in" / "IM9999.dcm").write_bytes(paths[0].read_bytes()[:5000])  # a gzip stream cut short
    index, excl = ingest(paths[0].parent, tmp_path / "out", cfg)
    assert_same_volume(Path(t2_of(index).volume), reference)
    assert excl[["item", "reason"]].values.tolist() == [[
        label(KEY, PATIENT, "IM9999.dcm"),
        "gzip-compressed content that cannot be inflated (Compressed file ended before the end-of-stream marker "
        "was reached)"]]
    assert all(path.read_bytes()[:2] == b"\x1f\x8b" for path in paths)  # inflated in memory, not in place


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


@pytest.fixture(scope="module")
def repeated(store, clean) -> Path:
    """One study with two sagittal T2 series of the same size: the first (series 3, acquired 10:21, other
    pixels: degraded by motion) and its repeat 12 minutes later (series 4: the clean series)."""
    folder = store / "repeated"
    study = str(pydicom.dcmread(clean[0]).StudyInstanceUID)
    write_series(folder / "first", n=N, size=SIZE, patient_id="A0001", seed=11, study_uid=study, SeriesNumber=3,
                 SeriesTime="102000", AcquisitionTime="102100")
    for path in copy(clean, folder / "repeat"):
        ds = pydicom.dcmread(path)
        ds.SeriesNumber, ds.SeriesTime, ds.AcquisitionTime = 4, "103200", "103300"
        ds.save_as(path)
    return folder


def _retag(folder: Path, **tags) -> None:
    for path in folder.iterdir():
        ds = pydicom.dcmread(path)
        for keyword, value in tags.items():
            if value is None:
                delattr(ds, keyword)
            else:
                setattr(ds, keyword, value)
        ds.save_as(path)


@pytest.mark.parametrize("rule, variant, chosen, why", [
    ("latest", {}, "repeat", "series number 4: acquired 12.0 min after this one"),
    ("first", {}, "first", "series number 3: acquired 12.0 min before this one"),
    # no AcquisitionTime: SeriesTime decides (10:20 and 10:32)
    ("latest", {"first": {"AcquisitionTime": None}, "repeat": {"AcquisitionTime": None}}, "repeat",
     "series number 4: acquired 12.0 min after this one"),
    # the time decides before the series number
    ("latest", {"repeat": {"SeriesNumber": 2}}, "repeat", "series number 2: acquired 12.0 min after this one"),
    # no times at all: the higher series number is the later series
    ("latest", {side: {"AcquisitionTime": None, "SeriesTime": None} for side in ("first", "repeat")}, "repeat",
     "series number 4: the higher series number, not every series has an acquisition time"),
])
def test_repeated_series_after_motion(tmp_path, cfg, repeated, rule, variant, chosen, why):
    assert cfg["series_choice"] == "latest"  # the default
    folder = tmp_path / "in"
    shutil.copytree(repeated, folder)
    for side, tags in variant.items():
        _retag(folder / side, **tags)
    index, excl = ingest(folder, tmp_path / "out", dict(cfg, series_choice=rule))
    assert_same_volume(Path(t2_of(index).volume), gdcm(folder / chosen))
    setting = f"config ingest.series_choice: {rule}"
    assert index.set_index("status").reason.to_dict() == {
        "volume": f"chosen of 2 T2 series: most slices, then the {rule} acquired ({setting})",
        "not used": f"another T2 series was chosen ({why}; {setting})"}


def test_repeat_with_fewer_slices_is_not_chosen(tmp_path, cfg, repeated, clean, reference):
    folder = tmp_path / "in"
    shutil.copytree(repeated, folder)
    (folder / "repeat" / clean[-1].name).unlink()
    index, _ = ingest(folder, tmp_path / "out", cfg)
    assert_same_volume(Path(t2_of(index).volume), gdcm(folder / "first"))
    assert index[index.status == "not used"].reason.tolist() == [
        "another T2 series was chosen (series number 3: more slices, 15 against 14)"]


# 6. Empty patient folder --------------------------------------------------------------------------------------------

def test_empty_patient_folder_has_its_own_line(tmp_path, cfg):
    (tmp_path / "A0005").mkdir()
    index, excl = ingest(tmp_path / "A0005", tmp_path / "out", cfg)
    assert index.empty
    assert excl[["item", "reason"]].values.tolist() == [[FOLDER, "empty patient folder: no files"]]


# 7. Privacy: nothing from a file or folder name reaches the outputs --------------------------------------------------

PHI = ["KOWALCZYK", "BARTHOLOMEW", "19471103", "MRN99117733", "SZ-4471"]


def written_text(out: Path) -> bytes:
    """Every place under out that can hold text: CSV files whole, parquet tables as CSV without their pseudonymised
    UIDs (checked to be 2.25 UIDs: digits only, so a searched birth year may occur in them by chance) and NIfTI
    volumes' headers with their extensions (up to vox_offset; the voxels are compared with the reference)."""
    text = b""
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        if path.suffix == ".parquet":
            table = pd.read_parquet(path)
            uids = table.filter(like="_uid")
            assert uids.stack().str.fullmatch(r"2\.25\.\d+").all(), path
            text += table.drop(columns=uids.columns).to_csv().encode()
        elif path.name.endswith(".nii.gz"):
            volume = gzip.decompress(path.read_bytes())
            text += volume[:int(np.frombuffer(volume[108:112], "<f4")[0])]
        else:
            text += path.read_bytes()
    return text


FREE_TEXT = {"T2": "t2_tse_sag wdh Bianchi Peter 05.07.1971", "T1": "t1_tse_sag MRN5854695",
             "localizer": "localizer Bianchi", "note": "Bianchi Peter 05.07.1971"}


def test_free_text_in_series_descriptions_stays_in_the_local_lookup(tmp_path, cfg, clean, reference):
    """Names, a birth date and a record number typed into SeriesDescription: results/ keeps the words that tell
    the class (index and exclusion log alike); the text as written is in the local lookup, by series_uid."""
    folder = tmp_path / "in" / "A0001"
    _retag(copy(clean, folder / "t2")[0].parent, SeriesDescription=FREE_TEXT["T2"])
    write_series(folder / "t1", n=N, size=SIZE, patient_id="A0001", seed=12, description=FREE_TEXT["T1"],
                 SeriesNumber=4, RepetitionTime=500, EchoTime=10)
    write_series(folder / "loc", n=3, size=SIZE, patient_id="A0001", seed=13, description=FREE_TEXT["localizer"],
                 SeriesNumber=1)
    write_series(folder / "note", n=3, size=SIZE, patient_id="A0001", seed=14, description=FREE_TEXT["note"],
                 SeriesNumber=7, RepetitionTime=100, EchoTime=2)  # no word of it tells a class
    out, logs = tmp_path / "results", tmp_path / "logs"
    out.mkdir()
    logs.mkdir()
    ingest_batch({PATIENT: folder}, "A", cfg, KEY, out / "i.parquet", out / "e.csv", out / "vol",
                 logs / "files.csv", out_descriptions=logs / "descriptions.csv")
    index = pd.read_parquet(out / "i.parquet")
    assert sorted(zip(index.sequence, index.series_description, index.status)) == [
        ("T1", "t1 tse sag", "volume"), ("T2", "t2 tse sag", "volume"), ("other", "", "not used"),
        ("other", "localizer", "not used")]
    assert_same_volume(Path(t2_of(index).volume), reference)
    assert pd.read_csv(out / "e.csv").item.tolist() == ["series 1 (localizer)", "series 7"]
    written = written_text(out)
    for phi in ("wdh", "Bianchi", "Peter", "05.07.1971", "1971", "MRN5854695", "5854695"):
        assert phi.encode() not in written, phi
    lookup = pd.read_csv(logs / "descriptions.csv").merge(index, on="series_uid", suffixes=("", "_index"))
    assert sorted(zip(lookup.series_number, lookup.series_description)) == [
        (1, FREE_TEXT["localizer"]), (3, FREE_TEXT["T2"]), (4, FREE_TEXT["T1"]), (7, FREE_TEXT["note"])]


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
    written = written_text(out)
    assert b"not a DICOM file" in written  # the notes file was logged ...
    for phi in PHI:
        assert phi.encode() not in written, phi  # ... but by its label only
    lookup = pd.concat(pd.read_csv(p) for p in (tmp_path / "logs").iterdir())
    assert lookup.path.str.contains("MRN99117733_notes.txt").any()  # the user can find the file
    files = {i for i in pd.read_csv(out / "0.csv").item if i.startswith("file ")}
    assert files and files <= set(lookup.file)  # every file named in the log is in the lookup
