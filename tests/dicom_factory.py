"""Valid MR DICOM series written with pydicom, for ingestion tests, and the shapes hospitals send them in:
sheared stacks, Enhanced MR multi-frame objects, files without preamble or file meta, deflated, RLE and gzip
files, ZIP archives, DICOMDIRs."""

import gzip
import zipfile
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.uid import (DeflatedExplicitVRLittleEndian, EnhancedMRImageStorage, ExplicitVRLittleEndian,
                         MediaStorageDirectoryStorage, MRImageStorage, RLELossless, generate_uid)

SAGITTAL = [0.0, 1.0, 0.0, 0.0, 0.0, -1.0]


def write_series(folder: Path, n: int = 6, description: str = "t2_tse_sag", spacing: float = 4.0,
                 iop=SAGITTAL, patient_id: str = "MRN1", name: str = "Doe^Jane", prefix: str = "IM",
                 study_uid: str | None = None, size: int = 8, seed: int = 0, origin=(-0.0, -10.0, 10.0),
                 pixel_spacing: float = 0.9, pixels: np.ndarray | None = None, **tags) -> list[Path]:
    """Write n sagittal slices (one file each) and return their paths; `pixels` (n, size, size uint16, default
    random) are their values, tags override header values."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    # one study per patient unless told: series written for the same PatientID belong together
    series_uid, study_uid = generate_uid(), study_uid or generate_uid(entropy_srcs=[patient_id])
    paths = []
    for i in range(n):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = MRImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        path = folder / f"{prefix}{i:04d}.dcm"
        ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID, ds.SOPInstanceUID = MRImageStorage, meta.MediaStorageSOPInstanceUID
        ds.Modality, ds.PatientName, ds.PatientID, ds.PatientBirthDate = "MR", name, patient_id, "19600101"
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SeriesNumber = study_uid, series_uid, 3
        ds.StudyDate, ds.StudyTime = "20240115", "101500"
        ds.SeriesDescription, ds.InstanceNumber = description, i + 1
        ds.ImageOrientationPatient = list(iop)
        normal = np.cross(iop[:3], iop[3:])
        ds.ImagePositionPatient = list(np.asarray(origin) + normal * spacing * i)
        ds.PixelSpacing, ds.SliceThickness, ds.SpacingBetweenSlices = [pixel_spacing] * 2, spacing, spacing
        ds.Rows = ds.Columns = size
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.Manufacturer, ds.MagneticFieldStrength = "SIEMENS", 1.5
        ds.RepetitionTime, ds.EchoTime = 3500, 100
        values = rng.integers(0, 1000, (size, size), dtype=np.uint16) if pixels is None else pixels[i]
        ds.PixelData = np.ascontiguousarray(values, dtype=np.uint16).tobytes()
        for keyword, value in tags.items():
            setattr(ds, keyword, value)
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def shear(paths: list[Path], step: float) -> None:
    """Turn a series into a sheared stack (gantry tilt): slice k is moved k * step mm along its rows, and its
    pixels k * step / column spacing columns back, so that every pixel keeps its place in the patient
    (columns shifted in from outside the image are 0). step must be a whole number of pixels."""
    for k, path in enumerate(sorted(paths)):
        ds = pydicom.dcmread(path)
        shift = round(k * step / float(ds.PixelSpacing[1]))
        ds.ImagePositionPatient = list(np.array(ds.ImagePositionPatient, float)
                                       + k * step * np.array(ds.ImageOrientationPatient[:3], float))
        pixels = np.zeros_like(ds.pixel_array)
        pixels[:, : pixels.shape[1] - shift] = ds.pixel_array[:, shift:]
        ds.PixelData = pixels.tobytes()
        ds.save_as(path)


def write_enhanced(paths: list[Path], out: Path) -> Path:
    """One Enhanced MR Image object (per-frame functional groups, as Philips and Siemens XA export) holding the
    single-frame slices of paths, in the order given."""
    slices = [pydicom.dcmread(p) for p in paths]
    first = slices[0]
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = EnhancedMRImageStorage, generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(out), {}, file_meta=meta, preamble=b"\0" * 128)
    for keyword in ("Modality", "PatientName", "PatientID", "PatientBirthDate", "StudyInstanceUID", "StudyDate",
                    "StudyTime", "SeriesInstanceUID", "SeriesNumber", "SeriesDescription", "Rows", "Columns",
                    "SamplesPerPixel", "PhotometricInterpretation", "BitsAllocated", "BitsStored", "HighBit",
                    "PixelRepresentation", "Manufacturer", "MagneticFieldStrength"):
        setattr(ds, keyword, first.get(keyword))
    ds.SOPClassUID, ds.SOPInstanceUID = EnhancedMRImageStorage, meta.MediaStorageSOPInstanceUID
    ds.InstanceNumber, ds.NumberOfFrames = 1, len(slices)
    shared = Dataset()
    shared.PixelMeasuresSequence = [Dataset()]
    shared.PixelMeasuresSequence[0].PixelSpacing = first.PixelSpacing
    shared.PixelMeasuresSequence[0].SliceThickness = first.SliceThickness
    shared.PlaneOrientationSequence = [Dataset()]
    shared.PlaneOrientationSequence[0].ImageOrientationPatient = first.ImageOrientationPatient
    shared.MRTimingAndRelatedParametersSequence = [Dataset()]
    shared.MRTimingAndRelatedParametersSequence[0].RepetitionTime = first.RepetitionTime
    ds.SharedFunctionalGroupsSequence = [shared]
    frames = []
    for s in slices:
        frame = Dataset()
        frame.PlanePositionSequence = [Dataset()]
        frame.PlanePositionSequence[0].ImagePositionPatient = s.ImagePositionPatient
        frame.MREchoSequence = [Dataset()]
        frame.MREchoSequence[0].EffectiveEchoTime = s.EchoTime
        frames.append(frame)
    ds.PerFrameFunctionalGroupsSequence = frames
    ds.PixelData = b"".join(s.PixelData for s in slices)
    out.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(out, enforce_file_format=True)
    return out


def strip_preamble(path: Path) -> None:
    """Rewrite a file without the 128-byte preamble and 'DICM' prefix (a valid dataset all the same)."""
    path.write_bytes(path.read_bytes()[132:])


def strip_file_meta(path: Path, implicit: bool = True) -> None:
    """Rewrite a file as a raw dataset, as some old PACS write: no preamble, no file meta (so no transfer
    syntax), implicit or explicit VR little endian."""
    fp = DicomBytesIO()
    fp.is_implicit_VR, fp.is_little_endian = implicit, True
    write_dataset(fp, pydicom.dcmread(path))
    path.write_bytes(fp.getvalue())


def deflate(path: Path) -> None:
    """Rewrite a file in Deflated Explicit VR Little Endian (1.2.840.10008.1.2.1.99): the whole dataset after
    the file meta is deflate-compressed (pydicom compresses on writing)."""
    ds = pydicom.dcmread(path)
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    ds.save_as(path, enforce_file_format=True)


def rle(path: Path) -> None:
    """Rewrite a file with RLE Lossless pixel data (encapsulated, undefined length)."""
    ds = pydicom.dcmread(path)
    ds.compress(RLELossless)
    ds.save_as(path, enforce_file_format=True)


def gzip_in_place(path: Path) -> None:
    """Gzip-compress a file under its own name (a `.dcm` that is gzip inside, as some transfer tools leave)."""
    path.write_bytes(gzip.compress(path.read_bytes(), mtime=0))


def write_dicomdir(folder: Path) -> Path:
    """A DICOMDIR (media directory) file, as CDs and PACS exports add beside the images."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = MediaStorageDirectoryStorage, generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(folder / "DICOMDIR"), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.FileSetID, ds.DirectoryRecordSequence = "EXPORT", []
    ds.save_as(folder / "DICOMDIR", enforce_file_format=True)
    return folder / "DICOMDIR"


def zip_files(paths: list[Path], archive: Path, root: Path) -> Path:
    """A ZIP archive of paths, stored under their names relative to root."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for path in paths:
            z.write(path, path.relative_to(root).as_posix())
    return archive
