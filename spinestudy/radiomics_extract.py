"""PyRadiomics feature extraction for one patient: every (sequence, ROI), one image load per series.

Each series is read and normalised once. Per ROI, PyRadiomics' own steps run unchanged (resampling,
mask checks, shape, filters, feature classes) with one difference: the neighbourhood filters LoG,
wavelet and gradient see the image cropped to the ROI's bounding box plus `kernel_pad` voxels instead of
the whole image. Every other image type still sees the whole image PyRadiomics would give it:
square, square root, logarithm and exponential scale by the image's maximum, and LBP3D thresholds
spline-interpolated neighbours against the centre voxel, a test that rounding-level differences of a
cropped spline prefilter flip wherever neighbours equal the centre (common in integer MR data).
"""

import hashlib
import json
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd
import radiomics
import SimpleITK as sitk
from radiomics import featureextractor, imageoperations

from spinestudy import masks
from spinestudy.exclusions import Exclusion

STAGE = "radiomics"
CROPPED = ("LoG", "Wavelet", "Gradient")
# ITK's recursive (Deriche) LoG: the impulse response falls below 1e-5 of its peak 8 sigma out.
LOG_TRUNCATE = 8
UNSUPPORTED = ("resegmentRange", "kernelRadius", "voxelBatch")
KEYS = ["centre", "patient", "label", "structure"]


def extractor(params: str | Path) -> featureextractor.RadiomicsFeatureExtractor:
    """A PyRadiomics extractor for a parameter file, validated by PyRadiomics' own schema (pykwalify)."""
    ex = featureextractor.RadiomicsFeatureExtractor(str(params))
    used = [k for k in UNSUPPORTED if ex.settings.get(k) is not None]
    if used:
        raise ValueError(f"{params}: settings {used} are not supported by spinestudy's extraction")
    return ex


def _pad_voxels(image_type: str, settings: dict, spacing: np.ndarray) -> np.ndarray:
    """Voxels per axis a cropped filter reaches beyond a voxel."""
    if image_type == "LoG":
        return np.ceil(LOG_TRUNCATE * max(settings.get("sigma") or [0]) / spacing)
    if image_type == "Wavelet":
        taps = len(imageoperations.pywt.Wavelet(settings.get("wavelet", "coif1")).dec_lo)
        levels = settings.get("start_level", 0) + settings.get("level", 1)
        return np.full(3, (taps - 1) * (2 ** levels - 1) + 1.0)  # +1: PyRadiomics wraps odd sizes
    return np.full(3, 1.0)  # Gradient


def kernel_pad(image_types: dict, settings: dict, spacing) -> np.ndarray:
    """Padding (voxels, x y z) around the ROI that every enabled cropped filter needs to match the whole image."""
    spacing = np.asarray(spacing, float)
    pads = [_pad_voxels(t, settings | (custom or {}), spacing) for t, custom in image_types.items() if t in CROPPED]
    return np.max(pads, axis=0, initial=0).astype(int)


def _crop(image: sitk.Image, mask: sitk.Image, bbox: np.ndarray, pad: np.ndarray):
    """Image and mask cropped to the bounding box plus pad; the bounding box in the cropped grid."""
    lower = np.maximum(bbox[0::2] - pad, 0)
    image_c, mask_c = imageoperations.cropToTumorMask(image, mask, bbox, padDistance=pad)
    return image_c, mask_c, bbox - np.repeat(lower, 2)


def extract_roi(ex: featureextractor.RadiomicsFeatureExtractor, image: sitk.Image, mask: sitk.Image,
                label: int = 1, image_types: list[str] | None = None) -> dict[str, float]:
    """Features '{imagetype}_{class}_{feature}' of one ROI; `image` is already normalised if the parameters
    ask for it. Raises ValueError (PyRadiomics' mask checks) for an unusable ROI."""
    settings = ex.settings | {"label": label, "normalize": False}
    enabled = {t: c for t, c in ex.enabledImagetypes.items() if image_types is None or t in image_types}
    image, mask = ex.loadImage(image, mask, **settings)  # resampling (and cropping) exactly as PyRadiomics
    bbox, corrected = imageoperations.checkMask(image, mask, **settings)
    mask = mask if corrected is None else corrected
    resampled = settings.get("resampledPixelSpacing") is not None and settings.get("interpolator") is not None
    pad = kernel_pad(enabled, settings, image.GetSpacing())
    if resampled and np.any(pad > settings["padDistance"]):
        raise RuntimeError(f"padDistance {settings['padDistance']} is narrower than the {pad.max()} voxels the "
                           "filters reach: raise it in the parameter file")
    features = ex.computeShape(image, mask, bbox, **settings)
    cropped = _crop(image, mask, bbox, pad)
    for image_type, custom in enabled.items():
        source = cropped if image_type in CROPPED else (image, mask, bbox)
        args = settings | (custom or {})
        for filtered, name, kwargs in getattr(imageoperations, f"get{image_type}Image")(*source[:2], **args):
            f_image, f_mask = imageoperations.cropToTumorMask(filtered, source[1], source[2])
            features.update(ex.computeFeatures(f_image, f_mask, name, **kwargs))
    return {k: float(v) for k, v in features.items()}


def normalised(image: sitk.Image, settings: dict) -> sitk.Image:
    """The image normalised over all its voxels when the parameters ask for it (as PyRadiomics' loadImage)."""
    return imageoperations.normalizeImage(image, **settings) if settings.get("normalize") else image


def image_hash(image: sitk.Image) -> str:
    """SHA-1 of voxel values and grid, the hash PyRadiomics' diagnostics would report plus geometry."""
    digest = hashlib.sha1(sitk.GetArrayViewFromImage(image).tobytes())
    digest.update(repr((image.GetOrigin(), image.GetSpacing(), image.GetDirection())).encode())
    return digest.hexdigest()


def extract_patient(volumes: dict[str, str | Path], mask: str | Path, rois: dict[int | str, str],
                    params: str | Path, centre: str, patient: str, out: str | Path, out_diagnostics: str | Path,
                    *, min_voxels: int = 1, resample_mask: bool = False,
                    image_types: dict[str, list[str]] | None = None) -> list[Exclusion]:
    """Extract every ROI of `rois` (mask key -> structure) on every sequence of `volumes`.

    Writes one row per ROI ('{sequence}_{imagetype}_{class}_{feature}' columns) to `out` and one diagnostics
    row per (ROI, sequence) to `out_diagnostics`; returns the unusable ROIs as exclusions. Nothing written
    names the mask or image files (they may carry patient ids); errors raised do, for the user to find them.
    `image_types` restricts a structure to some of the parameter file's image types.
    """
    sitk.ProcessObject_SetGlobalDefaultNumberOfThreads(1)
    radiomics.setVerbosity(logging.ERROR)  # PyRadiomics' per-image warnings would flood the job log
    ex = extractor(params)
    tolerance = ex.settings.get("geometryTolerance") or 1e-6
    rejected, rows, diagnostics = [], {}, []
    for sequence, volume in volumes.items():
        raw = sitk.ReadImage(str(volume))
        image = normalised(raw, ex.settings)
        common = dict(centre=centre, patient=patient, sequence=sequence, pyradiomics=radiomics.__version__,
                      params=Path(params).name, settings=json.dumps(ex.settings, sort_keys=True, default=str),
                      image_hash=image_hash(raw))
        for (key, structure), roi in zip(rois.items(), masks.load(mask, rois, image).values()):
            item = f"{structure} ({sequence})"
            if isinstance(roi, str):
                rejected.append(Exclusion(centre, patient, item, STAGE, roi))
                continue
            on_grid, problem = masks.on_image_grid(*roi, image, (str(mask), str(volume)),
                                                   resample=resample_mask, tolerance=tolerance)
            voxels = 0 if on_grid is None else int(sitk.GetArrayViewFromImage(on_grid).sum())
            if not problem and voxels < min_voxels:
                problem = f"ROI smaller than the minimum: {voxels} voxels < {min_voxels}"
            start = time.perf_counter()
            try:
                features = {} if problem else extract_roi(ex, image, on_grid, 1, (image_types or {}).get(structure))
            except ValueError as exc:
                problem = f"PyRadiomics: {exc}"
            if problem:
                rejected.append(Exclusion(centre, patient, item, STAGE, problem))
                continue
            row = rows.setdefault(structure, dict(centre=centre, patient=patient, label=str(key), structure=structure))
            row.update({f"{sequence}_{name}": value for name, value in features.items()})
            diagnostics.append(common | dict(label=str(key), structure=structure, voxels=voxels,
                                             mask_hash=image_hash(on_grid), seconds=time.perf_counter() - start))
    pd.DataFrame(list(rows.values()), columns=KEYS if not rows else None).to_parquet(out, index=False)
    pd.DataFrame(diagnostics).to_parquet(out_diagnostics, index=False)
    return rejected


def merge(paths: list[str | Path], out: str | Path) -> None:
    """Concatenate per-patient tables (features or diagnostics) into one, sorted by centre and patient."""
    frames = [pd.read_parquet(p) for p in paths]
    merged = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=KEYS)
    merged.sort_values(["centre", "patient", "structure"], kind="stable").reset_index(drop=True).to_parquet(out)
