"""Robustness re-extraction: perturbed masks and their features."""

import numpy as np
import SimpleITK as sitk
import yaml

from radiomics_cohort import SHAPE_PARAMS
from spinestudy.radiomics import robustness


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
