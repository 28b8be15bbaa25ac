"""Converted images through the workflow (a centre with `images:` instead of `dicom:`): 2-D sagittal T2 slices
as NRRD with label-200 disc masks, the layout of published 2-D lumbar radiomics data. Patients whose mask or
image is unusable become exclusion lines with the reason while the others are extracted (issue 19, points 5-7).
Only the ingestion and radiomics targets run: the 2-D parameter file (force2D) is this centre's own."""

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
import yaml
from radiomics import featureextractor

from snakemake_runner import KEY, absolute_config_paths, plan_cluster_job, snakemake
from spinestudy import pseudonym
from spinestudy.anatomy import LEVELS
from spinestudy.demo.dicom import SAGITTAL, plane_grid
from spinestudy.demo.phantom import build_phantom, render

pytestmark = pytest.mark.workflow
DISC = 200
# no geometryTolerance: the volumes keep the NRRD files' grid exactly (MetaImage), so the masks fit it as read
PARAMS = {"setting": {"force2D": True, "force2Ddimension": 0, "binWidth": 25, "label": DISC, "minimumROISize": 20},
          "imageType": {"Original": {}}, "featureClass": {"shape2D": None, "firstorder": None, "glcm": None}}
TARGETS = ["results/ingest/series_index.parquet", "results/ingest/exclusions.csv", "results/radiomics/features.parquet",
           "results/radiomics/diagnostics.parquet", "results/radiomics/exclusions.csv"]
GOOD = ["N-4711", "N-4712", "N-4716"]  # N-4716: label 99 painted over the upper discs, the rest extracted


def mid_sagittal_t2(seed: int) -> tuple[sitk.Image, sitk.Image]:
    """One 320 x 320 mid-sagittal T2 slice of the demo phantom (2-D, int16) and its disc mask (label 200)."""
    levels = pd.DataFrame({"level": LEVELS, "pfirrmann": [2, 3, 3, 4, 5]} | {
        column: [0] * 5 for column in ("modic_upper", "modic_lower", "jarosz_height", "osteophytes")})
    grid = plane_grid(build_phantom(levels, seed).centre + [0, 20, -12], SAGITTAL, 0.6875, (320, 320))
    signal, labels = render(grid, levels, "T2", np.random.default_rng(seed), anatomy_seed=seed)
    image = sitk.GetImageFromArray((signal[0] * 1000).astype(np.int16))
    image.SetSpacing((0.6875, 0.6875))
    image.SetOrigin(grid.origin[1:])
    mask = sitk.GetImageFromArray(np.where(np.isin(labels[0], range(11, 16)), DISC, 0).astype(np.uint8))
    mask.CopyInformation(image)
    return image, mask


def patients(data: Path) -> dict[str, str]:
    """Write every patient's slice and mask under data/; return what each one tests."""
    first, mask = mid_sagittal_t2(1)
    second, second_mask = mid_sagittal_t2(2)
    discs = sitk.GetArrayFromImage(mask)
    painted = discs.copy()
    painted[:160][painted[:160] == DISC] = 99
    empty, flipped = sitk.Image(mask), sitk.Image(mask)
    empty *= 0
    flipped.SetDirection((-1, 0, 0, 1))
    fractional = sitk.Resample(sitk.Cast(mask, sitk.sitkFloat32), mask, sitk.TranslationTransform(2, (0.317, 0)),
                               sitk.sitkLinear, 0.0, sitk.sitkFloat32)
    cases = {"N-4711": (first, mask), "N-4712": (second, second_mask), "N-4713": (first, empty),
             "N-4714": (first, flipped), "N-4715": (None, mask), "N-4716": (first, painted), "N-4717": (first, fractional)}
    for patient, (image, label_map) in cases.items():
        (data / patient).mkdir(parents=True)
        if image is None:
            (data / patient / "T2.nrrd").write_text("NRRD0004\nbroken header\n")
        else:
            sitk.WriteImage(image, str(data / patient / "T2.nrrd"))
        if isinstance(label_map, np.ndarray):
            label_map = sitk.GetImageFromArray(label_map)
            label_map.CopyInformation(mask)
        (data / "masks").mkdir(exist_ok=True)
        sitk.WriteImage(label_map, str(data / "masks" / f"{patient}_discs.nrrd"))
    values = sitk.GetArrayViewFromImage(fractional)
    return {"painted": int((painted == 99).sum()), "fractional": int(np.count_nonzero(values % 1)),
            "example": f"{values[values % 1 != 0][0]:g}"}


@pytest.fixture(scope="module")
def run(tmp_path_factory, config) -> tuple[Path, dict]:
    work = tmp_path_factory.mktemp("images")
    data = work / "centre_north"
    counts = patients(data)
    (work / "params.yaml").write_text(yaml.safe_dump(PARAMS))
    (work / "labels.yaml").write_text(yaml.safe_dump({"labels": {DISC: "disc"}}))
    cfg = absolute_config_paths(config)
    cfg |= {"cohort": "own", "batch_digits": 0,  # one job per stage: one patient per job is test_radiomics_job's
            "centres": {"N": {"images": f"{data}/{{id}}/{{sequence}}.nrrd", "masks": f"{data}/masks/{{id}}_discs.nrrd"}},
            "ingest": cfg["ingest"] | {"sequences": ["T2"]},
            "radiomics": cfg["radiomics"] | {"params": str(work / "params.yaml"), "labels": str(work / "labels.yaml"),
                                             "sequences": ["T2"], "structures": "disc", "required": "disc",
                                             "image_types": {}}}
    (work / "config.yaml").write_text(yaml.safe_dump(cfg))
    snakemake(work, "--cores", "2", *TARGETS)  # an option with a value ends --configfile's list before the targets
    return work, counts


def pseudonyms(*ids: str) -> list[str]:
    return [pseudonym.patient(KEY["SPINESTUDY_PSEUDONYM_KEY"].encode(), "N", i) for i in ids]


def test_a_cluster_job_plans_alone(run):
    """As a SLURM job step plans it (--target-jobs): the batch's volumes come from the images rule alone."""
    assert plan_cluster_job(run[0], "radiomics_batch", centre="N", batch="p") == {"radiomics_batch": 1}


def test_images_are_ingested_as_volumes(run):
    work, _ = run
    index = pd.read_parquet(work / "results/ingest/series_index.parquet").set_index("patient")
    assert sorted(index.index) == sorted(pseudonyms(*(f"N-471{i}" for i in range(1, 8))))
    assert set(index.status) == {"volume", "excluded"} and index.status.value_counts()["volume"] == 6
    volume = sitk.ReadImage(str(work / index.loc[pseudonyms("N-4711")[0], "volume"]))
    original = sitk.ReadImage(str(work / "centre_north/N-4711/T2.nrrd"))
    assert np.array_equal(sitk.GetArrayViewFromImage(volume), sitk.GetArrayViewFromImage(original))
    assert (volume.GetSpacing(), volume.GetOrigin(), volume.GetDirection()) == (
        original.GetSpacing(), original.GetOrigin(), original.GetDirection())  # double precision, as read
    log = pd.read_csv(work / "results/ingest/exclusions.csv")
    assert list(zip(log.patient, log.item, log.reason)) == [
        (*pseudonyms("N-4715"), "T2 image", "excluded: not an image file SimpleITK can read")]


def test_unusable_patients_are_logged_with_the_reason(run):
    """Empty, flipped (off the image), missing-volume, unknown-label and fractional masks: one line each, and
    the workflow completes for the others (point 2-D extraction aside, see the next test)."""
    work, counts = run
    log = pd.read_csv(work / "results/radiomics/exclusions.csv")
    lines = {(p, item, reason) for p, item, reason in zip(log.patient, log.item, log.reason)
             if not reason.startswith("PyRadiomics:")}
    empty, flipped, no_volume, painted, fractional = pseudonyms("N-4713", "N-4714", "N-4715", "N-4716", "N-4717")
    assert lines == {
        (empty, "disc (T2)", "empty mask"),
        (flipped, "disc (T2)", "ROI outside the image"),
        (no_volume, "T2", "no T2 volume (see results/ingest/exclusions.csv)"),
        (painted, "mask label 99", f"label value 99 is not in the label table: its {counts['painted']} voxels "
                                   "belong to no structure"),
        (fractional, "mask", f"label map with non-integer values in {counts['fractional']} voxels (e.g. {counts['example']}); labels "
                             "must be whole numbers (set radiomics.round_labels: true to round them)"),
    }
    assert set(log.patient) - {empty, flipped, no_volume, fractional} <= set(pseudonyms(*GOOD))


def test_no_file_or_folder_name_under_results(run):
    work, _ = run
    files = [p for p in (work / "results").rglob("*") if p.is_file()]
    for path in files:
        data = path.read_bytes()
        text = (gzip.decompress(data) if path.suffix == ".gz" else data).decode("latin-1")
        assert "N-47" not in text and "centre_north" not in text and "N-47" not in str(path), path


def test_features_equal_pyradiomics_on_the_same_files(run):
    work, _ = run
    features = pd.read_parquet(work / "results/radiomics/features.parquet").set_index("patient")
    extractor = featureextractor.RadiomicsFeatureExtractor(str(work / "params.yaml"))
    assert sorted(features.index) == sorted(pseudonyms(*GOOD))
    for study_id, patient in zip(GOOD, pseudonyms(*GOOD)):
        folder = work / "centre_north"
        expected = {f"T2_{k}": float(v) for k, v in extractor.execute(
            str(folder / study_id / "T2.nrrd"), str(folder / "masks" / f"{study_id}_discs.nrrd")).items()
            if not k.startswith("diagnostics_")}
        ours = features.loc[patient, list(expected)].astype(float)
        np.testing.assert_allclose(ours.to_numpy(), list(expected.values()), rtol=1e-6, err_msg=study_id)
