"""Header-only reading of a patient's DICOM files and the geometric checks a series must pass.

A slice is one single-frame image or one frame of a multi-frame (Enhanced MR) object, whose per-frame
functional groups are flattened into a plain header, so that every check below treats both alike.
"""

import gzip
import warnings
import zlib
from dataclasses import dataclass, field

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import (DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian, ExplicitVRLittleEndian,
                         ImplicitVRLittleEndian, MediaStorageDirectoryStorage)

from spinestudy.ingest.sequences import classifying_words, orientation
from spinestudy.ingest.sources import Item

PIXEL_DATA = 0x7FE00010
UNDEFINED_LENGTH = 0xFFFFFFFF
END_OF_FILE = "(unexpected )?end of file"  # pydicom's warning when a file ends within an element
# Tags a slice needs to take part in a volume, with their DICOM tag numbers for error messages.
REQUIRED = {
    "SeriesInstanceUID": "(0020,000E)",
    "ImageOrientationPatient": "(0020,0037)",
    "ImagePositionPatient": "(0020,0032)",
    "PixelSpacing": "(0028,0030)",
    "Rows": "(0028,0010)",
    "Columns": "(0028,0011)",
}
# Enhanced MR: functional group (sequence) -> the keywords it holds, copied into each frame's header.
FRAME_GROUPS = {
    "PlanePositionSequence": {"ImagePositionPatient": "ImagePositionPatient"},
    "PlaneOrientationSequence": {"ImageOrientationPatient": "ImageOrientationPatient"},
    "PixelMeasuresSequence": {"PixelSpacing": "PixelSpacing", "SliceThickness": "SliceThickness"},
    "MREchoSequence": {"EffectiveEchoTime": "EchoTime"},
    "MRTimingAndRelatedParametersSequence": {"RepetitionTime": "RepetitionTime"},
    "MRModifierSequence": {"InversionTimes": "InversionTime"},
    "PixelValueTransformationSequence": {"RescaleSlope": "RescaleSlope", "RescaleIntercept": "RescaleIntercept"},
}


class UnreadableFile(Exception):
    """A file that cannot take part in any series; the message is the reason."""


@dataclass
class Slice:
    item: Item
    ds: Dataset  # header only (PixelData not read); a frame's header for multi-frame objects
    frame: int | None = None  # frame index within a multi-frame object
    problem: str = ""  # why the pixel data cannot be used, e.g. a truncated file

    @property
    def name(self) -> str:
        """How outputs name the slice: instance (or frame) number and the file's keyed label."""
        if self.frame is not None:
            return f"frame {self.frame + 1} of {self.item.label}"
        return f"instance {self.ds.get('InstanceNumber', '?')} ({self.item.label})"


@dataclass
class Series:
    uid: str
    slices: list[Slice]
    echo: str = ""  # the echo's number or time when one series holds several echoes
    problems: list[str] = field(default_factory=list)
    ordered: list[Slice] = field(default_factory=list)  # sorted along the slice normal when valid
    slice_spacing: float | None = None
    shear: np.ndarray | None = None  # in-plane shift (mm) per slice of a sheared stack (gantry tilt)

    @property
    def first(self) -> Dataset:
        return self.slices[0].ds


def _read(fh, force: bool, defer_size: int | None) -> tuple[Dataset, str]:
    """dcmread from the file's start, with "" or the reason its pixel data is cut short.

    A file that ends within an undefined-length element (encapsulated PixelData: RLE, JPEG) makes pydicom
    warn and return an empty dataset; that warning is raised here and the header read again up to PixelData,
    so that the slice keeps its series and is named."""
    fh.seek(0)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", END_OF_FILE, UserWarning)
        try:
            return pydicom.dcmread(fh, defer_size=defer_size, force=force), ""
        except UserWarning:
            fh.seek(0)
        try:
            header = pydicom.dcmread(fh, defer_size=defer_size, force=force, stop_before_pixels=True)
        except UserWarning:
            raise UnreadableFile("truncated file: it ends within its header") from None
    return header, "truncated file: it ends within PixelData (7FE0,0010)"


def _parse(fh, defer_size: int | None) -> tuple[Dataset, str]:
    """The file's dataset, with or without the 128-byte preamble; raise UnreadableFile otherwise."""
    try:
        return _read(fh, False, defer_size)
    except InvalidDicomError:
        pass
    except UnreadableFile:
        raise
    except zlib.error as exc:
        raise UnreadableFile("truncated or damaged deflated dataset (transfer syntax "
                             f"{DeflatedExplicitVRLittleEndian}): {exc}") from None
    except Exception as exc:  # pydicom raises many types on damaged headers
        raise UnreadableFile(f"unreadable DICOM header ({type(exc).__name__})") from None
    try:  # no preamble: a valid dataset still starts with group 0002 or 0008 elements
        ds, problem = _read(fh, True, defer_size)
        if ds.get("SOPClassUID") and ds.get("SOPInstanceUID"):
            return ds, problem
    except Exception:  # noqa: BLE001 - force=True on a non-DICOM file fails in many ways; all mean "not DICOM"
        pass
    raise UnreadableFile("not a DICOM file (no 'DICM' prefix at byte 128) and no DICOM dataset without the preamble")


def dataset(fh, header: bool = False) -> tuple[Dataset, str]:
    """The file's dataset (header: large values such as PixelData left unread) and "" or why its pixel data is
    cut short; raise UnreadableFile.

    A file without file meta (a raw dataset, as some old PACS write) gets the transfer syntax it parses as:
    implicit VR little endian, else explicit VR little or big endian."""
    ds, problem = _parse(fh, 1024 if header else None)
    syntax = ds.file_meta.get("TransferSyntaxUID")
    if header and syntax == DeflatedExplicitVRLittleEndian:
        # pydicom inflates the dataset in memory, but would read deferred values from the compressed file
        return dataset(fh)
    if syntax is None:
        implicit, little = ds.original_encoding
        ds.file_meta.TransferSyntaxUID = (ImplicitVRLittleEndian if implicit else
                                          ExplicitVRLittleEndian if little else ExplicitVRBigEndian)
    return ds, problem


def _pixel_problem(ds: Dataset, size: int, holder: str) -> str:
    """Why the pixel data cannot be read: absent, declared longer than the file (or the inflated dataset:
    holder says which), or shorter than the image."""
    pixels = ds.get_item(PIXEL_DATA, keep_deferred=True)
    if pixels is None:
        return "no PixelData (7FE0,0010)"
    length = getattr(pixels, "length", UNDEFINED_LENGTH)
    start = getattr(pixels, "value_tell", None)
    if length == UNDEFINED_LENGTH:
        return ""
    if start is not None and size - start < length:
        return f"truncated file: PixelData (7FE0,0010) declares {length} bytes, {holder} holds {max(size - start, 0)}"
    if not ds.file_meta.TransferSyntaxUID.is_compressed:
        needed = (int(ds.get("Rows", 0)) * int(ds.get("Columns", 0)) * int(ds.get("NumberOfFrames", 1) or 1)
                  * int(ds.get("SamplesPerPixel", 1)) * int(ds.get("BitsAllocated", 16)) // 8)
        if length < needed:
            return f"PixelData (7FE0,0010) holds {length} bytes, Rows x Columns x frames needs {needed}"
    return ""


def _frames(ds: Dataset) -> list[Dataset]:
    """One plain header per frame of an Enhanced (multi-frame) object, from its functional groups."""
    shared = (ds.get("SharedFunctionalGroupsSequence") or [Dataset()])[0]
    per_frame = ds.get("PerFrameFunctionalGroupsSequence") or [Dataset()] * int(ds.get("NumberOfFrames", 1))
    base = Dataset()
    for tag in ds.keys():  # keys, not elements: iterating elements would load the deferred PixelData
        if tag != PIXEL_DATA and ds[tag].VR != "SQ":
            base.add(ds[tag])
    frames = []
    for number, groups in enumerate(per_frame, start=1):
        frame = Dataset()
        frame.update(base)
        frame.InstanceNumber = number
        for sequence, keywords in FRAME_GROUPS.items():
            for group in (shared, groups):
                if group.get(sequence):
                    for source, keyword in keywords.items():
                        value = group[sequence][0].get(source)
                        if value is not None:
                            setattr(frame, keyword, value[0] if keyword == "InversionTime" else value)
        frames.append(frame)
    return frames


def read_slices(item: Item) -> list[Slice]:
    """The slices of one file (one, or one per frame); [] for a DICOMDIR, which is skipped quietly.

    Raise UnreadableFile when the file is no DICOM or its header cannot be parsed."""
    try:
        fh = item.open()
    except gzip.BadGzipFile as exc:  # gzip-compressed content that does not inflate; the message names no path
        raise UnreadableFile(str(exc)) from None
    except Exception as exc:  # unreadable file or damaged ZIP member (zipfile raises several types)
        raise UnreadableFile(f"cannot be read ({type(exc).__name__})") from None
    with fh:
        ds, problem = dataset(fh, header=True)
        if ds.file_meta.TransferSyntaxUID == DeflatedExplicitVRLittleEndian:  # offsets are within the inflated data
            size, holder = len(ds.buffer.getvalue()), "the inflated dataset"
        else:
            size, holder = fh.seek(0, 2), "the file"
    if ds.get("SOPClassUID") == MediaStorageDirectoryStorage or "DirectoryRecordSequence" in ds:
        return []
    problem = problem or _pixel_problem(ds, size, holder)
    if "PerFrameFunctionalGroupsSequence" in ds or int(ds.get("NumberOfFrames", 1) or 1) > 1:
        return [Slice(item, frame, i, problem) for i, frame in enumerate(_frames(ds))]
    return [Slice(item, ds, None, problem)]


def _echo(ds: Dataset) -> str:
    number = ds.get("EchoNumbers")
    return f"echo {number}" if number not in (None, "") else f"TE {ds.get('EchoTime', '?')} ms"


def group_series(slices: list[Slice]) -> list[Series]:
    """Split slices by SeriesInstanceUID (never by folder), and a series with several echoes by echo (EchoNumbers,
    else EchoTime), in a deterministic order."""
    by_uid: dict[str, list[Slice]] = {}
    for s in slices:
        by_uid.setdefault(str(s.ds.get("SeriesInstanceUID", "")), []).append(s)
    out = []
    for uid, members in sorted(by_uid.items()):
        members = sorted(members, key=lambda s: (s.item.label, s.frame or 0))
        echoes: dict[str, list[Slice]] = {}
        for s in members:
            echoes.setdefault(_echo(s.ds), []).append(s)
        if len(echoes) > 1:
            out += [Series(uid, part, echo) for echo, part in sorted(echoes.items())]
        else:
            out.append(Series(uid, members))
    return out


def _missing_tags(series: Series) -> list[str]:
    problems = []
    for keyword, tag in REQUIRED.items():
        lacking = [s.name for s in series.slices if s.ds.get(keyword) in (None, "")]
        if lacking:
            where = "the per-frame functional groups of " if series.slices[0].frame is not None else ""
            problems.append(f"missing {keyword} {tag} in {where}{len(lacking)} slice(s), e.g. {lacking[0]}")
    return problems


def _consistent(series: Series, keyword: str, tol: float) -> str | None:
    values = np.array([[float(v) for v in s.ds.get(keyword)] for s in series.slices])
    bad = np.nonzero(np.abs(values - values[0]).max(axis=1) > tol)[0]
    if bad.size:
        s = series.slices[bad[0]]
        return (
            f"{keyword} differs within the series: {values[0].tolist()} in {series.slices[0].name} "
            f"but {values[bad[0]].tolist()} in {s.name}"
        )
    return None


def _positions(series: Series, spacing_tol: float, in_plane_tol: float, shear: str) -> list[str]:
    """Sort slices along the normal; report duplicate or missing positions, uneven spacing, and slices off
    the stack's line (a sheared stack is kept for resampling when `shear` is 'resample')."""
    iop = np.array([float(v) for v in series.first.ImageOrientationPatient])
    normal = np.cross(iop[:3], iop[3:])
    ipp = np.array([[float(v) for v in s.ds.ImagePositionPatient] for s in series.slices])
    pos = ipp @ normal
    order = np.argsort(pos, kind="stable")
    pos, ipp, series.ordered = pos[order], ipp[order], [series.slices[i] for i in order]
    if len(pos) < 2:
        return [f"only {len(pos)} slice: not a volume"]
    gaps = np.diff(pos)
    dup = np.nonzero(gaps < 1e-3)[0]
    if dup.size:
        i = dup[0]
        return [
            f"duplicate slice position {pos[i]:.3f} mm along the normal "
            f"({series.ordered[i].name} and {series.ordered[i + 1].name})"
        ]
    step = float(np.median(gaps))
    uneven = np.nonzero(np.abs(gaps - step) > spacing_tol * step)[0]
    if uneven.size:
        i = uneven[0]
        missing = round(gaps[i] / step) - 1
        what = f"missing slice(s): about {missing}" if missing >= 1 else "uneven slice spacing"
        return [
            f"{what}: gap of {gaps[i]:.3f} mm between {series.ordered[i].name} and "
            f"{series.ordered[i + 1].name}, expected {step:.3f} mm"
        ]
    # In-plane offset of each slice from the first, in the row and column directions (mm).
    offset = (ipp - ipp[0]) @ np.stack([iop[:3], iop[3:]]).T
    if np.abs(offset).max() > in_plane_tol:
        k = np.arange(len(pos))[:, None]
        per_slice = np.median(offset[1:] / k[1:], axis=0)
        off_line = np.abs(offset - k * per_slice).max(axis=1)
        if off_line.max() > in_plane_tol:
            i = int(np.argmax(off_line))
            return [f"slice positions do not lie on a straight line: {series.ordered[i].name} is "
                    f"{off_line[i]:.3f} mm off it within the image plane"]
        what = (f"sheared stack (gantry tilt): each slice is shifted by {per_slice[0]:.3f} mm along the rows "
                f"and {per_slice[1]:.3f} mm along the columns within the image plane")
        if shear != "resample":
            return [what + " (config ingest.sheared_stacks: exclude)"]
        series.shear = offset
    series.slice_spacing = step
    return []


def check(series: Series, cfg: dict) -> None:
    """Fill series.problems with every reason the series cannot become one volume."""
    modality = str(series.first.get("Modality", ""))
    if modality != "MR":
        series.problems.append(f"Modality (0008,0060) is '{modality}', expected 'MR'")
        return
    broken = [s for s in series.slices if s.problem]
    if broken:
        series.problems.append(f"{len(broken)} slice(s) with unusable pixel data, e.g. {broken[0].name}: "
                               f"{broken[0].problem}")
    series.problems += _missing_tags(series)
    if series.problems:
        return
    for keyword, tol in (("ImageOrientationPatient", cfg["orientation_tolerance"]), ("PixelSpacing", 1e-4)):
        problem = _consistent(series, keyword, tol)
        if problem:
            series.problems.append(problem)
    for keyword in ("Rows", "Columns"):
        if len({int(s.ds.get(keyword)) for s in series.slices}) > 1:
            series.problems.append(f"{keyword} differs within the series")
    if not series.problems:
        series.problems += _positions(series, cfg["slice_spacing_tolerance"], cfg["in_plane_tolerance"],
                                      cfg["sheared_stacks"])


def describe(series: Series, rules: list[dict]) -> dict:
    """Header facts of a series for the index: no patient-identifying tags, and of SeriesDescription only the
    words that tell its class (rules: the configured sequence rules)."""
    ds = series.first

    def num(keyword):
        value = ds.get(keyword)
        return float(value) if value not in (None, "") else None

    spacing = ds.get("PixelSpacing") or [None, None]
    planes = {orientation(s.ds.ImageOrientationPatient) for s in series.slices
              if len(s.ds.get("ImageOrientationPatient") or []) == 6}
    description = classifying_words(str(ds.get("SeriesDescription", "")), rules)
    return {
        "series_number": int(ds.SeriesNumber) if ds.get("SeriesNumber") not in (None, "") else None,
        "series_description": f"{description} [{series.echo}]" if series.echo else description,
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
