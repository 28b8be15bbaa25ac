"""ROI masks from label maps (NIfTI, NRRD), DICOM SEG and DICOM RTSTRUCT, checked against an image grid.

A ROI table maps what the mask file calls a structure (label value, SEG segment number or label, RTSTRUCT
ROI name) to the study's structure name. Every ROI comes back as (mask image, label value) on its own
grid; `on_image_grid` then checks or resamples it onto the image the features come from.
"""

from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import SimpleITK as sitk
from matplotlib.path import Path as Polygon

LABEL_MAP_SUFFIXES = (".nii", ".nii.gz", ".nrrd", ".nhdr", ".mha", ".mhd")


class GeometryMismatch(ValueError):
    """Mask and image grids differ and resampling the mask is not allowed."""


class NonIntegerLabels(ValueError):
    """A label map with fractional values (e.g. interpolated): `reason` says what, the message adds the file."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path}: {reason}")
        self.reason = reason


def is_label_map(path: Path) -> bool:
    return path.name.lower().endswith(LABEL_MAP_SUFFIXES)


def read_label_map(path: str | Path, round_labels: bool = False) -> tuple[sitk.Image, int]:
    """A label map and the number of its voxels rounded to the nearest integer. Fractional values (interpolated
    borders) raise NonIntegerLabels unless `round_labels`: compared with exact label values they would
    silently drop every border voxel."""
    label_map = sitk.ReadImage(str(path))
    values = sitk.GetArrayViewFromImage(label_map)
    if not np.issubdtype(values.dtype, np.floating):
        return label_map, 0
    fractional = ~np.isfinite(values) | (values != np.round(values))
    count = int(np.count_nonzero(fractional))
    if not count:
        return label_map, 0
    if not round_labels or not np.isfinite(values).all():
        raise NonIntegerLabels(path, f"label map with non-integer values in {count} voxels (e.g. "
                                     f"{values[fractional][0]:g}); labels must be whole numbers (set "
                                     "radiomics.round_labels: true to round them)")
    rounded = sitk.GetImageFromArray(np.round(values).astype(np.int32))
    rounded.CopyInformation(label_map)
    return rounded, count


def _from_volume(volume: hd.Volume) -> sitk.Image:
    """A SimpleITK image of a highdicom volume (array axes slice, row, column; affine to LPS)."""
    image = sitk.GetImageFromArray(np.asarray(volume.array, dtype=np.uint8))
    axes = np.asarray(volume.affine)[:3, 2::-1]  # columns for i (column), j (row), k (slice)
    spacing = np.linalg.norm(axes, axis=0)
    image.SetSpacing(spacing.tolist())
    image.SetDirection((axes / spacing).ravel().tolist())
    image.SetOrigin(np.asarray(volume.affine)[:3, 3].tolist())
    return image


def _geometry(image: sitk.Image) -> hd.VolumeGeometry:
    """The highdicom geometry of a SimpleITK image (inverse of `_from_volume`)."""
    affine = np.eye(4)
    affine[:3, 2::-1] = np.asarray(image.GetDirection()).reshape(3, 3) * image.GetSpacing()
    affine[:3, 3] = image.GetOrigin()
    return hd.VolumeGeometry(affine, image.GetSize()[::-1], "PATIENT")


def _on_grid(volume: hd.Volume, image: sitk.Image) -> hd.Volume:
    """The volume padded, cropped and flipped onto the image grid when that needs no resampling and keeps
    every segmented voxel; else unchanged. SEG writers store only frames holding segment voxels, so the
    SEG's own volume spans just those slices. The 1e-3 voxel tolerance covers float32 NIfTI geometry;
    `on_image_grid` still checks the grids."""
    try:
        matched = volume.match_geometry(_geometry(image), tol=1e-3)
    except RuntimeError:
        return volume
    return matched if np.count_nonzero(matched.array) == np.count_nonzero(volume.array) else volume


def _seg_rois(path: Path, rois: dict, image: sitk.Image) -> dict:
    """Binary masks of the requested SEG segments, keyed by segment number or label, on the image grid
    where it is aligned with the SEG's."""
    seg = hd.seg.segread(path)
    numbers = {s.SegmentLabel: int(s.SegmentNumber) for s in seg.SegmentSequence}
    numbers |= {n: n for n in numbers.values()}
    volumes = {key: seg.get_volume(segment_numbers=[numbers[key]], combine_segments=True, relabel=True)
               for key in rois if key in numbers}
    return {key: _from_volume(_on_grid(volume, image)) for key, volume in volumes.items()}


def _fill(polygon: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Voxels (j, i) whose centres lie inside a polygon given in continuous (i, j) index coordinates.
    The stack has no polygon rasteriser; matplotlib (installed with pingouin) has a point-in-polygon test."""
    lo = np.clip(np.floor(polygon.min(0)).astype(int), 0, None)
    hi = np.minimum(np.ceil(polygon.max(0)).astype(int) + 1, shape[::-1])
    jj, ii = np.mgrid[lo[1]:hi[1], lo[0]:hi[0]]
    inside = np.zeros(shape, bool)
    if jj.size:
        centres = np.column_stack([ii.ravel(), jj.ravel()])
        inside[lo[1]:hi[1], lo[0]:hi[0]] = Polygon(polygon).contains_points(centres).reshape(jj.shape)
    return inside


def _rtstruct_rois(path: Path, rois: dict, image: sitk.Image) -> dict:
    """Binary masks of the requested RTSTRUCT ROIs rasterised on the image grid (contours on one slice
    combine even-odd, so an inner contour cuts a hole). Contours off the grid give an empty image with
    metadata key 'outside'."""
    ds = pydicom.dcmread(path)
    numbers = {str(r.ROIName): int(r.ROINumber) for r in ds.StructureSetROISequence}
    contours = {int(c.ReferencedROINumber): c.get("ContourSequence", []) for c in ds.ROIContourSequence}
    to_index = np.linalg.inv(np.asarray(image.GetDirection()).reshape(3, 3) @ np.diag(image.GetSpacing()))
    size = np.asarray(image.GetSize())
    out = {}
    for key in (k for k in rois if k in numbers):
        array = np.zeros(size[::-1], bool)
        outside = False
        for contour in contours.get(numbers[key], []):
            points = np.asarray(contour.ContourData, float).reshape(-1, 3)
            index = (points - image.GetOrigin()) @ to_index.T
            k = int(round(index[:, 2].mean()))
            if np.any(index < -0.5) or np.any(index > size - 0.5) or np.ptp(index[:, 2]) > 0.5:
                outside = True
                continue
            array[k] ^= _fill(index[:, :2], array.shape[1:])
        mask = sitk.GetImageFromArray(array.astype(np.uint8))
        mask.CopyInformation(image)
        if outside:
            mask.SetMetaData("outside", "contour points outside the image grid")
        out[key] = mask
    return out


def load(path: str | Path, rois: dict, image: sitk.Image) -> dict[str, tuple[sitk.Image, int] | str]:
    """Structure name -> (mask image, label value) for every ROI of the table, or the reason it is unusable.

    `rois` maps label values (label maps, SEG segment numbers) or SEG segment labels / RTSTRUCT ROI names
    to structure names; `image` is the grid RTSTRUCT contours are rasterised on and SEG masks are placed on.
    """
    path = Path(path)
    if is_label_map(path):
        label_map, _ = read_label_map(path)
        present = set(np.unique(sitk.GetArrayViewFromImage(label_map)).tolist()) - {0}
        if not present:
            return {structure: "empty mask" for structure in rois.values()}
        found = {key: (label_map, int(key)) for key in rois if key in present}
    else:
        modality = pydicom.dcmread(path, stop_before_pixels=True).Modality
        if modality == "SEG":
            masks = _seg_rois(path, rois, image)
        elif modality == "RTSTRUCT":
            masks = _rtstruct_rois(path, rois, image)
        else:
            raise ValueError(f"{path}: DICOM modality {modality} is neither SEG nor RTSTRUCT")
        found = {key: (mask, 1) for key, mask in masks.items()}
    return {structure: found.get(key, f"label absent: {key!r} not in the mask") for key, structure in rois.items()}


def same_grid(a: sitk.Image, b: sitk.Image, tolerance: float) -> bool:
    """Same size and, within a relative tolerance, the same origin, spacing and direction."""
    scale = max(a.GetSpacing())
    return (a.GetSize() == b.GetSize()
            and np.allclose(a.GetSpacing(), b.GetSpacing(), rtol=tolerance, atol=0)
            and np.allclose(a.GetOrigin(), b.GetOrigin(), rtol=0, atol=tolerance * scale)
            and np.allclose(a.GetDirection(), b.GetDirection(), rtol=0, atol=tolerance))


def _outside(mask: sitk.Image, label: int, image: sitk.Image) -> bool:
    """Whether the ROI's bounding box reaches beyond the image's physical extent (half a voxel allowed)."""
    shape = sitk.LabelShapeStatisticsImageFilter()
    shape.Execute(mask == label)
    lo, size = np.split(np.asarray(shape.GetBoundingBox(1), float), 2)
    corners = [mask.TransformContinuousIndexToPhysicalPoint(c) for c in (lo - 0.5, lo + size - 0.5)]
    index = np.array([image.TransformPhysicalPointToContinuousIndex(c) for c in corners])
    return bool(np.any(index < -0.5 - 1e-3) or np.any(index > np.asarray(image.GetSize()) - 0.5 + 1e-3))


def _reordered(roi: sitk.Image, image: sitk.Image, tolerance: float) -> sitk.Image:
    """The ROI with its axes permuted and flipped into the image's axis order (sitk.DICOMOrient, no
    resampling) where that puts it on the image grid: a label map in a converter's axis order (RAS) whose
    volume ingestion reordered to slice order (ingest.images). Else the ROI unchanged."""
    if roi.GetDimension() != 3 or same_grid(roi, image, tolerance):
        return roi
    order = sitk.DICOMOrientImageFilter.GetOrientationFromDirectionCosines(image.GetDirection())
    reordered = sitk.DICOMOrient(roi, order)
    return reordered if same_grid(reordered, image, tolerance) else roi


def on_image_grid(mask: sitk.Image, label: int, image: sitk.Image, names: tuple[str, str], *,
                  resample: bool, tolerance: float) -> tuple[sitk.Image | None, str]:
    """The ROI's binary mask (UInt8, 1 inside) on the image grid and "", or None and the reason it is unusable.

    A mask on the image's voxels in another axis order is reordered onto it. Another grid raises
    GeometryMismatch naming (mask file, image file) unless `resample` allows nearest-neighbour resampling
    onto the image grid.
    """
    roi = sitk.Cast(mask == label, sitk.sitkUInt8)
    if mask.HasMetaDataKey("outside"):
        return None, "ROI outside the image: " + mask.GetMetaData("outside")
    if not sitk.GetArrayViewFromImage(roi).any():
        return None, "empty mask"
    if roi.GetDimension() != image.GetDimension():
        return None, f"the mask is {roi.GetDimension()}-D, the image {image.GetDimension()}-D"
    roi = _reordered(roi, image, tolerance)
    if not same_grid(roi, image, tolerance):
        if not resample:
            raise GeometryMismatch(f"mask {names[0]} and image {names[1]} are on different grids "
                                   f"(size {roi.GetSize()} vs {image.GetSize()}, spacing {roi.GetSpacing()} vs "
                                   f"{image.GetSpacing()}); allow mask resampling or fix the inputs")
        if _outside(roi, 1, image):
            return None, "ROI outside the image"
        roi = sitk.Resample(roi, image, sitk.Transform(), sitk.sitkNearestNeighbor, 0, sitk.sitkUInt8)
        if not sitk.GetArrayViewFromImage(roi).any():
            return None, "empty mask after resampling onto the image grid"
    roi.CopyInformation(image)
    return roi, ""
