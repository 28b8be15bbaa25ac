"""Ingestion of images already converted from DICOM (NIfTI from dcm2niix, NRRD, MHA, ...): a centre's `images:`.

The pattern names a patient's file of each sequence with {id} (the study id the tables use) and {sequence}
(T1, T2, STIR), e.g. /data/north/{id}/{sequence}.nii.gz; where the files name sequences their own way it is a
mapping sequence -> pattern with {id} (SPIDER: {T2: /data/spider/images/{id}_t2.mha}). Each file passes the
checks of a DICOM series that apply to a converted image (one scalar 2-D or 3-D image, positive spacing,
orthonormal directions, the configured orientation), then becomes the volume, index row and exclusion lines
the DICOM path writes. File names carry the study id, so nothing written names them or copies their header
fields: index and exclusions name the sequence and the reader, UIDs are keyed hashes of the pseudonym.

The slice axis. Converters store a volume in acquisition order (slices along the third array axis, as
dcm2niix) or reorder its axes (RAS, as nibabel's as_closest_canonical): then the slices of a sagittal series
lie along the first axis. The direction cosines say which patient axis each array axis runs along, not which
array axis the slices were stacked on: an axial and a sagittal series both reordered to RAS have the same
directions. The grid does: a 2-D acquisition has square pixels and another slice spacing, so the slice axis
is the one whose spacing differs from the two others' (equal) spacing; where the spacings single out no axis
(isotropic 3-D volumes, rectangular pixels) it is the third, the file's own order. The orientation is the
patient axis the slice axis runs along (SAG: left-right). A volume whose slice axis is not the third is
reordered, voxels unchanged (axes permuted and flipped, no resampling), to the axis order of a standard DICOM
series of its plane (`STANDARD`), so that it gives the features of the same voxels in acquisition order
(force2D's slices, resampling grids and wavelet directions follow the array axes); a label map on the
file's grid is reordered alike at extraction (`radiomics.masks.on_image_grid`).

Volumes are written as MetaImage (`.mha`), which stores spacing, origin and directions in double precision
(NIfTI's single precision turns 0.5469 mm into 0.54689997 mm, and resampled features move by percents).
"""

import glob
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import SimpleITK as sitk

from spinestudy import batch, exclusions, pseudonym
from spinestudy.exclusions import Exclusion
from spinestudy.ingest.job import INDEX_COLUMNS, METAIMAGE, STAGE, merge_index
from spinestudy.ingest.sequences import orientation


@dataclass(frozen=True)
class PatientImages:
    name: str  # the study id, as a DICOM patient folder's name is
    files: dict[str, Path]  # sequence -> image file


def patterns(images: str | dict[str, str], sequences: list[str]) -> dict[str, str]:
    """Sequence -> file pattern with {id}, for the configured sequences."""
    if isinstance(images, str):
        return {s: images.replace("{sequence}", s) for s in sequences}
    return {s: p for s, p in images.items() if s in sequences}


def _matcher(pattern: str) -> tuple[str, re.Pattern]:
    """A glob and a regular expression of a pattern; each {id} matches one path component, the same each time."""
    parts = pattern.split("{id}")
    groups = ["(?P<id>[^/]+)"] + ["(?P=id)"] * (len(parts) - 2)
    regex = re.escape(parts[0]) + "".join(g + re.escape(p) for g, p in zip(groups, parts[1:]))
    return "*".join(map(glob.escape, parts)), re.compile(regex)


def find_patients(images: str | dict[str, str], sequences: list[str]) -> dict[str, PatientImages]:
    """Study id -> its image files, for every id with a file of at least one configured sequence."""
    found: dict[str, dict[str, Path]] = {}
    for sequence, pattern in patterns(images, sequences).items():
        wildcard, regex = _matcher(pattern)
        for path in sorted(glob.glob(wildcard)):
            match = regex.fullmatch(path)
            if match and Path(path).is_file():
                found.setdefault(match["id"], {})[sequence] = Path(path)
    return {i: PatientImages(i, files) for i, files in sorted(found.items())}


def check(image: sitk.Image, cfg: dict) -> list[str]:
    """Every reason an image cannot be a volume (the geometric checks of a DICOM series that apply to it)."""
    dimension = image.GetDimension()
    if dimension not in (2, 3):
        return [f"{dimension}-D image: expected a 2-D slice or a 3-D volume"]
    problems = []
    if image.GetNumberOfComponentsPerPixel() != 1:
        problems.append(f"{image.GetNumberOfComponentsPerPixel()} components per voxel: expected a scalar image")
    spacing = np.asarray(image.GetSpacing())
    if not np.all(np.isfinite(spacing) & (spacing > 0)):
        problems.append(f"voxel spacing {spacing.tolist()}: expected positive numbers")
    direction = np.asarray(image.GetDirection()).reshape(dimension, dimension)
    if not np.allclose(direction @ direction.T, np.eye(dimension), rtol=0, atol=cfg["orientation_tolerance"]):
        problems.append(f"direction cosines {direction.round(4).tolist()} are not orthonormal")
    return problems


def slice_axis(image: sitk.Image) -> int:
    """The array axis a 3-D image's slices are stacked along: the one whose spacing differs from the two
    others' (square pixels), else the third (module docstring)."""
    spacing = np.asarray(image.GetSpacing())
    for axis in range(3):
        others = np.delete(spacing, axis)
        if np.isclose(*others, rtol=1e-4, atol=0) and not np.isclose(spacing[axis], others[0], rtol=1e-4, atol=0):
            return axis
    return 2


# Row and column directions (LPS) of a standard DICOM series of each plane; slices step along row x column.
STANDARD = {"SAG": ((0, 1, 0), (0, 0, -1)), "COR": ((1, 0, 0), (0, 0, -1)), "AX": ((1, 0, 0), (0, 1, 0))}


def in_slice_order(image: sitk.Image, axis: int) -> sitk.Image:
    """The image with the slice axis last and its axes running as `STANDARD`'s for its plane: axes permuted
    and flipped, each voxel at its place. Written out rather than sitk.DICOMOrient, which matches every axis
    to its closest patient axis and could move a 45-degree oblique slice axis; here the grid fixes it."""
    direction = np.asarray(image.GetDirection()).reshape(3, 3)
    first, second = (a for a in range(3) if a != axis)
    row, column = (np.asarray(v, float) for v in STANDARD[orientation([*direction[:, first], *direction[:, second]])])
    if abs(direction[:, second] @ row) > abs(direction[:, first] @ row):
        first, second = second, first
    order = [first, second, axis]
    flips = [bool(direction[:, a] @ target < 0) for a, target in zip(order, (row, column, np.cross(row, column)))]
    return sitk.Flip(sitk.PermuteAxes(image, order), flips)


def describe(image: sitk.Image, reader: str) -> dict:
    """Index facts of an image in slice order (its grid and reader; a converted file keeps no acquisition
    header)."""
    size, spacing = list(image.GetSize()) + [None] * 3, list(image.GetSpacing()) + [None] * 3
    plane = None
    if image.GetDimension() == 3:
        direction = np.asarray(image.GetDirection()).reshape(3, 3)
        plane = orientation([*direction[:, 0], *direction[:, 1]])
    return {
        "series_number": None, "series_description": reader, "modality": "", "orientation": plane,
        "n_slices": size[2] if image.GetDimension() == 3 else 1, "rows": size[1], "columns": size[0],
        "pixel_spacing_row": spacing[1], "pixel_spacing_col": spacing[0], "slice_thickness": None,
        "slice_spacing": spacing[2] if image.GetDimension() == 3 else None, "manufacturer": "", "model": "",
        "field_strength": None, "repetition_time": None, "echo_time": None, "inversion_time": None,
    }


def write_volume(image: sitk.Image, path: Path) -> None:
    """The image's voxels and grid (double precision: MetaImage), without the metadata of its file (NRRD and
    MHA fields are free text)."""
    volume = sitk.GetImageFromArray(sitk.GetArrayViewFromImage(image))
    volume.CopyInformation(image)
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(volume, str(path), useCompression=True)


def _read(path: Path) -> tuple[sitk.Image | None, str]:
    """The image and the name of the ITK reader that read it, or None and why it is unreadable."""
    try:
        return sitk.ReadImage(str(path)), sitk.ImageFileReader.GetImageIOFromFileName(str(path))
    except RuntimeError:  # ITK's message names the file: the reason must not
        return None, "not an image file SimpleITK can read"


def ingest_patient(files: dict[str, str | Path], centre: str, patient: str, cfg: dict, key: bytes,
                   out_index: Path, out_exclusions: Path, out_volumes: Path) -> None:
    """Check one patient's image files (sequence -> file) and write their index rows, exclusions and volumes."""
    rows, rejected = [], []
    for sequence in cfg["sequences"]:
        if sequence not in files:
            rejected.append(Exclusion(centre, patient, f"{sequence} image", STAGE, "no file (config images: pattern)"))
            continue
        image, reader = _read(Path(files[sequence]))
        problems = check(image, cfg) if image is not None else [reader]
        axis = slice_axis(image) if not problems and image.GetDimension() == 3 else 2
        if axis != 2:
            image = in_slice_order(image, axis)
        facts = describe(image, reader) if image is not None else {"series_description": ""}
        status, reason = "volume", ""
        if problems:
            status, reason = "excluded", "; ".join(problems)
        elif facts["orientation"] is None:
            reason = "2-D image: orientation not checked"
        elif facts["orientation"] != cfg["orientation"]:
            status, reason = "not used", f"orientation {facts['orientation']}: not {cfg['orientation']}"
        elif axis != 2:
            reason = f"slices along the file's axis {axis}: axes reordered to slice order, voxels unchanged"
        volume = Path(out_volumes) / f"{sequence}{METAIMAGE}"
        if status == "volume":
            write_volume(image, volume)
        else:
            rejected.append(Exclusion(centre, patient, f"{sequence} image", STAGE, f"{status}: {reason}"))
        rows.append(facts | dict(
            centre=centre, patient=patient, sequence=sequence, status=status, reason=reason,
            study_uid=pseudonym.uid(key, f"images/{centre}/{patient}"),
            series_uid=pseudonym.uid(key, f"images/{centre}/{patient}/{sequence}"),
            volume=volume.as_posix() if status == "volume" else "",
        ))
    Path(out_volumes).mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=INDEX_COLUMNS).to_parquet(out_index, index=False)
    exclusions.write(rejected, out_exclusions)


def ingest_batch(images: dict[str, dict[str, str | Path]], centre: str, cfg: dict, key: bytes,
                 out_index: Path, out_exclusions: Path, out_volumes: Path) -> None:
    """ingest_patient for each patient of a batch (pseudonym -> {sequence: file}): volumes under
    out_volumes/<pseudonym>/, one index and one exclusion log for the batch, as the DICOM path writes them."""
    Path(out_volumes).mkdir(parents=True, exist_ok=True)
    batch.run(images, lambda patient, tmp: ingest_patient(
        images[patient], centre, patient, cfg, key, tmp["index"], tmp["exclusions"], Path(out_volumes) / patient,
    ), {"index": (out_index, merge_index), "exclusions": (out_exclusions, exclusions.merge)})
