"""Converted images (config `images:`): patients found by pattern, files checked, volumes, index and log written."""

import numpy as np
import pandas as pd
import SimpleITK as sitk

from spinestudy import pseudonym
from spinestudy.ingest.images import check, find_patients, ingest_batch, ingest_patient
from spinestudy.tables.schemas import SeriesIndex, failures

KEY = b"images-test-key"


def write(image: sitk.Image, path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(image, str(path))


def volume(size=(64, 48, 12), direction=(0, 0, -1, 1, 0, 0, 0, -1, 0), spacing=(0.7, 0.7, 4.0)) -> sitk.Image:
    """A 3-D image, sagittal by default (slices step along x, as dcm2niix output read by ITK)."""
    array = np.random.default_rng(0).integers(0, 1200, size[::-1]).astype(np.int16)
    image = sitk.GetImageFromArray(array)
    image.SetSpacing(spacing)
    image.SetDirection(direction)
    image.SetOrigin((-20.0, 110.0, 95.0))
    return image


def test_patterns_find_each_patients_files(tmp_path):
    for name in ("12_t2.mha", "12_t1.mha", "12_t2_SPACE.mha", "7_t2.mha", "notes.txt"):
        (tmp_path / "spider" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "spider" / name).write_bytes(b"x")
    spider = find_patients({"T1": f"{tmp_path}/spider/{{id}}_t1.mha", "T2": f"{tmp_path}/spider/{{id}}_t2.mha"},
                           ["T1", "T2"])
    assert {i: sorted(p.files) for i, p in spider.items()} == {"12": ["T1", "T2"], "7": ["T2"]}
    assert spider["12"].files["T2"].name == "12_t2.mha" and spider["12"].name == "12"
    for folder, name in (("N-001", "N-001_T2.nii.gz"), ("N-002", "N-001_T2.nii.gz"), ("N-003", "STIR.nii.gz")):
        (tmp_path / "north" / folder).mkdir(parents=True)
        (tmp_path / "north" / folder / name).write_bytes(b"x")
    north = find_patients(f"{tmp_path}/north/{{id}}/{{id}}_{{sequence}}.nii.gz", ["T1", "T2", "STIR"])
    assert list(north) == ["N-001"]  # the same id in folder and file name; N-002 holds another patient's file


def test_images_become_volumes_index_rows_and_log_lines(tmp_path):
    sagittal, axial = volume(), volume(direction=(1, 0, 0, 0, 1, 0, 0, 0, 1))
    sagittal.SetMetaData("PatientName", "Doe^Jane")  # free-text header fields must not survive
    slice_2d = sitk.GetImageFromArray(np.arange(320 * 300, dtype=np.uint16).reshape(300, 320))
    slice_2d.SetSpacing((0.6875, 0.6875))
    vector = sitk.Compose([sagittal, sagittal])
    files = {"T1": tmp_path / "in/T1.nii.gz", "T2": tmp_path / "in/T2.nrrd", "STIR": tmp_path / "in/STIR.mha"}
    write(sagittal, files["T1"])
    write(slice_2d, files["T2"])
    write(axial, files["STIR"])
    cfg = {"sequences": ["T1", "T2", "STIR"], "orientation": "SAG", "orientation_tolerance": 1e-3}
    out = [tmp_path / "index.parquet", tmp_path / "log.csv", tmp_path / "volumes"]
    ingest_patient(files, "N", "p0123456789ab", cfg, KEY, *out)
    index, log = pd.read_parquet(out[0]).set_index("sequence"), pd.read_csv(out[1])
    assert index.status.to_dict() == {"T1": "volume", "T2": "volume", "STIR": "not used"}
    assert index.loc["T1", ["orientation", "n_slices", "rows", "columns", "slice_spacing"]].tolist() == [
        "SAG", 12, 48, 64, 4.0]
    assert index.loc["T2", "reason"] == "2-D image: orientation not checked" and index.loc["T2", "n_slices"] == 1
    assert index.series_description.tolist() == ["NiftiImageIO", "NrrdImageIO", "MetaImageIO"]
    assert index.loc["T1", "series_uid"] == pseudonym.uid(KEY, "images/N/p0123456789ab/T1")
    assert log.item.tolist() == ["STIR image"] and log.reason.item() == "not used: orientation AX: not SAG"
    t1 = sitk.ReadImage(index.loc["T1", "volume"])
    assert np.array_equal(sitk.GetArrayViewFromImage(t1), sitk.GetArrayViewFromImage(sagittal))
    assert np.allclose(t1.GetDirection(), sagittal.GetDirection()) and "PatientName" not in t1.GetMetaDataKeys()
    t2 = sitk.ReadImage(index.loc["T2", "volume"])
    assert t2.GetDimension() == 2 and t2.GetSpacing() == (0.6875, 0.6875)
    assert np.array_equal(sitk.GetArrayViewFromImage(t2), sitk.GetArrayViewFromImage(slice_2d))
    assert failures(SeriesIndex, pd.read_parquet(out[0])).empty  # the tables stage accepts the index

    files["T1"].write_bytes(b"not an image")
    write(vector, files["STIR"])
    files.pop("T2")
    ingest_patient(files, "N", "p0123456789ab", cfg, KEY, *out)
    reasons = dict(zip(*pd.read_csv(out[1])[["item", "reason"]].T.values))
    assert reasons == {"T1 image": "excluded: not an image file SimpleITK can read",
                       "T2 image": "no file (config images: pattern)",
                       "STIR image": "excluded: 2 components per voxel: expected a scalar image"}
    assert not any(str(tmp_path) in text for text in (out[0].read_bytes().decode("latin-1"), out[1].read_text()))


def test_batch_of_image_patients_is_merged_as_a_dicom_batch(tmp_path):
    write(volume(), tmp_path / "a/T2.nii.gz")
    write(volume(direction=(1, 0, 0, 0, 0, 1, 0, -1, 0)), tmp_path / "b/T2.nii.gz")
    cfg = {"sequences": ["T2"], "orientation": "SAG", "orientation_tolerance": 1e-3}
    images = {p: {"T2": str(tmp_path / f"{p[-1]}/T2.nii.gz")} for p in ("p00000000000a", "p00000000000b")}
    out = [tmp_path / "index.parquet", tmp_path / "log.csv", tmp_path / "volumes"]
    ingest_batch(images, "N", cfg, KEY, *out)
    assert pd.read_parquet(out[0]).status.tolist() == ["volume", "not used"]
    assert pd.read_csv(out[1]).reason.tolist() == ["not used: orientation COR: not SAG"]
    assert sorted(p.name for p in out[2].iterdir()) == ["p00000000000a", "p00000000000b"]
    assert (out[2] / "p00000000000a/T2.nii.gz").is_file()


def test_check_names_each_geometric_problem():
    sheared = volume(direction=(1, 0.2, 0, 0, 1, 0, 0, 0, 1), spacing=(0.7, 0.7, 4.0))
    cfg = {"orientation_tolerance": 1e-3}
    assert check(sheared, cfg) == [("direction cosines [[1.0, 0.2, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]] are not "
                                    "orthonormal")]
    four_d = sitk.Image([4, 4, 4, 2], sitk.sitkInt16)
    assert check(four_d, cfg) == ["4-D image: expected a 2-D slice or a 3-D volume"]
