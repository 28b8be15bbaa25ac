"""Feature robustness to the segmentation: re-extraction with each ROI eroded and dilated (SimpleITK, ball of
`radius` voxels on the mask's grid), and ICC(3,1) per feature over (original, eroded, dilated) across ROIs
(pingouin.intraclass_corr); features with ICC >= icc_threshold are kept.

Each ROI is perturbed on its own (a dilated ROI may overlap a neighbour, which one label map cannot hold)
and extracted by radiomics_extract.extract_patient, unchanged.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pingouin as pg
import SimpleITK as sitk

from spinestudy import masks
from spinestudy.feature_screen import feature_columns
from spinestudy.radiomics_extract import KEYS, extract_patient

DEFAULTS = {"perturbations": ["erode", "dilate"], "radius": 1, "icc_threshold": 0.75, "min_rois": 3}
FILTERS = {"erode": sitk.BinaryErode, "dilate": sitk.BinaryDilate}
ORIGINAL = "original"  # the unperturbed ROI, extracted with the same parameters as its perturbations
ICC31 = "ICC(C,1)"  # pingouin's name for Shrout & Fleiss ICC(3,1): two-way mixed, consistency, single rater
COLUMNS = ["feature", "icc", "ci_low", "ci_high", "n_rois", "robust", "note"]


def perturb(mask: sitk.Image, label: int, how: str, radius: int) -> sitk.Image:
    """A label map holding only `label`'s ROI, as it is ('original'), eroded or dilated by `radius` voxels."""
    roi = sitk.Cast(mask == label, sitk.sitkUInt8)
    changed = roi if how == ORIGINAL else FILTERS[how](roi, [radius] * roi.GetDimension(), sitk.sitkBall, 0, 1)
    return sitk.Cast(changed, mask.GetPixelID()) * label


def perturbed_rows(volumes: dict[str, Path], mask: Path, rois: dict[int, str], params: Path, centre: str,
                   patient: str, settings: dict, workdir: Path) -> pd.DataFrame:
    """Feature rows of every ROI (label-map keys), unperturbed and perturbed, with a `perturbation` column;
    ROIs that vanish or become unusable are left out (extract_patient's exclusions)."""
    cfg = DEFAULTS | settings.get("robustness", {})
    label_map = sitk.ReadImage(str(mask))
    frames = []
    for how in [ORIGINAL, *cfg["perturbations"]]:
        for key, structure in rois.items():
            stem = Path(workdir) / f"{how}_{key}"
            sitk.WriteImage(perturb(label_map, int(key), how, cfg["radius"]), f"{stem}.nii.gz")
            extract_patient(volumes, f"{stem}.nii.gz", {key: structure}, params, centre, patient,
                            f"{stem}.parquet", f"{stem}_diagnostics.parquet")
            frames.append(pd.read_parquet(f"{stem}.parquet").assign(perturbation=how))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*KEYS, "perturbation"])


def write(perturbed: list[Path], settings: dict, out: Path) -> None:
    """Write icc.csv from the per-patient tables of perturbed_rows."""
    frames = [pd.read_parquet(p) for p in perturbed]
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*KEYS, "perturbation"])
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    icc_table(rows, settings).to_csv(out, index=False)


def icc_table(rows: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """ICC(3,1) of every feature over the ROIs present in every perturbation."""
    cfg = DEFAULTS | settings.get("robustness", {})
    rows = rows.assign(roi=rows["centre"] + "/" + rows["patient"] + "/" + rows["structure"])
    return pd.DataFrame([icc(rows, f, cfg) for f in feature_columns(rows.drop(columns="roi"))], columns=COLUMNS)


def icc(rows: pd.DataFrame, feature: str, cfg: dict) -> dict:
    """ICC(3,1) of one feature (ROIs as targets, perturbations as raters) or NaN and the reason."""
    data = rows[["roi", "perturbation", feature]].dropna()
    complete = data.groupby("roi")["perturbation"].nunique() == data["perturbation"].nunique()
    data = data[data["roi"].isin(complete.index[complete])]
    n = data["roi"].nunique()
    row = {"feature": feature, "icc": np.nan, "ci_low": np.nan, "ci_high": np.nan, "n_rois": n, "robust": False}
    if n < cfg["min_rois"] or data["perturbation"].nunique() < 2:
        return row | {"note": f"{n} ROIs with every perturbation (< {cfg['min_rois']})"}
    if data[feature].nunique() < 2:
        return row | {"note": "constant: no ICC"}
    result = pg.intraclass_corr(data, targets="roi", raters="perturbation", ratings=feature).set_index("Type")
    value, (low, high) = float(result.loc[ICC31, "ICC"]), result.loc[ICC31, "CI95"]
    return row | {"icc": value, "ci_low": float(low), "ci_high": float(high),
                  "robust": value >= cfg["icc_threshold"], "note": ""}
