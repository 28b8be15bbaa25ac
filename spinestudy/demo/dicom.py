"""One demo patient's MR study as DICOM: sagittal T1, T2, STIR and a 3-plane localizer, with fake PHI,
centre-specific scanners, protocols, intensity scaling and file layouts, plus a label map on the T2 grid."""

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import SimpleITK as sitk
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, ExplicitVRLittleEndian, MRImageStorage, generate_uid

from spinestudy.demo.phantom import Grid, build_phantom, render, sample, signal

SAGITTAL = ((0.0, 1.0, 0.0), (0.0, 0.0, -1.0))  # rows run anterior->posterior, columns superior->inferior
CORONAL = ((1.0, 0.0, 0.0), (0.0, 0.0, -1.0))
AXIAL = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0))


def _protocol(desc, scanning, variant, tr, te, etl, flip, ti=None):
    p = dict(SeriesDescription=desc, ScanningSequence=scanning, SequenceVariant=variant,
             RepetitionTime=tr, EchoTime=te, EchoTrainLength=etl, FlipAngle=flip)
    return p | ({"InversionTime": ti} if ti else {})


# Scanner, protocol, reconstruction and export habits of each demo centre (all 1.5 T).
CENTRE_PROFILES: dict[str, dict] = {
    "A": dict(
        Manufacturer="SIEMENS", ManufacturerModelName="MAGNETOM Aera", SoftwareVersions="syngo MR E11",
        MagneticFieldStrength=1.5, institution=("Klinikum Nordstadt", "Nordring 12, 20095 Hamburg, DE"),
        StationName="AWP66071", matrix=(320, 320), pixel_spacing=0.875, SliceThickness=3.5,
        SpacingBetweenSlices=3.85, slices=15, BitsStored=12, scale=1800.0, offset=0.0, noise=0.018, bias=0.12,
        layout="series_folders", image_type=["ORIGINAL", "PRIMARY", "M", "ND", "NORM"],
        series_numbers={"localizer": 1, "T2": 2, "T1": 3, "STIR": 4},
        protocols={
            "T1": _protocol("t1_tse_sag", "SE", ["SK", "SP", "OSP"], 550.0, 10.0, 3, 150.0),
            "T2": _protocol("t2_tse_sag", "SE", ["SK", "SP", "OSP"], 3500.0, 95.0, 15, 150.0),
            "STIR": _protocol("t2_tirm_sag", ["SE", "IR"], ["SK", "SP", "MP", "OSP"], 4000.0, 50.0, 13, 150.0, 150.0),
        },
    ),
    "B": dict(
        Manufacturer="GE MEDICAL SYSTEMS", ManufacturerModelName="SIGNA Explorer", SoftwareVersions="25_LX_MR",
        MagneticFieldStrength=1.5, institution=("St. Aldhelm Spine Centre", "14 Harbour Road, Bristol BS1 6XN, UK"),
        StationName="GEMR15EXP", matrix=(256, 256), pixel_spacing=1.09375, SliceThickness=4.0,
        SpacingBetweenSlices=4.5, slices=13, BitsStored=16, scale=3000.0, offset=0.0, noise=0.025, bias=0.2,
        layout="ge_exam", image_type=["ORIGINAL", "PRIMARY", "OTHER"],
        series_numbers={"localizer": 1, "T1": 2, "T2": 3, "STIR": 4},
        protocols={
            "T1": _protocol("SAG T1 FSE", "SE", ["SK", "OSP"], 600.0, 9.0, 4, 90.0),
            "T2": _protocol("SAG T2 FSE", "SE", ["SK", "OSP"], 3200.0, 105.0, 20, 90.0),
            "STIR": _protocol("SAG STIR", ["SE", "IR"], ["SK", "OSP"], 3800.0, 42.0, 10, 90.0, 150.0),
        },
    ),
    "C": dict(
        Manufacturer="Philips Medical Systems", ManufacturerModelName="Ingenia", SoftwareVersions="5.4.1",
        MagneticFieldStrength=1.5, institution=("Rijnoever Ziekenhuis", "Kadeweg 3, 3511 AB Utrecht, NL"),
        StationName="PHILIPS-7QK2M", matrix=(288, 288), pixel_spacing=0.9, SliceThickness=3.0,
        SpacingBetweenSlices=3.3, slices=17, BitsStored=12, scale=1200.0, offset=0.0, noise=0.02, bias=0.15,
        layout="flat_uid", image_type=["ORIGINAL", "PRIMARY", "M_SE", "M", "SE"],
        series_numbers={"localizer": 101, "T1": 201, "T2": 301, "STIR": 401},
        protocols={
            "T1": _protocol("sT1W_TSE", "SE", ["SK"], 500.0, 8.0, 5, 90.0),
            "T2": _protocol("T2_TSE_SAG", "SE", ["SK"], 3000.0, 100.0, 18, 90.0),
            "STIR": _protocol("STIR", "IR", ["SK", "MP"], 3500.0, 60.0, 15, 90.0, 165.0),
        },
    ),
    "D": dict(
        Manufacturer="Canon Medical Systems", ManufacturerModelName="Vantage Orian", SoftwareVersions="V6.0",
        MagneticFieldStrength=1.5, institution=("Clinica Vertebrale San Rocco", "Via Roma 88, 40121 Bologna, IT"),
        StationName="MRC_ORIAN1", matrix=(256, 256), pixel_spacing=1.171875, SliceThickness=4.0,
        SpacingBetweenSlices=4.4, slices=13, BitsStored=12, scale=2200.0, offset=150.0, noise=0.03, bias=0.25,
        layout="dicomdir", image_type=["ORIGINAL", "PRIMARY", "MR"],
        series_numbers={"localizer": 1, "T1": 2, "T2": 3, "STIR": 5},
        protocols={
            "T1": _protocol("sag T1", "SE", ["SK", "SP"], 620.0, 12.0, 3, 90.0),
            "T2": _protocol("sag T2", "SE", ["SK", "SP"], 3800.0, 110.0, 21, 90.0),
            "STIR": _protocol("sag stir", "IR", ["SK", "SP", "MP"], 4200.0, 64.0, 11, 90.0, 160.0),
        },
    ),
}
LOCALIZER = dict(matrix=(256, 256), pixel_spacing=1.7578125, SliceThickness=8.0,
                 protocol=_protocol("localizer", "GR", ["SP"], 8.6, 4.0, 1, 20.0))

FAMILY = ["Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann", "Smith", "Jones", "Taylor",
          "Brown", "Evans", "Walker", "de Jong", "Jansen", "Visser", "Bakker", "Rossi", "Russo", "Ferrari",
          "Esposito", "Bianchi", "Romano", "Colombo", "Novak", "Kowalski", "Nielsen", "Garcia", "Martin", "Dubois"]
GIVEN = {"F": ["Anna", "Maria", "Sophie", "Emma", "Julia", "Sarah", "Laura", "Giulia", "Eva", "Ingrid", "Claire", "Hannah"],
         "M": ["Peter", "Thomas", "Lukas", "James", "David", "Marco", "Jan", "Pieter", "Paul", "Stefan", "Luca", "Oliver"]}
TITLES = ["Dr", "Prof Dr", "Dr med"]


def fake_identity(rng: np.random.Generator, sex: str | None = None, centre: str | None = None) -> dict:
    """Fake but realistic PHI for one patient: name, MRN, institution, referring physician, operator, accession."""
    sex = sex or str(rng.choice(["F", "M"]))
    institution, address = CENTRE_PROFILES[centre]["institution"] if centre else (
        f"{rng.choice(FAMILY)} Hospital", f"{rng.integers(1, 200)} Main Street")

    def person(sex_):
        return f"{rng.choice(FAMILY)}^{rng.choice(GIVEN[sex_])}"

    return dict(
        PatientName=person(sex),
        PatientID=f"MRN{rng.integers(1_000_000, 9_999_999)}",
        InstitutionName=institution,
        InstitutionAddress=address,
        ReferringPhysicianName=f"{person(str(rng.choice(['F', 'M'])))}^^{rng.choice(TITLES)}",
        OperatorsName=person(str(rng.choice(["F", "M"]))),
        AccessionNumber=f"{rng.integers(10**9, 10**10)}",
        StationName=CENTRE_PROFILES[centre]["StationName"] if centre else f"MR{rng.integers(100, 999)}",
    )


def plane_grid(centre, orientation, pixel_spacing: float, matrix: tuple[int, int], n_slices: int = 1,
               slice_spacing: float = 1.0) -> Grid:
    """A stack of slices centred on a point; orientation = (row direction, column direction) as in
    ImageOrientationPatient; slices step along row x column. Positions are rounded as DICOM will store them."""
    r, c = (np.asarray(v) for v in orientation)
    n = np.cross(r, c)
    rows, cols = matrix
    origin = (np.asarray(centre) - (cols - 1) / 2 * pixel_spacing * r - (rows - 1) / 2 * pixel_spacing * c
              - (n_slices - 1) / 2 * slice_spacing * n)
    return Grid(origin=tuple(_round(origin)), direction=tuple((np.column_stack([r, c, n]).ravel() + 0.0).tolist()),
                spacing=(pixel_spacing, pixel_spacing, slice_spacing), size=(cols, rows, n_slices))


def _round(v) -> list[float]:
    return [round(float(x), 4) + 0.0 for x in v]


def _uid(seed: int, *parts) -> str:
    return generate_uid(entropy_srcs=[str(seed), *map(str, parts)])


def _file_path(root: Path, layout: str, series_number: int, instance: int, sop_uid: str, file_no: int) -> Path:
    """Where a centre's export puts one image file."""
    if layout == "series_folders":
        return root / f"series_{series_number:03d}" / f"IM_{instance:04d}.dcm"
    if layout == "ge_exam":
        return root / f"Ser{series_number}" / f"i{file_no:07d}.MRDC.{instance}"
    if layout == "flat_uid":
        return root / f"{sop_uid}.dcm"
    return root / "DICOM" / "ST000000" / f"SE{series_number:06d}" / f"IM{instance:06d}"


def _slice(common: dict, grid: Grid, k: int, pixels: np.ndarray, sop_uid: str, instance: int) -> FileDataset:
    """One image file's dataset: the series' common attributes plus this slice's position and pixels."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MRImageStorage
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds = FileDataset("", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.update(common)
    position = _round(np.asarray(grid.origin) + k * grid.spacing[2] * grid.axis(2))
    ds.SOPInstanceUID = sop_uid
    ds.InstanceNumber = instance
    ds.ImagePositionPatient = position
    ds.ImageOrientationPatient = [*grid.axis(0).tolist(), *grid.axis(1).tolist()]
    ds.SliceLocation = round(float(np.dot(position, grid.axis(2))), 4) + 0.0
    ds.Rows, ds.Columns = pixels.shape
    ds.PixelSpacing = [grid.spacing[1], grid.spacing[0]]
    ds.PixelData = np.ascontiguousarray(pixels, dtype=np.uint16).tobytes()
    return ds


def _write_series(root: Path, profile: dict, common: dict, grids: list[Grid], images: list[np.ndarray],
                  seed: int, study_id: str, key: str, file_no: int) -> dict:
    """Write one series (one file per slice) and describe it."""
    series_uid = _uid(seed, study_id, key, "series")
    top = (1 << common["BitsStored"]) - 1
    stored = [np.clip(np.rint(profile["scale"] * im + profile["offset"]), 0, top).astype(np.uint16) for im in images]
    lo, hi = np.percentile(np.concatenate([s.ravel() for s in stored]), [1, 99.5])
    series = common | dict(SeriesInstanceUID=series_uid, WindowCenter=int((lo + hi) / 2), WindowWidth=int(max(hi - lo, 1)))
    paths = []
    for grid, pixels in zip(grids, stored):
        for k in range(grid.shape[0]):
            sop_uid = _uid(seed, study_id, key, "image", len(paths))
            path = _file_path(root, profile["layout"], series["SeriesNumber"], len(paths) + 1, sop_uid, file_no + len(paths))
            path.parent.mkdir(parents=True, exist_ok=True)
            _slice(series, grid, k, pixels[k], sop_uid, len(paths) + 1).save_as(path, enforce_file_format=True)
            paths.append(path)
    return dict(uid=series_uid, files=len(paths), bytes=sum(p.stat().st_size for p in paths))


def _dicom_time(t: datetime) -> str:
    return t.strftime("%H%M%S")


def write_patient(out_dicom_dir: Path, out_mask_path: Path, patient: dict, levels: pd.DataFrame, seed: int) -> dict:
    """Write out_dicom_dir/<study_id>/... (3-plane localizer, sagittal T1, T2, STIR) and the label map
    (uint8 NIfTI on the T2 series grid as SimpleITK reads it) at out_mask_path. Returns study_id, centre,
    identity (every PHI value written), StudyInstanceUID, StudyDate, folder, mask, series (key -> SeriesInstanceUID),
    files (key -> file count), n_files and bytes; keys are "localizer", "T1", "T2", "STIR"."""
    centre, study_id = patient["centre"], patient["study_id"]
    profile = CENTRE_PROFILES[centre]
    rng = np.random.default_rng([seed, 1])
    identity = fake_identity(rng, patient["sex"], centre)
    procedure = pd.Timestamp(patient["procedure_date"]).to_pydatetime()
    study_time = (procedure - timedelta(days=int(rng.integers(7, 61)))).replace(
        hour=int(rng.integers(7, 18)), minute=int(rng.integers(0, 60)), second=int(rng.integers(0, 60)), microsecond=0)
    birth = procedure - timedelta(days=round(float(patient["age"]) * 365.2425))
    age = study_time.year - birth.year - ((study_time.month, study_time.day) < (birth.month, birth.day))
    identity |= dict(PatientBirthDate=birth.strftime("%Y%m%d"), PatientSex=patient["sex"], PatientAge=f"{age:03d}Y")

    phantom = build_phantom(levels, anatomy_seed=seed)
    centre_xyz = phantom.centre + [0.0, 20 + rng.uniform(-5, 5), -12 + rng.uniform(-5, 5)]
    grid = plane_grid(centre_xyz, SAGITTAL, profile["pixel_spacing"], profile["matrix"], profile["slices"],
                      profile["SpacingBetweenSlices"])
    scene = sample(phantom, grid)

    root = Path(out_dicom_dir) / study_id
    study = dict(
        SpecificCharacterSet="ISO_IR 100", SOPClassUID=MRImageStorage, Modality="MR",
        StudyInstanceUID=_uid(seed, study_id, "study"), FrameOfReferenceUID=_uid(seed, study_id, "frame"),
        StudyDate=study_time.strftime("%Y%m%d"), StudyTime=_dicom_time(study_time), StudyID="1",
        StudyDescription="MRI LUMBAR SPINE", PositionReferenceIndicator="", **identity,
        PatientWeight=round(float(rng.uniform(52, 110)), 1), PatientPosition="HFS", BodyPartExamined="LSPINE",
        **{k: profile[k] for k in ("Manufacturer", "ManufacturerModelName", "SoftwareVersions", "MagneticFieldStrength")},
        ImagingFrequency=63.87, ImagedNucleus="1H", MRAcquisitionType="2D", ReceiveCoilName="SPINE",
        SamplesPerPixel=1, PhotometricInterpretation="MONOCHROME2", BitsAllocated=16,
        BitsStored=profile["BitsStored"], HighBit=profile["BitsStored"] - 1, PixelRepresentation=0,
        AcquisitionNumber=1, NumberOfAverages=1.0, EchoNumbers=1,
    )
    out = dict(study_id=study_id, centre=centre, identity=identity, StudyInstanceUID=study["StudyInstanceUID"],
               StudyDate=study["StudyDate"], folder=str(root), mask=str(out_mask_path), series={}, files={})
    file_no = int(rng.integers(1000, 900_000))
    for order, key in enumerate(sorted(profile["series_numbers"], key=profile["series_numbers"].get)):
        t = study_time + timedelta(minutes=1 + 4 * order)
        series_rng = np.random.default_rng([seed, 2, profile["series_numbers"][key]])
        if key == "localizer":
            grids, images = _localizer(levels, seed, phantom.centre, series_rng)
            protocol, extra = LOCALIZER["protocol"], dict(ImageType=["ORIGINAL", "PRIMARY", "LOCALIZER"],
                                                          SliceThickness=LOCALIZER["SliceThickness"])
        else:
            grids, images = [grid], [signal(scene, key, series_rng, profile["noise"], profile["bias"])]
            protocol, extra = profile["protocols"][key], dict(
                ImageType=profile["image_type"], SliceThickness=profile["SliceThickness"],
                SpacingBetweenSlices=profile["SpacingBetweenSlices"])
        common = study | protocol | extra | dict(
            SeriesNumber=profile["series_numbers"][key], ProtocolName=protocol["SeriesDescription"],
            SeriesDate=t.strftime("%Y%m%d"), SeriesTime=_dicom_time(t), AcquisitionDate=t.strftime("%Y%m%d"),
            AcquisitionTime=_dicom_time(t), ContentDate=t.strftime("%Y%m%d"), ContentTime=_dicom_time(t + timedelta(seconds=40)))
        written = _write_series(root, profile, common, grids, images, seed, study_id, key, file_no)
        out["series"][key], out["files"][key] = written["uid"], written["files"]
        out["bytes"] = out.get("bytes", 0) + written["bytes"]
        file_no += written["files"]
    Path(out_mask_path).parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(grid.image(scene.label.reshape(grid.shape)), str(out_mask_path), useCompression=True)
    out["n_files"] = sum(out["files"].values())
    return out


def _localizer(levels: pd.DataFrame, seed: int, centre: np.ndarray, rng: np.random.Generator):
    """Three single-slice scout images (sagittal, coronal, axial) through the spine, T1-like contrast."""
    grids = [plane_grid(centre + offset, plane, LOCALIZER["pixel_spacing"], LOCALIZER["matrix"])
             for plane, offset in ((SAGITTAL, [0, 30, -20]), (CORONAL, [0, 0, -20]), (AXIAL, [0, 0, -15]))]
    return grids, [render(g, levels, "T1", rng, anatomy_seed=seed, noise=0.03)[0] for g in grids]
