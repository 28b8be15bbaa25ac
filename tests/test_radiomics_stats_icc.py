"""Robustness: ICC(3,1) against Shrout & Fleiss (1979), perturbed masks and re-extraction."""

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
import yaml

from radiomics_cohort import SHAPE_PARAMS
from spinestudy import robustness

# Shrout & Fleiss (1979), Table 2: six targets rated by four judges; ICC(3,1) = 0.71 (and ICC(1,1) = 0.17).
SHROUT_FLEISS = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]


def test_icc_3_1_reproduces_shrout_and_fleiss():
    rows = pd.DataFrame([{"centre": "A", "patient": f"p{t}", "label": "1", "structure": "lesion", "perturbation": j,
                          "T2_original_firstorder_Mean": float(v), "T2_original_firstorder_Median": 1.0}
                         for t, ratings in enumerate(SHROUT_FLEISS) for j, v in zip("abcd", ratings)])
    out = robustness.icc_table(rows, {}).set_index("feature")
    assert out.loc["T2_original_firstorder_Mean", "icc"] == pytest.approx(0.71, abs=0.005)
    assert not out.loc["T2_original_firstorder_Mean", "robust"]  # 0.71 < 0.75
    assert out.loc["T2_original_firstorder_Median", "note"] == "constant: no ICC"
    few = robustness.icc_table(rows[rows["patient"].isin(["p0", "p1"])], {})
    assert few["icc"].isna().all() and few["note"].str.contains("< 3").all()


def test_perturbed_rows_erode_and_dilate_each_roi(tmp_path):
    k, j, i = np.ogrid[:10, :40, :40]
    labels = np.zeros((10, 40, 40), np.uint8)
    labels[((i - 12) / 6) ** 2 + ((j - 20) / 8) ** 2 + ((k - 5) / 3) ** 2 <= 1] = 25
    labels[((i - 29) / 5) ** 2 + ((j - 20) / 5) ** 2 + ((k - 5) / 3) ** 2 <= 1] = 34
    mask = sitk.GetImageFromArray(labels)
    sitk.WriteImage(mask, str(tmp_path / "mask.nii.gz"))
    sitk.WriteImage(sitk.Cast(mask, sitk.sitkFloat32), str(tmp_path / "T2.nii.gz"))
    (tmp_path / "shape.yaml").write_text(yaml.safe_dump(SHAPE_PARAMS))
    eroded, dilated = (sitk.GetArrayFromImage(robustness.perturb(mask, 25, how, 1)) for how in ("erode", "dilate"))
    assert set(np.unique(dilated)) == {0, 25} and (eroded == 25).sum() < (labels == 25).sum() < (dilated == 25).sum()
    rows = robustness.perturbed_rows({"T2": tmp_path / "T2.nii.gz"}, tmp_path / "mask.nii.gz",
                                     {25: "L5 inferior endplate Modic lesion", 34: "L5 superior endplate Modic lesion"},
                                     tmp_path / "shape.yaml", "A", "p1", {}, tmp_path)
    volume = rows.set_index(["perturbation", "label"])["T2_original_shape_VoxelVolume"]
    for label in ("25", "34"):
        assert volume["erode", label] < volume["original", label] < volume["dilate", label]
    assert volume["original", "25"] == (labels == 25).sum()
    assert len(rows) == 6
