"""ROI masks from label maps (NIfTI, NRRD), 3D Slicer segmentations, DICOM SEG and DICOM RTSTRUCT, checked
against an image grid.

A ROI table maps keys to the study's structure names. A plain label map (no names in the file) is read by
number: the key is the label value. A mask that names its segments is read by name: a 3D Slicer .seg.nrrd
(`Segment<i>_Name`, with `Segment<i>_Layer` and `Segment<i>_LabelValue` saying where its voxels are), a DICOM
SEG (`SegmentLabel`) and an RTSTRUCT (`ROIName`). A segment is an ROI's when its name, or what a name map
makes of it, equals the structure (or a string key) with case, spaces, hyphens and underscores ignored; its
number in the file is never compared with a label value. An ITK-SNAP label description file names a
plain label map's values the same way (`named_label_map`). Every ROI comes back as (mask image, label value)
on its own grid, each segment of a multi-layer .seg.nrrd on its own layer (segments may overlap);
`on_image_grid` then checks or resamples it onto the image the features come from.
"""

import re
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import SimpleITK as sitk
from matplotlib.path import Path as Polygon

LABEL_MAP_SUFFIXES = (".nii", ".nii.gz", ".nrrd", ".nhdr", ".mha", ".mhd")
SLICER_NAME = re.compile(r"Segment(\d+)_Name")
ITKSNAP_LINE = re.compile(r'\s*(\d+)\s+(?:\S+\s+){6}"(.*)"\s*')  # IDX R G B A VIS MSH "LABEL"


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
    rounded = sitk.GetImageFromArray(np.round(values).astype(np.int32),
                                     isVector=label_map.GetNumberOfComponentsPerPixel() > 1)
    rounded.CopyInformation(label_map)
    for key in label_map.GetMetaDataKeys():  # a .seg.nrrd's segment names and layers
        if key.startswith("Segment"):
            rounded.SetMetaData(key, label_map.GetMetaData(key))
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


def _seg_masks(path: Path, numbers: list[int], image: sitk.Image) -> dict[int, sitk.Image]:
    """Binary masks of SEG segments by number, on the image grid where it is aligned with the SEG's."""
    seg = hd.seg.segread(path)
    return {n: _from_volume(_on_grid(seg.get_volume(segment_numbers=[n], combine_segments=True, relabel=True), image))
            for n in numbers}


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


def _contours(ds: pydicom.Dataset) -> dict:
    """ROI number -> its contours of an RTSTRUCT dataset."""
    return {int(c.ReferencedROINumber): c.get("ContourSequence", []) for c in ds.ROIContourSequence}


def _rtstruct_masks(path: Path, numbers: list[int], image: sitk.Image) -> dict[int, sitk.Image]:
    """Binary masks of RTSTRUCT ROIs by number rasterised on the image grid (contours on one slice
    combine even-odd, so an inner contour cuts a hole). Contours off the grid give an empty image with
    metadata key 'outside'."""
    contours = _contours(pydicom.dcmread(path))
    to_index = np.linalg.inv(np.asarray(image.GetDirection()).reshape(3, 3) @ np.diag(image.GetSpacing()))
    size = np.asarray(image.GetSize())
    out = {}
    for number in numbers:
        array = np.zeros(size[::-1], bool)
        outside = False
        for contour in contours.get(number, []):
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
        out[number] = mask
    return out


def _header(path: Path) -> pydicom.Dataset:
    """The header of a DICOM SEG or RTSTRUCT; another modality raises ValueError naming the file."""
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    if ds.Modality not in ("SEG", "RTSTRUCT"):
        raise ValueError(f"{path}: DICOM modality {ds.Modality} is neither SEG nor RTSTRUCT")
    return ds


def _slicer_segments(path: Path) -> dict[int, tuple[str, int, int]] | None:
    """A 3D Slicer .seg.nrrd's segments, i of its `Segment<i>_` header keys -> (name, layer, label value);
    None for a label map without segment names. Slicer before 4.11 wrote one segment per layer, value 1."""
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    reader.ReadImageInformation()
    keys = set(reader.GetMetaDataKeys())
    numbers = sorted(int(m[1]) for m in map(SLICER_NAME.fullmatch, keys) if m)
    if not numbers:
        return None
    layers = reader.GetNumberOfComponents()

    def field(i: int, name: str, default: int) -> int:
        key = f"Segment{i}_{name}"
        if key not in keys:
            return default
        if not reader.GetMetaData(key).strip().isdigit():
            raise ValueError(f"{path}: {key} is {reader.GetMetaData(key)!r}, not a whole number")
        return int(reader.GetMetaData(key))

    segments = {i: (reader.GetMetaData(f"Segment{i}_Name"), field(i, "Layer", i if layers > 1 else 0),
                    field(i, "LabelValue", 1)) for i in numbers}
    for i, (_, layer, _) in segments.items():
        if not 0 <= layer < layers:
            raise ValueError(f"{path}: Segment{i}_Layer is {layer}, the file has {layers} layer(s)")
    return segments


def _layers(path: Path) -> list[sitk.Image]:
    """The layers of a .seg.nrrd (one scalar label map each; a single-layer file is its own)."""
    image = sitk.ReadImage(str(path))
    if image.GetNumberOfComponentsPerPixel() == 1:
        return [image]
    return [sitk.VectorIndexSelectionCast(image, k) for k in range(image.GetNumberOfComponentsPerPixel())]


def segment_names(path: str | Path) -> dict[int, str] | None:
    """Segment number -> name of a mask that names its segments: i of a .seg.nrrd's `Segment<i>_Name`, a SEG's
    SegmentNumber (SegmentLabel), an RTSTRUCT's ROINumber (ROIName); None for a plain label map."""
    path = Path(path)
    if is_label_map(path):
        segments = _slicer_segments(path)
        return None if segments is None else {i: name for i, (name, _, _) in segments.items()}
    ds = _header(path)
    if ds.Modality == "SEG":
        return {int(s.SegmentNumber): str(s.SegmentLabel) for s in ds.SegmentSequence}
    return {int(r.ROINumber): str(r.get("ROIName", "")) for r in ds.StructureSetROISequence}


def read_label_descriptions(path: str | Path) -> dict[int, str]:
    """Label value -> name of an ITK-SNAP label description file (lines `IDX R G B A VIS MSH "LABEL"`, `#`
    comments), without value 0 (ITK-SNAP's 'Clear Label'). A line of another form raises ValueError naming it."""
    names = {}
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            match = ITKSNAP_LINE.fullmatch(line)
            if not match:
                raise ValueError(f"{path}, line {number}: {line.strip()!r} is not an ITK-SNAP label description "
                                 '(IDX R G B A VIS MSH "LABEL")')
            if int(match[1]):
                names[int(match[1])] = match[2]
    return names


def named_label_map(label_map: sitk.Image, names: dict[int, str]) -> sitk.Image:
    """A plain label map carrying the names (label value -> name) of the values it holds as a single-layer
    .seg.nrrd does (segment number = label value), to be written as MetaImage (names and grid kept)."""
    named = sitk.Image(label_map)
    present = set(np.unique(sitk.GetArrayViewFromImage(label_map)).tolist())
    for value in sorted(set(names) & present):
        named.SetMetaData(f"Segment{value}_Name", names[value])
        named.SetMetaData(f"Segment{value}_LabelValue", str(value))
        named.SetMetaData(f"Segment{value}_Layer", "0")
    return named


def _normal(name: str) -> str:
    """A name as names are compared: case, spaces, hyphens and underscores ignored."""
    return re.sub(r"[\s_-]+", "", str(name)).casefold()


def named_by(names: dict[int, str], rois: dict, name_map: dict[str, str] | None = None) -> dict:
    """ROI key -> numbers of the segments naming it: a segment's name, or its entry in `name_map` (keys compared
    as names are), is the ROI's structure or its key if that is a string (case, spaces, hyphens and underscores
    ignored)."""
    mapped = {_normal(k): v for k, v in (name_map or {}).items()}
    meant = {n: _normal(mapped.get(_normal(name), name)) for n, name in names.items()}
    wanted = {key: {_normal(structure), _normal(key) if isinstance(key, str) else None}
              for key, structure in rois.items()}
    return {key: [n for n, m in meant.items() if m in names_of] for key, names_of in wanted.items()}


def _segment_masks(path: Path, numbers: list[int], image: sitk.Image) -> dict[int, tuple[sitk.Image, int]]:
    """(mask image, label value) of each named segment by number."""
    if is_label_map(path):
        segments, layers = _slicer_segments(path), _layers(path)
        return {n: (layers[segments[n][1]], segments[n][2]) for n in numbers}
    found = (_seg_masks if _header(path).Modality == "SEG" else _rtstruct_masks)(path, numbers, image)
    return {n: (mask, 1) for n, mask in found.items()}


def segment_sizes(path: str | Path, numbers: list[int]) -> dict[int, str]:
    """How big each segment (by number) of a mask naming its segments is: 'N voxels' (an RTSTRUCT without an
    image grid: 'N contours')."""
    path = Path(path)
    if is_label_map(path):
        counts = {n: np.count_nonzero(sitk.GetArrayViewFromImage(mask) == value)
                  for n, (mask, value) in _segment_masks(path, numbers, None).items()}
    elif _header(path).Modality == "SEG":
        seg = hd.seg.segread(path)
        counts = {n: np.count_nonzero(seg.get_volume(segment_numbers=[n], combine_segments=True).array)
                  for n in numbers}
    else:
        contours = _contours(pydicom.dcmread(path))
        return {n: f"{len(contours.get(n, []))} contours" for n in numbers}
    return {n: f"{count} voxels" for n, count in counts.items()}


def unnamed_values(path: str | Path) -> dict[tuple[int, int], int]:
    """(layer, label value) -> voxel count of a .seg.nrrd's values that no segment names."""
    declared = {(layer, value) for _, layer, value in _slicer_segments(Path(path)).values()}
    found = {}
    for k, layer in enumerate(_layers(Path(path))):
        values, counts = np.unique(sitk.GetArrayViewFromImage(layer), return_counts=True)
        found |= {(k, v): c for v, c in zip(values.tolist(), counts.tolist()) if v != 0 and (k, v) not in declared}
    return found


def load(path: str | Path, rois: dict, image: sitk.Image,
         name_map: dict[str, str] | None = None) -> dict[str, tuple[sitk.Image, int] | str]:
    """Structure name -> (mask image, label value) for every ROI of the table, or the reason it is unusable.

    `rois` maps keys to structure names: label values for a plain label map; a mask naming its segments finds
    each ROI by name (`named_by`, through `name_map`: a segment's name -> structure). `image` is the grid
    RTSTRUCT contours are rasterised on and SEG masks are placed on.
    """
    path = Path(path)
    names = segment_names(path)
    if names is None:
        label_map, _ = read_label_map(path)
        present = set(np.unique(sitk.GetArrayViewFromImage(label_map)).tolist()) - {0}
        if not present:
            return {structure: "empty mask" for structure in rois.values()}
        found = {key: (label_map, int(key)) for key in rois if key in present}
        return {structure: found.get(key, f"label absent: {key!r} not in the mask") for key, structure in rois.items()}
    numbers = named_by(names, rois, name_map)
    masks = _segment_masks(path, sorted({n[0] for n in numbers.values() if len(n) == 1}), image)
    out = {}
    for key, structure in rois.items():
        found = numbers[key]
        wanted = " or ".join(repr(n) for n in dict.fromkeys([structure, key]) if isinstance(n, str))
        out[structure] = (masks[found[0]] if len(found) == 1 else
                          f"label absent: no segment of the mask is named {wanted}" if not found else
                          f"segments {', '.join(map(str, found))} of the mask are all named {wanted}: none is used")
    return out


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
