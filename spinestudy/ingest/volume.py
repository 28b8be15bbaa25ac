"""A series' volume: pixel data decoded by pydicom (native, deflated, RLE, JPEG, JPEG-LS, JPEG 2000; plain,
gzip-compressed and raw files, ZIP members and Enhanced MR frames alike), placed on the grid its headers describe.

A sheared stack (gantry tilt: each slice shifted within its plane) is resampled onto the orthogonal grid of
its first slice: same planes, same in-plane spacing, slice spacing along the normal.
"""

import numpy as np
import SimpleITK as sitk
from pydicom.pixels import apply_rescale

from spinestudy.ingest.dicom_series import Series, Slice, dataset


class UndecodablePixels(Exception):
    """A slice's pixel data cannot be decoded; the message names the slice."""


def _planes(series: Series) -> np.ndarray:
    """Decoded, rescaled pixel planes in slice order, shape (slices, rows, columns)."""
    planes, cached = [], (None, None)
    for s in series.ordered:
        if cached[0] != s.item.label:
            try:
                with s.item.open() as fh:
                    cached = (s.item.label, dataset(fh)[0].pixel_array)
            except Exception as exc:  # decoders raise many types; the slice is named, never the path
                raise UndecodablePixels(f"pixel data of {s.name} cannot be decoded ({type(exc).__name__})") from None
        planes.append(_rescaled(cached[1][s.frame] if s.frame is not None else cached[1], s))
    stack = np.stack(planes)
    return stack.astype(np.float32) if stack.dtype.kind == "f" else stack


def _rescaled(plane: np.ndarray, s: Slice) -> np.ndarray:
    slope, intercept = s.ds.get("RescaleSlope"), s.ds.get("RescaleIntercept")
    if float(slope if slope not in (None, "") else 1) == 1 and float(intercept or 0) == 0:
        return plane  # identity: keep the stored integer type
    return apply_rescale(plane, s.ds)


def _grid(image: sitk.Image, series: Series, slice_axis: np.ndarray, slice_step: float) -> sitk.Image:
    iop = np.array([float(v) for v in series.first.ImageOrientationPatient])
    row_spacing, col_spacing = (float(v) for v in series.first.PixelSpacing)
    image.SetOrigin([float(v) for v in series.ordered[0].ds.ImagePositionPatient])
    image.SetSpacing((col_spacing, row_spacing, slice_step))  # x runs along a row: the column spacing
    image.SetDirection(np.column_stack([iop[:3], iop[3:], slice_axis]).ravel().tolist())
    return image


def build(series: Series) -> sitk.Image:
    """The series as an image on its own grid (sheared stacks resampled); raise UndecodablePixels."""
    stack = _planes(series)
    iop = np.array([float(v) for v in series.first.ImageOrientationPatient])
    normal = np.cross(iop[:3], iop[3:])
    target = _grid(sitk.GetImageFromArray(stack), series, normal, series.slice_spacing)
    if series.shear is None:
        return target
    ipp = np.array([[float(v) for v in s.ds.ImagePositionPatient] for s in series.ordered])
    step = (ipp[-1] - ipp[0]) / (len(ipp) - 1)  # the stack's true slice axis, oblique to the normal
    source = _grid(sitk.GetImageFromArray(stack.astype(np.float32)), series, step / np.linalg.norm(step),
                   float(np.linalg.norm(step)))
    resampled = sitk.Resample(source, target, sitk.Transform(), sitk.sitkLinear, 0.0)
    values = sitk.GetArrayFromImage(resampled)
    if stack.dtype.kind in "iu":
        values = np.rint(values).astype(stack.dtype)
    out = sitk.GetImageFromArray(values)
    out.CopyInformation(target)
    return out
