"""Converted images (config `images:`): patients found by pattern, files checked, volumes, index and log written."""

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
import yaml
from conftest import REPO
from radiomics import featureextractor

from spinestudy import pseudonym
from spinestudy.anatomy import LEVELS
from spinestudy.demo.dicom import SAGITTAL, plane_grid
from spinestudy.demo.phantom import build_phantom, render
from spinestudy.ingest.images import check, find_patients, in_slice_order, ingest_batch, ingest_patient, slice_axis
from spinestudy.radiomics.job import run_patient
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
    assert (out[2] / "p00000000000a/T2.mha").is_file()


def test_check_names_each_geometric_problem():
    sheared = volume(direction=(1, 0.2, 0, 0, 1, 0, 0, 0, 1), spacing=(0.7, 0.7, 4.0))
    cfg = {"orientation_tolerance": 1e-3}
    assert check(sheared, cfg) == [("direction cosines [[1.0, 0.2, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]] are not "
                                    "orthonormal")]
    four_d = sitk.Image([4, 4, 4, 2], sitk.sitkInt16)
    assert check(four_d, cfg) == ["4-D image: expected a 2-D slice or a 3-D volume"]


@pytest.fixture(scope="module")
def sagittal_t2(tmp_path_factory):
    """A 512 x 512 x 15 sagittal T2 of the demo phantom (0.5469 mm pixels, which float32 cannot hold; 4.4 mm
    slices), in acquisition order as dcm2niix writes it (slices along the third axis), with its L4-L5 and L5-S1
    discs (labels 14, 15) on the same grid."""
    levels = pd.DataFrame({"level": LEVELS, "pfirrmann": [2, 3, 3, 4, 5]} | {
        column: [0] * 5 for column in ("modic_upper", "modic_lower", "jarosz_height", "osteophytes")})
    grid = plane_grid(build_phantom(levels, 3).centre, SAGITTAL, 0.5469, (512, 512), 15, 4.4)
    signal, labels = render(grid, levels, "T2", np.random.default_rng(3), anatomy_seed=3)
    image = sitk.GetImageFromArray((signal * 1000).astype(np.int16))
    image.SetSpacing(grid.spacing)
    image.SetOrigin(grid.origin)
    image.SetDirection(grid.direction)
    mask = sitk.GetImageFromArray(np.where(np.isin(labels, (14, 15)), labels, 0).astype(np.uint8))
    mask.CopyInformation(image)
    folder = tmp_path_factory.mktemp("sagittal")
    return image, mask, folder


def extracted(tmp_path, volumes, mask, config, params, **changes) -> pd.DataFrame:
    """Features of the L4-L5 and L5-S1 discs from ingested volumes, by the radiomics job."""
    settings = config["radiomics"] | {"params": str(params), "labels": str(REPO / "config/labels.yaml"),
                                      "sequences": ["T2"], "structures": "L[45]-[LS][15] disc", "image_types": {}}
    outputs = [tmp_path / name for name in ("f.parquet", "d.parquet", "e.csv")]
    run_patient(volumes, mask, settings | changes, "N", "p0123456789ab", *outputs)
    assert pd.read_csv(outputs[2]).empty, pd.read_csv(outputs[2]).to_dict("records")
    return pd.read_parquet(outputs[0]).astype({"label": int}).set_index("label")


def pyradiomics(params, image, mask) -> dict[int, dict[str, float]]:
    extractor = featureextractor.RadiomicsFeatureExtractor(str(params))
    return {label: {f"T2_{k}": float(v) for k, v in extractor.execute(str(image), str(mask), label=label).items()
                    if not k.startswith("diagnostics_")} for label in (14, 15)}


def test_sagittal_volume_in_ras_axis_order_is_read_in_slice_order(sagittal_t2, tmp_path, config):
    """Shape 7 of issue 22: the same sagittal voxels in acquisition order and reordered to RAS (nibabel's
    as_closest_canonical, slices along the first axis) give one volume, a SAG index row with 15 slices, and
    PyRadiomics' features of the acquisition-order files (force2D slices are the sagittal ones). The RAS
    label map is reordered onto the volume exactly (resample_mask off), and an axial series reordered to RAS,
    whose directions are those of the sagittal one, is still axial."""
    image, mask, folder = sagittal_t2
    write(image, folder / "acquisition/T2.nii.gz")
    write(mask, folder / "acquisition/mask.nii.gz")
    (folder / "ras").mkdir()
    for name in ("T2", "mask"):
        canonical = nib.as_closest_canonical(nib.load(folder / f"acquisition/{name}.nii.gz"))
        assert nib.aff2axcodes(canonical.affine) == ("R", "A", "S")
        nib.save(canonical, folder / f"ras/{name}.nii.gz")
    assert sitk.ReadImage(str(folder / "ras/T2.nii.gz")).GetSize() == (15, 512, 512)
    axial = volume(size=(512, 512, 15), direction=(1, 0, 0, 0, 1, 0, 0, 0, 1), spacing=(0.5469, 0.5469, 4.4))
    write(axial, folder / "axial.nii.gz")
    nib.save(nib.as_closest_canonical(nib.load(folder / "axial.nii.gz")), folder / "ras/axial.nii.gz")
    cfg = {"sequences": ["T2", "STIR"], "orientation": "SAG", "orientation_tolerance": 1e-3}
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({
        "setting": {"force2D": True, "force2Ddimension": 0, "binWidth": 25, "label": 1},
        "imageType": {"Original": {}}, "featureClass": {"shape": None, "firstorder": None, "glcm": None}}))
    volumes, features = {}, {}
    for order in ("acquisition", "ras"):
        out = [tmp_path / f"{order}.parquet", tmp_path / f"{order}.csv", tmp_path / order]
        ingest_patient({"T2": folder / order / "T2.nii.gz", "STIR": folder / "ras/axial.nii.gz"}, "N",
                       "p0123456789ab", cfg, KEY, *out)
        index = pd.read_parquet(out[0]).set_index("sequence")
        assert index.loc["T2", ["orientation", "n_slices", "rows", "columns", "status"]].tolist() == [
            "SAG", 15, 512, 512, "volume"]
        assert index.loc["T2", "slice_spacing"] == pytest.approx(4.4, rel=1e-7)
        assert index.loc["STIR", ["orientation", "n_slices", "status"]].tolist() == ["AX", 15, "not used"]
        volumes[order] = sitk.ReadImage(index.loc["T2", "volume"])
        features[order] = extracted(tmp_path, out[2], folder / order / "mask.nii.gz", config, params,
                                    resample_mask=False)
    assert index.loc["T2", "reason"] == ("slices along the file's axis 0: axes reordered to slice order, voxels "
                                         "unchanged")
    ours, reordered = volumes["acquisition"], volumes["ras"]
    assert np.array_equal(sitk.GetArrayViewFromImage(reordered), sitk.GetArrayViewFromImage(image))
    assert reordered.GetSpacing() == ours.GetSpacing() and reordered.GetDirection() == ours.GetDirection()
    assert np.allclose(reordered.GetOrigin(), image.GetOrigin(), rtol=0, atol=1e-4)  # the inputs' float32 grid
    expected = pyradiomics(params, folder / "acquisition/T2.nii.gz", folder / "acquisition/mask.nii.gz")
    for order in ("acquisition", "ras"):
        for label, values in expected.items():
            ours = features[order].loc[label, list(values)].astype(float).to_numpy()
            np.testing.assert_allclose(ours, list(values.values()), rtol=1e-12, err_msg=f"{order} {label}")


def test_grid_keeps_full_precision_through_ingestion(sagittal_t2, tmp_path, config, shared_data):
    """Shape 8 of issue 22: an NRRD volume with 0.5469 mm pixels is ingested on its grid as read, not a float32
    copy of it, so with resampling to 2 mm (PyRadiomics' own MR_2D_extraction.yaml: B-spline, LoG, wavelet)
    the features are PyRadiomics' on the original files."""
    image, mask, folder = sagittal_t2
    write(image, folder / "nrrd/T2.nrrd")
    mid_slice = sitk.Image(mask.GetSize(), sitk.sitkUInt8)  # shape2D: the discs on one sagittal slice
    mid_slice.CopyInformation(mask)
    mid_slice[:, :, 7] = mask[:, :, 7]
    write(mid_slice, folder / "nrrd/mask.nrrd")
    original = sitk.ReadImage(str(folder / "nrrd/T2.nrrd"))
    assert float(np.float32(original.GetSpacing()[0])) != original.GetSpacing()[0]
    out = [tmp_path / "index.parquet", tmp_path / "log.csv", tmp_path / "volumes"]
    ingest_patient({"T2": folder / "nrrd/T2.nrrd"}, "N", "p0123456789ab",
                   {"sequences": ["T2"], "orientation": "SAG", "orientation_tolerance": 1e-3}, KEY, *out)
    ingested = sitk.ReadImage(pd.read_parquet(out[0]).volume.item())
    assert (ingested.GetSpacing(), ingested.GetOrigin(), ingested.GetDirection()) == (
        original.GetSpacing(), original.GetOrigin(), original.GetDirection())
    params = shared_data / "pyradiomics/exampleSettings/MR_2D_extraction.yaml"
    features = extracted(tmp_path, out[2], folder / "nrrd/mask.nrrd", config, params, resample_mask=False)
    for label, values in pyradiomics(params, folder / "nrrd/T2.nrrd", folder / "nrrd/mask.nrrd").items():
        assert {k.split("_")[1].split("-")[0] for k in values} == {"original", "log", "wavelet"}
        ours = features.loc[label, list(values)].astype(float).to_numpy()
        np.testing.assert_allclose(ours, list(values.values()), rtol=1e-9, err_msg=str(label))


def test_slice_axis_stands_out_by_spacing_and_reordering_keeps_every_voxel_in_place():
    """The slice axis is the one whose spacing differs from the two others' (else the third); reordering an
    oblique sagittal volume stored in RAS order keeps each voxel at its physical point (SimpleITK's resampling
    onto the original grid gives the original voxels back) and puts it in a standard sagittal order."""
    assert [slice_axis(volume(spacing=s)) for s in ((4.4, 0.5469, 0.5469), (0.5469, 4.4, 0.5469),
                                                    (0.5469, 0.5469, 4.4), (1.0, 1.0, 1.0), (0.5, 0.6, 4.0))] == [
        0, 1, 2, 2, 2]
    tilt = np.deg2rad(12)  # a sagittal stack tilted about the left-right axis, axes in RAS order (LPS: -x, -y, z)
    rotation = np.array([[1, 0, 0], [0, np.cos(tilt), -np.sin(tilt)], [0, np.sin(tilt), np.cos(tilt)]])
    direction = rotation @ np.diag([-1.0, -1.0, 1.0])
    ras = volume(size=(15, 512, 512), direction=direction.ravel().tolist(), spacing=(4.4, 0.5469, 0.5469))
    reordered = in_slice_order(ras, 0)
    assert reordered.GetSize() == (512, 512, 15) and reordered.GetSpacing() == (0.5469, 0.5469, 4.4)
    columns = np.asarray(reordered.GetDirection()).reshape(3, 3).T
    assert [int(np.argmax(np.abs(c))) for c in columns] == [1, 2, 0]  # rows A-P, columns S-I, slices L-R
    assert [float(np.sign(c[np.argmax(np.abs(c))])) for c in columns] == [1.0, -1.0, -1.0]  # P, I, R: as DICOM
    back = sitk.Resample(reordered, ras, sitk.Transform(), sitk.sitkNearestNeighbor)
    assert np.array_equal(sitk.GetArrayViewFromImage(back), sitk.GetArrayViewFromImage(ras))
