"""STS_002 (TCIA Soft-tissue-Sarcoma, IBSI validation set): the shipped NIfTI GTV mask written as a binary
DICOM SEG with highdicom reads back through masks.load voxel for voxel, and features extracted from it equal
those from the NIfTI mask. highdicom, like other SEG writers, stores only the frames holding segment voxels."""

import warnings
from pathlib import Path

import highdicom as hd
import numpy as np
import pandas as pd
import pydicom
import pytest
import SimpleITK as sitk

from spinestudy.radiomics import extract as rx
from spinestudy.radiomics import masks

REPO = Path(__file__).resolve().parents[2]
VOXELS = 17090  # GTV voxels of the shipped mask


@pytest.fixture(scope="module")
def sts(shared_data, tmp_path_factory):
    """(image, shipped mask, SEG path, NIfTI mask path); the SEG's source images in the image's slice order."""
    root = shared_data / "dicom_mr_rtstruct"
    reader = sitk.ImageSeriesReader()
    files = reader.GetGDCMSeriesFileNames(str(root / "dicom/STS_002/MR_T1/image"))
    reader.SetFileNames(files)
    image = reader.Execute()
    nifti = root / "nifti/STS_002/MR_T1_mask.nii.gz"
    shipped = sitk.ReadImage(str(nifti))
    assert masks.same_grid(shipped, image, 1e-4)
    gtv = hd.seg.SegmentDescription(
        segment_number=1, segment_label="GTV",
        segmented_property_category=hd.sr.CodedConcept("49755003", "SCT", "Morphologically Altered Structure"),
        segmented_property_type=hd.sr.CodedConcept("108369006", "SCT", "Neoplasm"),
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL)
    with warnings.catch_warnings():  # the source headers' single-component patient name and long SH values
        warnings.simplefilter("ignore", UserWarning)
        seg = hd.seg.Segmentation(
            source_images=[pydicom.dcmread(f) for f in files],
            pixel_array=sitk.GetArrayFromImage(shipped).astype(bool),
            segmentation_type=hd.seg.SegmentationTypeValues.BINARY, segment_descriptions=[gtv],
            series_instance_uid=hd.UID(), series_number=100, sop_instance_uid=hd.UID(), instance_number=1,
            manufacturer="spinestudy", manufacturer_model_name="test", software_versions="0",
            device_serial_number="0")
    path = tmp_path_factory.mktemp("seg") / "seg.dcm"
    seg.save_as(path)
    return image, shipped, path, nifti


@pytest.mark.parametrize("rois, name_map", [({7: "gtv"}, None), ({"GTV": "tumour"}, None),
                                            ({7: "tumour"}, {"gtv": "Tumour"})])
def test_seg_matches_shipped_mask(sts, rois, name_map):
    """The segment's label finds it, as a structure name (case ignored) or a string key; or a name map does."""
    image, shipped, path, _ = sts
    assert 0 < pydicom.dcmread(path).NumberOfFrames < image.GetSize()[2]  # empty frames omitted
    (structure,) = rois.values()
    loaded = masks.load(path, rois, image, name_map)
    mask, problem = masks.on_image_grid(*loaded[structure], image, ("seg.dcm", "MR_T1"), resample=False,
                                        tolerance=1e-4)
    assert problem == "" and masks.same_grid(mask, image, 1e-6)
    ours = sitk.GetArrayFromImage(mask).astype(bool)
    assert ours.sum() == VOXELS and np.array_equal(ours, sitk.GetArrayFromImage(shipped).astype(bool))


def test_seg_absent_segments(sts):
    """Names decide: segment number 1 is not label value 1."""
    image, _, path, _ = sts
    loaded = masks.load(path, {2: "GTV", 1: "tumour", "GTV_Other": "other"}, image)
    assert not isinstance(loaded["GTV"], str)
    assert loaded["tumour"] == "label absent: no segment of the mask is named 'tumour'"
    assert loaded["other"] == "label absent: no segment of the mask is named 'other' or 'GTV_Other'"


def test_seg_off_grid_is_not_forced(sts):
    """A grid the SEG is not aligned with (half a slice off) keeps the SEG's own grid for on_image_grid to judge."""
    image, _, path, _ = sts
    shifted = sitk.Image(image)
    shifted.SetOrigin(image.TransformContinuousIndexToPhysicalPoint((0, 0, 0.5)))
    mask, label = masks.load(path, {"GTV": "tumour"}, shifted)["tumour"]
    assert int(sitk.GetArrayViewFromImage(mask).sum()) == VOXELS
    with pytest.raises(masks.GeometryMismatch):
        masks.on_image_grid(mask, label, shifted, ("seg.dcm", "shifted"), resample=False, tolerance=1e-4)


def test_features_from_seg_equal_nifti(sts, tmp_path):
    image, _, path, nifti = sts
    volume = tmp_path / "T1.nii.gz"
    sitk.WriteImage(image, str(volume))
    tables = {}
    for name, mask, rois in (("seg", path, {"GTV": "tumour"}), ("nifti", nifti, {1: "tumour"})):
        rejected = rx.extract_patient({"T1": volume}, mask, rois, REPO / "config/radiomics/mr_quick.yaml", "X",
                                      "STS_002", tmp_path / f"{name}.parquet", tmp_path / f"{name}_d.parquet")
        assert rejected == []
        tables[name] = (pd.read_parquet(tmp_path / f"{name}.parquet").filter(like="T1_"),
                        pd.read_parquet(tmp_path / f"{name}_d.parquet"))
    (seg, seg_d), (ref, ref_d) = tables["seg"], tables["nifti"]
    assert list(seg.columns) == list(ref.columns) and len(seg.columns) == 293
    np.testing.assert_allclose(seg.to_numpy(float), ref.to_numpy(float), rtol=1e-9, atol=0)
    assert seg_d.voxels.tolist() == [VOXELS] and seg_d.mask_hash.tolist() == ref_d.mask_hash.tolist()
