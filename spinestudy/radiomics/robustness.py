"""Feature robustness to the segmentation, extraction side: re-extraction with each ROI eroded and dilated
(SimpleITK, ball of `radius` voxels on the mask's grid). The ICC over these re-extractions is
spinestudy.radiomics_stats.icc.

Each ROI is perturbed on its own (a dilated ROI may overlap a neighbour, which one label map cannot hold)
and extracted by radiomics.extract.extract_patient, unchanged.
"""

from pathlib import Path

import pandas as pd
import SimpleITK as sitk

from spinestudy.radiomics import masks
from spinestudy.radiomics.extract import KEYS, extract_patient

DEFAULTS = {"perturbations": ["erode", "dilate"], "radius": 1}
FILTERS = {"erode": sitk.BinaryErode, "dilate": sitk.BinaryDilate}
ORIGINAL = "original"  # the unperturbed ROI, extracted with the same parameters as its perturbations


def perturb(mask: sitk.Image, label: int, how: str, radius: int, value: int | None = None) -> sitk.Image:
    """A label map holding only `label`'s ROI, as it is ('original'), eroded or dilated by `radius` voxels,
    with the value `value` (default `label`)."""
    roi = sitk.Cast(mask == label, sitk.sitkUInt8)
    changed = roi if how == ORIGINAL else FILTERS[how](roi, [radius] * roi.GetDimension(), sitk.sitkBall, 0, 1)
    return sitk.Cast(changed, mask.GetPixelID()) * (label if value is None else value)


def perturbed_rows(volumes: dict[str, Path], mask: Path, rois: dict[int, str], params: Path, centre: str,
                   patient: str, settings: dict, workdir: Path,
                   segment_names: dict[str, str] | None = None) -> pd.DataFrame:
    """Feature rows of every ROI (label-map keys; a .seg.nrrd's segments found by name, masks.load), unperturbed
    and perturbed, with a `perturbation` column; ROIs that vanish or become unusable are left out
    (extract_patient's exclusions)."""
    cfg = DEFAULTS | settings.get("robustness", {})
    loaded = masks.load(mask, rois, None, segment_names)
    frames = []
    for how in [ORIGINAL, *cfg["perturbations"]]:
        for key, structure in rois.items():
            if isinstance(loaded[structure], str):
                continue
            stem = Path(workdir) / f"{how}_{key}"
            sitk.WriteImage(perturb(*loaded[structure], how, cfg["radius"], int(key)), f"{stem}.mha")
            extract_patient(volumes, f"{stem}.mha", {key: structure}, params, centre, patient,
                            f"{stem}.parquet", f"{stem}_diagnostics.parquet")
            frames.append(pd.read_parquet(f"{stem}.parquet").assign(perturbation=how))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*KEYS, "perturbation"])
