"""The demo imaging cohort: DICOM headers, geometry, label maps, planted signal and shape effects, determinism."""

import time
from collections import defaultdict
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
import pytest
import SimpleITK as sitk
import yaml
from scipy import ndimage

from spinestudy.anatomy import LEVELS, modic_label
from spinestudy.demo import phantom as demo_phantom
from spinestudy.demo.dicom import CENTRE_PROFILES, SAGITTAL, fake_identity, plane_grid, write_patient

SEED = 1234
# Per centre: Pfirrmann grade per level (each 1..5 once), Modic type of upper / lower endplates.
DESIGN = {
    "A": ([1, 2, 3, 4, 5], [1, 0, 2, 0, 3], [0, 0, 0, 0, 0]),
    "B": ([3, 1, 5, 2, 4], [0, 3, 0, 0, 0], [2, 0, 0, 1, 0]),
    "C": ([2, 4, 1, 5, 3], [0, 0, 0, 2, 0], [1, 0, 3, 0, 0]),
    "D": ([5, 3, 4, 1, 2], [3, 0, 0, 0, 1], [0, 2, 0, 0, 0]),
}
REQUIRED = [
    "SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID", "Modality",
    "StudyDate", "StudyTime", "SeriesDate", "SeriesTime", "AcquisitionDate", "ContentDate", "SeriesNumber",
    "InstanceNumber", "SeriesDescription", "Manufacturer", "ManufacturerModelName", "MagneticFieldStrength",
    "ScanningSequence", "SequenceVariant", "RepetitionTime", "EchoTime", "EchoTrainLength", "BodyPartExamined",
    "PatientPosition", "ImagePositionPatient", "ImageOrientationPatient", "SliceLocation", "PixelSpacing",
    "SliceThickness", "Rows", "Columns", "BitsAllocated", "BitsStored", "HighBit", "PixelRepresentation",
    "WindowCenter", "WindowWidth", "ImageType", "PatientName", "PatientID", "PatientBirthDate", "PatientSex",
    "PatientAge", "InstitutionName", "InstitutionAddress", "ReferringPhysicianName", "OperatorsName",
    "AccessionNumber", "StationName",
]


def make_levels(pfirrmann, modic_upper, modic_lower) -> pd.DataFrame:
    pf = np.asarray(pfirrmann)
    return pd.DataFrame({"level": LEVELS, "pfirrmann": pf, "jarosz_height": np.clip(pf - 2, 0, 3),
                         "osteophytes": np.clip(pf - 2, 0, 3), "modic_upper": modic_upper, "modic_lower": modic_lower,
                         "tep_upper": 2, "tep_lower": 2})


def make_patient(centre: str, n: int = 1) -> dict:
    return dict(study_id=f"{centre}{n:04d}", centre=centre, age=61.4, sex="F" if n % 2 else "M",
                procedure_date=pd.Timestamp("2022-03-15"))


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """One patient per centre, written to disk; per centre the written summary, levels and timing."""
    root = tmp_path_factory.mktemp("demo")
    out = {}
    for centre, design in DESIGN.items():
        levels, patient = make_levels(*design), make_patient(centre)
        start = time.perf_counter()
        info = write_patient(root / "dicom" / centre, root / "masks" / f"{patient['study_id']}.nii.gz", patient, levels, SEED)
        out[centre] = dict(info=info, levels=levels, patient=patient, seconds=time.perf_counter() - start)
    return out


def read_all(folder: Path) -> list[pydicom.Dataset]:
    return [pydicom.dcmread(p) for p in sorted(Path(folder).rglob("*")) if p.is_file()]


def read_series(info: dict, key: str) -> sitk.Image:
    reader = sitk.ImageSeriesReader()
    files = reader.GetGDCMSeriesFileNames(info["folder"], info["series"][key], False, True)
    reader.SetFileNames(files)
    return reader.Execute()


def arrays(entry: dict) -> tuple[dict, np.ndarray]:
    images = {k: sitk.GetArrayFromImage(read_series(entry["info"], k)).astype(float) for k in ("T1", "T2", "STIR")}
    return images, sitk.GetArrayFromImage(sitk.ReadImage(entry["info"]["mask"]))


@pytest.mark.parametrize("centre", sorted(DESIGN))
def test_headers(cohort, centre):
    entry = cohort[centre]
    info, profile = entry["info"], CENTRE_PROFILES[centre]
    datasets = read_all(info["folder"])
    assert Path(info["folder"]).name == entry["patient"]["study_id"]
    assert len(datasets) == info["n_files"] == 3 + 3 * profile["slices"]
    for ds in datasets:
        missing = [k for k in REQUIRED if k not in ds]
        assert not missing, missing
        assert ds.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
        assert ds.SOPClassUID == pydicom.uid.MRImageStorage == ds.file_meta.MediaStorageSOPClassUID
        assert ds.pixel_array.dtype == np.uint16 and ds.pixel_array.max() < 2**ds.BitsStored
        assert ds.Manufacturer == profile["Manufacturer"] and float(ds.MagneticFieldStrength) == 1.5
        assert ds.StudyInstanceUID == info["StudyInstanceUID"] and ds.BodyPartExamined == "LSPINE"
    assert len({ds.SOPInstanceUID for ds in datasets}) == len(datasets)
    assert len({ds.FrameOfReferenceUID for ds in datasets}) == 1

    by_series = defaultdict(list)
    for ds in datasets:
        by_series[ds.SeriesInstanceUID].append(ds)
    assert len(by_series) == 4
    for key, uid in info["series"].items():
        group = sorted(by_series[uid], key=lambda d: d.InstanceNumber)
        description = "localizer" if key == "localizer" else profile["protocols"][key]["SeriesDescription"]
        assert len(group) == info["files"][key]
        assert {d.SeriesDescription for d in group} == {description}
        assert {d.SeriesNumber for d in group} == {profile["series_numbers"][key]}
        assert all(("InversionTime" in d) == (key == "STIR") for d in group)
        if key == "localizer":
            assert len(group) == 3
            assert all(list(d.ImageType) == ["ORIGINAL", "PRIMARY", "LOCALIZER"] for d in group)
            assert len({tuple(d.ImageOrientationPatient) for d in group}) == 3
            continue
        assert ("IR" in list(np.atleast_1d(group[0].ScanningSequence))) == (key == "STIR")
        assert [float(v) for v in group[0].ImageOrientationPatient] == [0, 1, 0, 0, 0, -1]
        assert (group[0].Rows, group[0].Columns) == profile["matrix"]
        assert float(group[0].PixelSpacing[0]) == profile["pixel_spacing"]
        steps = np.diff([[float(v) for v in d.ImagePositionPatient] for d in group], axis=0)
        assert np.allclose(steps, [-float(group[0].SpacingBetweenSlices), 0, 0], atol=1e-3)
        assert float(group[0].SpacingBetweenSlices) == profile["SpacingBetweenSlices"]


@pytest.mark.parametrize("centre", sorted(DESIGN))
def test_phi_present(cohort, centre):
    entry = cohort[centre]
    identity, patient = entry["info"]["identity"], entry["patient"]
    ds = read_all(entry["info"]["folder"])[0]
    for tag, value in identity.items():
        assert str(ds[tag].value) == value, tag
    assert ds.PatientID.startswith("MRN") and ds.PatientID != patient["study_id"]
    assert "^" in str(ds.PatientName) and ds.PatientSex == patient["sex"]
    study, birth = (date.fromisoformat(f"{d[:4]}-{d[4:6]}-{d[6:]}") for d in (ds.StudyDate, ds.PatientBirthDate))
    assert 7 <= (patient["procedure_date"].date() - study).days <= 60
    years = study.year - birth.year - ((study.month, study.day) < (birth.month, birth.day))
    assert ds.PatientAge == f"{years:03d}Y" and abs(years - patient["age"]) <= 1


def test_fake_identity_varies():
    rng = np.random.default_rng(0)
    ids = [fake_identity(rng, "M", "B") for _ in range(20)]
    assert len({i["PatientID"] for i in ids}) == 20 and len({i["PatientName"] for i in ids}) > 5
    assert {i["InstitutionName"] for i in ids} == {CENTRE_PROFILES["B"]["institution"][0]}


@pytest.mark.parametrize("centre", sorted(DESIGN))
def test_label_map_geometry_and_labels(cohort, centre):
    entry = cohort[centre]
    t2 = read_series(entry["info"], "T2")
    mask = sitk.ReadImage(entry["info"]["mask"])
    assert mask.GetPixelID() == sitk.sitkUInt8
    assert mask.GetSize() == t2.GetSize()
    assert np.allclose(mask.GetSpacing(), t2.GetSpacing(), atol=1e-4)
    assert np.allclose(mask.GetOrigin(), t2.GetOrigin(), atol=1e-4)
    assert np.allclose(mask.GetDirection(), t2.GetDirection(), atol=1e-6)
    for key in ("T1", "STIR"):
        img = read_series(entry["info"], key)
        assert img.GetSize() == t2.GetSize() and np.allclose(img.GetOrigin(), t2.GetOrigin())
    _, upper, lower = DESIGN[centre]
    lesions = {modic_label(lv, "upper") for lv, m in zip(LEVELS, upper) if m} | {
        modic_label(lv, "lower") for lv, m in zip(LEVELS, lower) if m}
    labels = sitk.GetArrayFromImage(mask)
    found = set(np.unique(labels).tolist())
    assert found == {0, *range(1, 7), *range(11, 16), *lesions}
    assert all((labels == lab).sum() >= 50 for lab in lesions)


@pytest.mark.parametrize("centre", sorted(DESIGN))
def test_disc_t2_falls_with_pfirrmann(cohort, centre):
    images, labels = arrays(cohort[centre])
    grades = DESIGN[centre][0]
    means = {g: images["T2"][labels == 11 + i].mean() for i, g in enumerate(grades)}
    ordered = [means[g] for g in range(1, 6)]
    assert all(a > b for a, b in zip(ordered, ordered[1:])), ordered


@pytest.mark.parametrize("centre", sorted(DESIGN))
def test_modic_signal(cohort, centre):
    images, labels = arrays(cohort[centre])
    _, upper, lower = DESIGN[centre]
    lesions = [(modic_label(lv, "upper"), m, i + 1) for i, (lv, m) in enumerate(zip(LEVELS, upper)) if m] + [
        (modic_label(lv, "lower"), m, i + 2) for i, (lv, m) in enumerate(zip(LEVELS, lower)) if m]
    in_plane = np.zeros((1, 3, 3), bool)
    in_plane[0] = True
    for lab, modic, body in lesions:
        lesion = labels == lab
        marrow = ndimage.binary_erosion(labels == body, in_plane, iterations=2) & ~ndimage.binary_dilation(
            labels >= 20, in_plane, iterations=2)
        rel = {k: img[lesion].mean() / img[marrow].mean() for k, img in images.items()}
        if modic in (1, 2):  # mixed oedema (STIR bright) and fat (T1 bright), bright on T2 whatever the mix
            assert rel["T2"] > 1.1 and (rel["STIR"] > 1.5 or rel["T1"] > 1.1), rel
        else:
            assert rel["T1"] < 0.9 and rel["T2"] < 0.9, rel


def test_mixed_lesions_hold_their_fatty_share():
    """A type I or II lesion's voxels are fatty (type II marrow) in the share drawn for it, the rest oedematous;
    type I lesions are mostly oedematous, type II mostly fatty (phantom.FATTY_SHARE_BETA)."""
    levels = make_levels([3] * 5, [1, 2, 1, 2, 0], [2, 1, 2, 1, 0])
    phantom = demo_phantom.build_phantom(levels, 4)
    profile = CENTRE_PROFILES["A"]
    grid = plane_grid(phantom.centre + [0, 20, -12], SAGITTAL, profile["pixel_spacing"], profile["matrix"],
                      profile["slices"], profile["SpacingBetweenSlices"])
    scene = demo_phantom.sample(phantom, grid)
    shares = {1: [], 2: []}
    for lesion in phantom.lesions:
        tissue = scene.tissue[scene.label == lesion.label]
        assert set(np.unique(tissue)) <= {demo_phantom.MODIC[1], demo_phantom.MODIC[2]}
        assert np.mean(tissue == demo_phantom.MODIC[2]) == pytest.approx(lesion.fatty, abs=0.12)
        shares[lesion.modic].append(lesion.fatty)
    assert len(shares[1]) == len(shares[2]) == 4 and np.mean(shares[1]) < 0.5 < np.mean(shares[2])


def test_planted_shape_effect():
    """Lesion sphericity (marching cubes if skimage is installed, else SimpleITK roundness) and PyRadiomics
    flatness sqrt(lambda_least / lambda_major) order by Modic type as PLANTED_SHAPE_EFFECTS states."""
    effects = yaml.safe_load(yaml.safe_dump(demo_phantom.PLANTED_SHAPE_EFFECTS))
    assert effects == demo_phantom.PLANTED_SHAPE_EFFECTS
    values = defaultdict(lambda: defaultdict(list))
    for seed in range(8):
        centre = "ABCD"[seed % 4]
        profile = CENTRE_PROFILES[centre]
        types = np.random.default_rng(seed).permutation([1, 2, 3, 1, 2, 3])
        levels = make_levels([3] * 5, [types[0], 0, types[1], 0, types[2]], [0, types[3], 0, types[4], 0])
        phantom = demo_phantom.build_phantom(levels, seed)
        grid = plane_grid(phantom.centre + [0, 20, -12], SAGITTAL, profile["pixel_spacing"], profile["matrix"],
                          profile["slices"], profile["SpacingBetweenSlices"])
        _, labels = demo_phantom.render(grid, levels, "T2", np.random.default_rng(seed), anatomy_seed=seed)
        stats = sitk.LabelShapeStatisticsImageFilter()
        stats.Execute(grid.image(labels))
        for lesion in phantom.lesions:
            n = stats.GetNumberOfPixels(lesion.label)
            assert n >= 50
            least, _, major = stats.GetPrincipalMoments(lesion.label)
            values["original_shape_Flatness"][lesion.modic].append(np.sqrt(least / major))
            values["original_shape_Sphericity"][lesion.modic].append(_sphericity(labels == lesion.label, grid, stats, lesion.label))
    for feature, order in effects["expected_order"].items():
        medians = [np.median(values[feature][t]) for t in order]
        assert all(len(values[feature][t]) >= 4 for t in order)
        assert all(a > b for a, b in zip(medians, medians[1:])), (feature, order, medians)
    for feature in effects["type_ii_highest"]:
        medians = {t: np.median(v) for t, v in values[feature].items()}
        assert max(medians, key=medians.get) == 2, (feature, medians)


def _sphericity(mask: np.ndarray, grid, stats, label: int) -> float:
    try:
        from skimage import measure
    except ImportError:
        return stats.GetRoundness(label)
    verts, faces, _, _ = measure.marching_cubes(np.pad(mask, 1).astype(np.float32), 0.5, spacing=grid.spacing[::-1])
    volume = mask.sum() * np.prod(grid.spacing)
    return np.pi ** (1 / 3) * (6 * volume) ** (2 / 3) / measure.mesh_surface_area(verts, faces)


def test_render_api():
    levels = make_levels([1, 2, 3, 4, 5], [1, 0, 0, 0, 0], [0, 0, 0, 2, 0])
    grid = plane_grid([0.0, 20.0, -12.0], SAGITTAL, 1.5, (128, 160), 5, 4.0)
    signal, labels = demo_phantom.render(grid, levels, "STIR", np.random.default_rng(0))
    assert signal.shape == labels.shape == grid.shape == (5, 128, 160)
    assert signal.dtype == np.float32 and labels.dtype == np.uint8
    assert 0 <= signal.min() and np.percentile(signal, 99.9) < 1.5
    assert {1, 6, 11, 15, 21, 34} <= set(np.unique(labels).tolist())


def test_deterministic(tmp_path):
    levels, patient = make_levels(*DESIGN["C"]), make_patient("C", 7)
    runs = [write_patient(tmp_path / run, tmp_path / f"{run}.nii.gz", patient, levels, 99) for run in ("a", "b")]
    other = write_patient(tmp_path / "c", tmp_path / "c.nii.gz", patient, levels, 100)
    assert runs[0]["series"] == runs[1]["series"] and runs[0]["identity"] == runs[1]["identity"]
    files = [sorted(p.relative_to(tmp_path / run) for p in (tmp_path / run).rglob("*") if p.is_file()) for run in ("a", "b")]
    assert files[0] == files[1]
    for rel in files[0]:
        a, b = (pydicom.dcmread(tmp_path / run / rel) for run in ("a", "b"))
        assert a.PixelData == b.PixelData and a.SOPInstanceUID == b.SOPInstanceUID
    masks = [sitk.GetArrayFromImage(sitk.ReadImage(str(tmp_path / f"{run}.nii.gz"))) for run in ("a", "b")]
    assert np.array_equal(*masks)
    assert other["StudyInstanceUID"] != runs[0]["StudyInstanceUID"]


def test_budget(cohort):
    """Each patient's write stays small and fast."""
    for entry in cohort.values():
        assert entry["seconds"] < 5
        assert 3e6 < entry["info"]["bytes"] < 25e6
