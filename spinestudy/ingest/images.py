"""Ingestion of images already converted from DICOM (NIfTI from dcm2niix, NRRD, MHA, ...): a centre's `images:`.

The pattern names a patient's file of each sequence with {id} (the study id the tables use) and {sequence}
(T1, T2, STIR), e.g. /data/north/{id}/{sequence}.nii.gz; where the files name sequences their own way it is a
mapping sequence -> pattern with {id} (SPIDER: {T2: /data/spider/images/{id}_t2.mha}). Each file passes the
checks of a DICOM series that apply to a converted image (one scalar 2-D or 3-D image, positive spacing,
orthonormal directions, the configured orientation), then becomes the volume, index row and exclusion lines
the DICOM path writes. File names carry the study id, so nothing written names them or copies their header
fields: index and exclusions name the sequence and the reader, UIDs are keyed hashes of the pseudonym.
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
from spinestudy.ingest.job import INDEX_COLUMNS, STAGE, merge_index
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


def describe(image: sitk.Image, reader: str) -> dict:
    """Index facts of an image (its grid and reader; a converted file keeps no acquisition header)."""
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
    """The image's voxels and grid as NIfTI, without the metadata of its file (NRRD and MHA fields are free text)."""
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
        facts = describe(image, reader) if image is not None else {"series_description": ""}
        problems = check(image, cfg) if image is not None else [reader]
        status, reason = "volume", ""
        if problems:
            status, reason = "excluded", "; ".join(problems)
        elif facts["orientation"] is None:
            reason = "2-D image: orientation not checked"
        elif facts["orientation"] != cfg["orientation"]:
            status, reason = "not used", f"orientation {facts['orientation']}: not {cfg['orientation']}"
        volume = Path(out_volumes) / f"{sequence}.nii.gz"
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
