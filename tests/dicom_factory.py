"""Small, valid MR DICOM series written with pydicom, for ingestion tests (and broken variants of them)."""

from pathlib import Path

import numpy as np
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

SAGITTAL = [0.0, 1.0, 0.0, 0.0, 0.0, -1.0]


def write_series(folder: Path, n: int = 6, description: str = "t2_tse_sag", spacing: float = 4.0,
                 iop=SAGITTAL, patient_id: str = "MRN1", name: str = "Doe^Jane", prefix: str = "IM",
                 study_uid: str | None = None, size: int = 8, seed: int = 0, **tags) -> list[Path]:
    """Write n sagittal slices (one file each) and return their paths; tags override header values."""
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
        ds.ImagePositionPatient = list(-10.0 * np.array([0, 1, -1]) + normal * spacing * i)
        ds.PixelSpacing, ds.SliceThickness, ds.SpacingBetweenSlices = [0.9, 0.9], spacing, spacing
        ds.Rows = ds.Columns = size
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.Manufacturer, ds.MagneticFieldStrength = "SIEMENS", 1.5
        ds.RepetitionTime, ds.EchoTime = 3500, 100
        ds.PixelData = rng.integers(0, 1000, (size, size), dtype=np.uint16).tobytes()
        for keyword, value in tags.items():
            setattr(ds, keyword, value)
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths
