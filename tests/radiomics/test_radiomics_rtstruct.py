"""STS_002 (TCIA Soft-tissue-Sarcoma, IBSI validation set): RTSTRUCT 'GTV_Mass' rasterised on the MR T1
series agrees with the NIfTI mask shipped beside it, and features extract from it."""

from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
import pytest
import SimpleITK as sitk

from spinestudy.radiomics import extract as rx
from spinestudy.radiomics import masks

REPO = Path(__file__).resolve().parents[2]
ROI = "GTV_Mass_MR_T1"  # the ROI name the RTSTRUCT carries for GTV_Mass


@pytest.fixture(scope="module")
def sts(shared_data):
    root = shared_data / "dicom_mr_rtstruct"
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(root / "dicom/STS_002/MR_T1/image")))
    return root, reader.Execute()


def test_rtstruct_matches_shipped_mask(sts):
    root, image = sts
    loaded = masks.load(root / "dicom/STS_002/MR_T1/mask/RS.dcm", {ROI: "tumour", "GTV_Other": "other"}, image)
    assert loaded["other"].startswith("label absent")
    mask, problem = masks.on_image_grid(*loaded["tumour"], image, ("RS.dcm", "MR_T1"), resample=False, tolerance=1e-4)
    ours = sitk.GetArrayFromImage(mask).astype(bool)
    shipped = sitk.GetArrayFromImage(sitk.ReadImage(str(root / "nifti/STS_002/MR_T1_mask.nii.gz"))).astype(bool)
    assert problem == "" and 2 * (ours & shipped).sum() / (ours.sum() + shipped.sum()) >= 0.95


def test_features_extract_from_rtstruct(sts, tmp_path):
    root, image = sts
    volume = tmp_path / "T1.nii.gz"
    sitk.WriteImage(image, str(volume))
    rejected = rx.extract_patient({"T1": volume}, root / "dicom/STS_002/MR_T1/mask/RS.dcm", {ROI: "tumour"},
                                  REPO / "config/radiomics/mr_quick.yaml", "X", "STS_002", tmp_path / "f.parquet",
                                  tmp_path / "d.parquet")
    features = pd.read_parquet(tmp_path / "f.parquet")
    assert rejected == [] and features.structure.tolist() == ["tumour"]
    assert np.isfinite(features.filter(like="T1_").to_numpy(float)).all()
    assert features.at[0, "T1_original_shape_VoxelVolume"] == pytest.approx(17090 * np.prod(image.GetSpacing()))


def test_roi_names_decide_not_roi_numbers(sts):
    """A structure named like the ROI (case, spaces, hyphens ignored) finds it; ROI number 1 is not label value 1."""
    root, image = sts
    path = root / "dicom/STS_002/MR_T1/mask/RS.dcm"
    by_name = masks.load(path, {1: "gtv mass MR-T1", 2: "tumour"}, image)
    by_key = masks.load(path, {ROI: "tumour"}, image)
    assert by_name["tumour"] == "label absent: no segment of the mask is named 'tumour'"
    assert np.array_equal(sitk.GetArrayFromImage(by_name["gtv mass MR-T1"][0]),
                          sitk.GetArrayFromImage(by_key["tumour"][0]))
    contours = len(pydicom.dcmread(path).ROIContourSequence[0].ContourSequence)
    assert masks.segment_names(path) == {1: ROI} and masks.segment_sizes(path, [1]) == {1: f"{contours} contours"}
