"""When spinestudy's shared-filter fast path gives PyRadiomics' own values, and how far each filter's crop reaches.

The shared-filter path filters a series once for all its ROIs and runs LoG, wavelet and gradient on the ROIs'
box plus the filter's reach. That equals PyRadiomics filtering the whole image where PyRadiomics does filter
the whole image on the image's own grid, in 3-D. With resampling (`resamples`), PyRadiomics filters each ROI's
own resampled crop whole: the resampled path takes that crop as the image, ROI by ROI, and crops only the
filters whose values stay bit-identical (`CROPPED_EXACT`). preCrop without resampling (PyRadiomics filters the
ROI's box plus padDistance), resegmentation, a 2-D image or force2D take PyRadiomics' own path
(`own_path_reason`).
"""

import numpy as np
import SimpleITK as sitk
from radiomics import imageoperations

CROPPED = ("LoG", "Wavelet", "Gradient")
# The filters whose values in the ROI's box are bit-identical on the box plus their reach (LoG's recursive
# Gaussian is not: 1e-4 relative, see LOG_TRUNCATE): the resampled path crops only these.
CROPPED_EXACT = ("Wavelet", "Gradient")
# ITK's recursive (Deriche) LoG: its impulse response falls to 1e-5 of its peak 8 sigma out (which left LoG
# percentiles of demo T2 volumes 1.4e-4 off) and below 1e-7 at 12 sigma.
LOG_TRUNCATE = 12
# getLoGImage skips an image narrower than 4 voxels along any axis: a crop keeps at least 4 where the image has them.
LOG_MIN_SIZE = 4


def resamples(settings: dict) -> bool:
    """Whether PyRadiomics resamples each ROI's crop (loadImage: both settings given; preCrop is then unused)."""
    return settings.get("resampledPixelSpacing") is not None and settings.get("interpolator") is not None


def own_path_reason(settings: dict, image: sitk.Image) -> str:
    """Why a series must take PyRadiomics' own path with these settings ('' when a fast path gives its values)."""
    reasons = {
        "2-D image": image.GetDimension() != 3,
        "force2D": bool(settings.get("force2D")),
        "preCrop": bool(settings.get("preCrop")) and not resamples(settings),
        "resegmentRange": settings.get("resegmentRange") is not None,
    }
    reason = ", ".join(reason for reason, applies in reasons.items() if applies)
    return f"{reason}, resampling" if reason and resamples(settings) else reason


def _pad_voxels(image_type: str, settings: dict, spacing: np.ndarray) -> np.ndarray:
    """Voxels per axis a cropped filter reaches beyond a voxel."""
    if image_type == "LoG":
        return np.maximum(np.ceil(LOG_TRUNCATE * max(settings.get("sigma") or [0]) / spacing), LOG_MIN_SIZE - 1)
    if image_type == "Wavelet":
        taps = len(imageoperations.pywt.Wavelet(settings.get("wavelet", "coif1")).dec_lo)
        levels = settings.get("start_level", 0) + settings.get("level", 1)
        return np.full(len(spacing), (taps - 1) * (2 ** levels - 1) + 1.0)  # +1: PyRadiomics wraps odd sizes
    return np.ones(len(spacing))  # Gradient


def kernel_pad(image_types: dict, settings: dict, spacing) -> np.ndarray:
    """Padding (voxels, x y z) around the ROI that every enabled cropped filter needs to match the whole image."""
    spacing = np.asarray(spacing, float)
    pads = [_pad_voxels(t, settings | (custom or {}), spacing) for t, custom in image_types.items() if t in CROPPED]
    return np.max(pads, axis=0, initial=0).astype(int)


def filter_box(image_type: str, custom: dict | None, settings: dict, image: sitk.Image, lower: np.ndarray,
               upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The crop [lower, upper) (voxels, x y z) a filter of the ROIs' box [lower, upper) must see to give the whole
    image's values there. PyRadiomics' wavelet (pywt swtn) is periodic over the whole image: where the crop meets
    one face of the image, the wrap reaches the opposite face, so the crop spans that whole axis."""
    size = np.asarray(image.GetSize())
    pad = kernel_pad({image_type: custom}, settings, image.GetSpacing())
    lower, upper = np.maximum(lower - pad, 0), np.minimum(upper + pad, size)
    if image_type == "Wavelet":
        border = (lower == 0) | (upper == size)
        lower, upper = np.where(border, 0, lower), np.where(border, size, upper)
    return lower, upper
