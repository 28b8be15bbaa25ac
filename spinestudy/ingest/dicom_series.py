"""Header-only reading of a patient's DICOM files and the geometric checks a series must pass."""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from spinestudy.ingest.sequences import orientation

PIXEL_DATA = 0x7FE00010
UNDEFINED_LENGTH = 0xFFFFFFFF
# Tags a slice needs to take part in a volume, with their DICOM tag numbers for error messages.
REQUIRED = {
    "SeriesInstanceUID": "(0020,000E)",
    "ImageOrientationPatient": "(0020,0037)",
    "ImagePositionPatient": "(0020,0032)",
    "PixelSpacing": "(0028,0030)",
    "Rows": "(0028,0010)",
    "Columns": "(0028,0011)",
}


class UnreadableFile(Exception):
    """A file that cannot take part in any series; the message is the reason."""


@dataclass
class Slice:
    rel: str  # path relative to the patient folder (never the folder's own name)
    path: Path
    ds: Dataset  # header only: values over 1 KiB, PixelData among them, are not read
    problem: str = ""  # why the pixel data cannot be used, e.g. a truncated file


@dataclass
class Series:
    uid: str
    slices: list[Slice]
    problems: list[str] = field(default_factory=list)
    ordered: list[Slice] = field(default_factory=list)  # sorted along the slice normal when valid
    slice_spacing: float | None = None

    @property
    def first(self) -> Dataset:
        return self.slices[0].ds


def read_header(path: Path) -> tuple[Dataset, str]:
    """Read a file's header without its pixel data; return it with the pixel data's problem, if any.

    Raise UnreadableFile when the file is no DICOM or its header cannot be parsed."""
    try:
        ds = pydicom.dcmread(path, defer_size=1024)
    except InvalidDicomError:
        raise UnreadableFile("not a DICOM file (no 'DICM' prefix at byte 128)") from None
    except Exception as exc:  # pydicom raises many types on damaged headers
        raise UnreadableFile(f"unreadable DICOM header ({type(exc).__name__})") from None
    pixels = ds.get_item(PIXEL_DATA)
    if pixels is None:
        return ds, "no PixelData (7FE0,0010)"
    length = getattr(pixels, "length", UNDEFINED_LENGTH)
    start = getattr(pixels, "value_tell", None)
    if start is not None and length != UNDEFINED_LENGTH:
        held = path.stat().st_size - start
        if held < length:
            return ds, f"truncated file: PixelData (7FE0,0010) declares {length} bytes, the file holds {max(held, 0)}"
    return ds, ""


def group_series(slices: list[Slice]) -> list[Series]:
    """Split slices by SeriesInstanceUID (never by folder), in a deterministic order."""
    by_uid: dict[str, list[Slice]] = {}
    for s in slices:
        by_uid.setdefault(str(s.ds.get("SeriesInstanceUID", "")), []).append(s)
    return [Series(uid, sorted(members, key=lambda s: s.rel)) for uid, members in sorted(by_uid.items())]


def _missing_tags(series: Series) -> list[str]:
    problems = []
    for keyword, tag in REQUIRED.items():
        lacking = [s.rel for s in series.slices if s.ds.get(keyword) in (None, "")]
        if lacking:
            problems.append(f"missing {keyword} {tag} in {len(lacking)} file(s), e.g. {lacking[0]}")
    return problems


def _consistent(series: Series, keyword: str, tol: float) -> str | None:
    values = np.array([[float(v) for v in s.ds.get(keyword)] for s in series.slices])
    bad = np.nonzero(np.abs(values - values[0]).max(axis=1) > tol)[0]
    if bad.size:
        s = series.slices[bad[0]]
        return (
            f"{keyword} differs within the series: {list(values[0])} in {series.slices[0].rel} "
            f"but {list(values[bad[0]])} in {s.rel}"
        )
    return None


def _positions(series: Series, spacing_tol: float) -> list[str]:
    """Sort slices along the normal; report duplicate or missing positions and uneven spacing."""
    iop = np.array([float(v) for v in series.first.ImageOrientationPatient])
    normal = np.cross(iop[:3], iop[3:])
    pos = np.array([np.dot(normal, [float(v) for v in s.ds.ImagePositionPatient]) for s in series.slices])
    order = np.argsort(pos, kind="stable")
    pos, series.ordered = pos[order], [series.slices[i] for i in order]
    if len(pos) < 2:
        return [f"only {len(pos)} slice: not a volume"]
    gaps = np.diff(pos)
    dup = np.nonzero(gaps < 1e-3)[0]
    if dup.size:
        i = dup[0]
        return [
            f"duplicate slice position {pos[i]:.3f} mm along the normal "
            f"({series.ordered[i].rel} and {series.ordered[i + 1].rel})"
        ]
    step = float(np.median(gaps))
    uneven = np.nonzero(np.abs(gaps - step) > spacing_tol * step)[0]
    if uneven.size:
        i = uneven[0]
        missing = round(gaps[i] / step) - 1
        what = f"missing slice(s): about {missing}" if missing >= 1 else "uneven slice spacing"
        return [
            f"{what}: gap of {gaps[i]:.3f} mm between {series.ordered[i].rel} and "
            f"{series.ordered[i + 1].rel}, expected {step:.3f} mm"
        ]
    series.slice_spacing = step
    return []


def check(series: Series, orientation_tol: float, spacing_tol: float) -> None:
    """Fill series.problems with every reason the series cannot become one volume."""
    modality = str(series.first.get("Modality", ""))
    if modality != "MR":
        series.problems.append(f"Modality (0008,0060) is '{modality}', expected 'MR'")
        return
    broken = [s for s in series.slices if s.problem]
    if broken:
        series.problems.append(f"{len(broken)} file(s) with unusable pixel data, e.g. {broken[0].rel}: {broken[0].problem}")
    series.problems += _missing_tags(series)
    if series.problems:
        return
    for keyword, tol in (("ImageOrientationPatient", orientation_tol), ("PixelSpacing", 1e-4)):
        problem = _consistent(series, keyword, tol)
        if problem:
            series.problems.append(problem)
    for keyword in ("Rows", "Columns"):
        if len({int(s.ds.get(keyword)) for s in series.slices}) > 1:
            series.problems.append(f"{keyword} differs within the series")
    if not series.problems:
        series.problems += _positions(series, spacing_tol)


def describe(series: Series) -> dict:
    """Header facts of a series for the index (no patient-identifying tags)."""
    ds = series.first

    def num(keyword):
        value = ds.get(keyword)
        return float(value) if value not in (None, "") else None

    spacing = ds.get("PixelSpacing") or [None, None]
    planes = {orientation(s.ds.ImageOrientationPatient) for s in series.slices
              if len(s.ds.get("ImageOrientationPatient") or []) == 6}
    return {
        "series_number": int(ds.SeriesNumber) if ds.get("SeriesNumber") not in (None, "") else None,
        "series_description": str(ds.get("SeriesDescription", "")),
        "modality": str(ds.get("Modality", "")),
        "orientation": planes.pop() if len(planes) == 1 else ("mixed" if planes else None),
        "n_slices": len(series.slices),
        "rows": int(ds.Rows) if ds.get("Rows") is not None else None,
        "columns": int(ds.Columns) if ds.get("Columns") is not None else None,
        "pixel_spacing_row": float(spacing[0]) if spacing[0] is not None else None,
        "pixel_spacing_col": float(spacing[1]) if spacing[1] is not None else None,
        "slice_thickness": num("SliceThickness"),
        "slice_spacing": series.slice_spacing,
        "manufacturer": str(ds.get("Manufacturer", "")),
        "model": str(ds.get("ManufacturerModelName", "")),
        "field_strength": num("MagneticFieldStrength"),
        "repetition_time": num("RepetitionTime"),
        "echo_time": num("EchoTime"),
        "inversion_time": num("InversionTime"),
    }
