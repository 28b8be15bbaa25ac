"""The Snakemake DAG end to end on a small generated demo cohort: outputs, PHI, incremental reruns."""

import gzip
import hashlib
import io
import json
import os
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
import pytest
import yaml
from plotly.offline import get_plotlyjs

from conftest import REPO
from snakemake_runner import (
    AFTER_TABLES,
    FIGURES,
    KEY,
    LESION_STATS,
    RADIOMICS_FIGURES,
    RADIOMICS_MERGES,
    absolute_config_paths,
    job_counts,
    plan_cluster_job,
    snakemake,
)
from spinestudy import pseudonym
from spinestudy.anatomy import LEVELS, label_table, modic_label
from spinestudy.demo.dicom import write_patient
from spinestudy.ingest.sources import label
from tables_corpus import broken, demo

pytestmark = pytest.mark.workflow


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, config) -> Path:
    work = tmp_path_factory.mktemp("workflow")
    shutil.copy(REPO / "config/radiomics/mr_quick.yaml", work / "params.yaml")
    cfg = absolute_config_paths(config)
    cfg = cfg | {"demo": {"out": "resources/demo", "patients": 40, "imaging_patients": 6, "seed": 7},
                 "radiomics": cfg["radiomics"] | {"params": "params.yaml"}}
    (work / "config.yaml").write_text(yaml.safe_dump(cfg))
    snakemake(work, static=True)  # the one run that exports PNG/SVG; the reruns below write HTML only
    return work


def test_outputs_exist_and_cover_every_patient(workdir):
    index = pd.read_parquet(workdir / "results/ingest/series_index.parquet")
    manifest = yaml.safe_load((workdir / "resources/demo/manifest.json").read_text())
    assert sum(len(p) for p in manifest["patients"].values()) == 40  # 34 tables-only patients in centre C
    assert index.patient.nunique() == sum(len(p) for p in manifest["imaging"].values()) == 6
    volumes = index[index.status == "volume"]
    assert set(volumes.sequence) == {"T1", "T2", "STIR"}
    for path in volumes.volume:
        assert (workdir / path).is_file(), path
    assert (index.orientation[index.status == "volume"] == "SAG").all()


def test_statistics_tables_exist(workdir):
    table1 = pd.read_csv(workdir / "results/stats/table1.csv")
    assert table1.loc[table1.variable == "age", "n"].item() == 40
    assert set(table1.Test.dropna()) <= {"A", "K", "chi2", "Fisher", "Fisher (Monte Carlo)", "none"}
    assert table1.loc[table1.Test == "none", "note"].str.startswith("not testable").all()
    prevalence = pd.read_csv(workdir / "results/stats/prevalence_by_decade.csv")
    assert set(prevalence.finding) == {"pfirrmann_ge4", "modic_any", "tep_ge6"}
    for name in ("posthoc.csv", "lasso.csv", "associations.csv"):
        assert (workdir / "results/stats" / name).is_file()


def test_prediction_tables_exist(workdir):
    folder = workdir / "results/prediction/rudds_mcid"
    size = pd.read_csv(folder / "sample_size.csv")
    assert size["n_available"].iloc[0] + size["incomplete"].iloc[0] == 40
    performance = pd.read_csv(folder / "performance.csv")  # 40 demo patients: too few with the outcome
    assert performance["note"].str.startswith("not estimable: ").all()
    for name in ("coefficients.csv", "decision_curve.csv", "failures.csv"):
        assert (folder / name).is_file()


def test_tables_cover_every_patient(workdir):
    analysis = pd.read_parquet(workdir / "results/tables/analysis.parquet")
    index = pd.read_parquet(workdir / "results/ingest/series_index.parquet")
    assert len(analysis) == 40 and set(index.patient) < set(analysis.patient)
    flow = pd.read_csv(workdir / "results/tables/flow.csv").set_index("centre")
    assert flow.loc["all", "analysed"] == 40 and flow.loc[["A", "B"], "with_images"].sum() == 6
    assert pd.isna(flow.loc["C", "with_images"]) and flow.loc["C", "analysed"] == 34  # tables only, not "no DICOM"
    log = pd.read_csv(workdir / "results/tables/exclusions.csv")
    assert not log.reason.str.contains("no usable MRI series").any()
    assert len(pd.read_parquet(workdir / "results/tables/gradings_long.parquet")) == 40 * 5


def test_reader_agreement(workdir):
    """Demo centres A and B send a second reader's gradings, A also a repeat read (config.yaml); C has one read:
    every read is kept, the first reader's grades are analysed (reader_resolution: first) and agreement.csv
    reports each."""
    reads = pd.read_parquet(workdir / "results/tables/reads_long.parquet")
    assert reads.groupby("read")["patient"].nunique().to_dict() == {"reader1": 40, "reader2": 6, "repeat": 3}
    gradings = pd.read_parquet(workdir / "results/tables/gradings_long.parquet")
    first = reads[reads["read"] == "reader1"][list(gradings.columns)].reset_index(drop=True)
    pd.testing.assert_frame_equal(first, gradings)
    second = reads[reads["read"] == "reader2"]
    read_twice = first[first["patient"].isin(second["patient"])]
    assert (second["pfirrmann"].to_numpy() != read_twice["pfirrmann"].to_numpy()).any()
    table = pd.read_csv(workdir / "results/stats/agreement.csv")
    pooled = table[table["level"] == "all"].set_index(["comparison", "scale", "statistic"])
    assert pooled.loc[("inter-reader", "pfirrmann", "kappa_quadratic"), "n_units"] == 30
    assert pooled.loc[("intra-reader", "tep", "kappa"), "n_units"] == 30
    assert pooled.loc[("intra-reader", "pfirrmann", "ac1"), "ci_method"].startswith("patient bootstrap")
    assert pooled.loc[("inter-reader", "tep_total", "icc2_1"), "note"] == "6 patients scored in both reads (< 10)"
    confusion = pd.read_csv(workdir / "results/stats/agreement_confusion.csv")
    assert confusion.groupby(["comparison", "scale"])["n"].sum().loc[("intra-reader", "modic")] == 3 * 10
    assert "Inter-reader agreement" in (workdir / "results/manuscript/agreement.md").read_text()
    assert (workdir / "results/figures/agreement.html").is_file()
    truth = yaml.safe_load((workdir / "resources/demo/truth.yaml").read_text())
    assert truth["agreement"]["reader2"]["pfirrmann"]["kappa_quadratic"] == pytest.approx(0.81, abs=0.01)


def test_a_cluster_job_plans_alone(workdir):
    """On SLURM each job rebuilds its own DAG from --target-jobs: the batch's volumes must come from one rule
    (the DICOM ingestion, not the converted-images one, which no centre here uses)."""
    batch = next((workdir / "results/radiomics").glob("*/p*.diagnostics.parquet"))
    counts = plan_cluster_job(workdir, "radiomics_batch", centre=batch.parent.name,
                              batch=batch.name.split(".")[0])
    assert counts == {"radiomics_batch": 1}


def test_radiomics_features_for_every_roi(workdir):
    features = pd.read_parquet(workdir / "results/radiomics/features.parquet")
    gradings = pd.read_parquet(workdir / "results/tables/gradings_long.parquet")
    imaged = pd.read_parquet(workdir / "results/ingest/series_index.parquet").patient
    gradings = gradings[gradings.patient.isin(imaged)]  # the tables-only patients of centre C have no ROIs
    labels = label_table()
    lesions = {(row.patient, labels[modic_label(row.level, endplate)])
               for row in gradings.itertuples() for endplate in ("upper", "lower")
               if getattr(row, f"modic_{endplate}") > 0}
    discs = {(p, f"{level} disc") for p in gradings.patient.unique() for level in LEVELS}
    assert set(zip(features.patient, features.structure)) == lesions | discs
    for sequence in ("T1", "T2", "STIR"):
        assert f"{sequence}_original_shape_Sphericity" in features
        assert f"{sequence}_log-sigma-3-0-mm-3D_glcm_Idmn" in features
    log = pd.read_csv(workdir / "results/radiomics/exclusions.csv")
    assert log.reason.tolist() == ["no STIR volume (see results/ingest/exclusions.csv)"]
    # the STIR features of the patient whose STIR series was excluded are missing, not invented
    stir_missing = features[features.patient == log.patient[0]]
    assert stir_missing.filter(like="STIR_").isna().all().all() and len(stir_missing) >= 5
    diagnostics = pd.read_parquet(workdir / "results/radiomics/diagnostics.parquet")
    assert (diagnostics.pyradiomics == "v3.0.1").all() and (diagnostics.voxels >= 20).all()
    assert (diagnostics.extraction_path == "shared filters").all()  # mr_quick.yaml: 3-D series on their own grid


def test_every_figure_is_exported_as_png_and_svg(workdir, chromium):
    figures = workdir / "results/figures"
    for name in [*FIGURES, *(f"prediction_rudds_mcid_{f}" for f in ("calibration", "decision_curve"))]:
        assert (figures / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert "<svg" in (figures / f"{name}.svg").read_text()[:500], name


def test_planted_defects_are_in_the_exclusion_log(workdir):
    truth = yaml.safe_load((workdir / "resources/demo/truth.yaml").read_text())
    log = pd.read_csv(workdir / "results/ingest/exclusions.csv", keep_default_na=False)
    for defect in truth["ingest_defects"]:
        assert log.reason.str.contains(defect["expected"], regex=False).any(), defect
    assert set(log.columns) == {"centre", "patient", "item", "stage", "reason"}


PLOTLY_BUNDLE = re.compile(r"<script>/\*\*\n\* plotly\.js v.*?</script>", re.DOTALL)


def assert_no_phi(workdir: Path, planted: set[str] = frozenset()) -> None:
    """No name part, MRN, birth date, institution or study id from the DICOM headers (nor any planted word)
    under results/, as whole words, outside the plotly.js library (the study page embeds it, the figures share
    a copy; its country list holds e.g. 'Martin')."""
    phi = pd.read_csv(workdir / "resources/demo/phi.csv", dtype=str)
    secrets = set(phi.study_id) | set(phi.PatientID) | set(phi.PatientBirthDate) | set(phi.InstitutionName) | planted
    for column in ("PatientName", "ReferringPhysicianName"):
        secrets |= {part for value in phi[column] for part in value.split("^") if len(part) >= 4}
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, sorted(secrets))) + r")\b")
    files = [p for p in (workdir / "results").rglob("*") if p.is_file()]
    assert len(files) > 10
    plotly_js = workdir / "results/figures/plotly.min.js"  # the figures' shared copy of the library
    assert plotly_js.read_text(encoding="utf-8") == get_plotlyjs()
    files.remove(plotly_js)
    for path in files:
        data = path.read_bytes()
        text = (gzip.decompress(data) if path.suffix == ".gz" else data).decode("latin-1")
        text = PLOTLY_BUNDLE.sub("", text)
        leaked = sorted(set(pattern.findall(text)))
        assert not leaked, f"{path}: {leaked[:5]}"
        assert not pattern.search(str(path.relative_to(workdir))), path


def test_no_phi_under_results(workdir):
    assert_no_phi(workdir)


def test_snakemake_report_has_every_caption(workdir):
    snakemake(workdir, "--report", "report.html", cores=None)  # as the Snakemake documentation shows it
    page = (workdir / "report.html").read_text(errors="replace")
    for figure in ("flow", "prevalence", "forest", "agreement", "shape_by_modic", "classifier"):
        assert f"{figure}.html" in page, figure
    assert "Table 1: general characteristics" in page and "Eligibility flow" in page


# RuDDS on this demo: every CSV under results/stats and results/radiomics_stats and every manuscript table
# (results/manuscript: Markdown and LaTeX), recorded before the study-file redesign (issue 23) moved any code:
# their sha256 with the machine's floating-point fingerprint (rudds_digests.json) and the files themselves
# (rudds_outputs.zip). On a machine of that fingerprint every file must be byte-identical. Elsewhere BLAS kernels
# and numpy's SIMD paths round differently (emulated here with OPENBLAS_CORETYPE=Haswell and numpy's AVX-512
# paths off, an AVX2 machine differs from the AVX-512 one of record by at most 1.3e-12 relative, in 6 of the 40
# files), so there every text cell must be identical and every number equal to 1e-9 relative. A change meant to
# alter an output records the new files (tests/record_rudds_outputs.py) in the same commit and says why.
RECORDED = Path(__file__).with_name("rudds_digests.json")
REFERENCE = Path(__file__).with_name("rudds_outputs.zip")
DIGESTED = {"stats": "*.csv", "radiomics_stats": "*.csv", "manuscript": "*.*"}


def float_fingerprint() -> dict:
    """What decides the rounding of this machine's numerics: the OpenBLAS kernels numpy and scipy chose and the
    CPU features numpy dispatches on."""
    import scipy.linalg  # noqa: F401  (loads scipy's own OpenBLAS)
    from numpy._core._multiarray_umath import __cpu_features__
    from threadpoolctl import threadpool_info

    kernels = sorted({i.get("architecture") or "" for i in threadpool_info() if i["internal_api"] == "openblas"})
    return {"openblas": kernels, "numpy": sorted(k for k, on in __cpu_features__.items() if on)}


def same_cells(recorded: bytes, found: bytes) -> list[str]:
    """Cells of two CSV files that differ beyond rounding: text exactly, numbers to 1e-9 relative."""
    a, b = (pd.read_csv(io.BytesIO(x), dtype=str, keep_default_na=False) for x in (recorded, found))
    if list(a.columns) != list(b.columns) or a.shape != b.shape:
        return [f"shape {a.shape} -> {b.shape}, columns {list(a.columns)} -> {list(b.columns)}"]
    differ = []
    for column in a.columns:
        for row, (x, y) in enumerate(zip(a[column], b[column])):
            try:
                close = x == y or bool(np.isclose(float(x), float(y), rtol=1e-9, atol=1e-15))
            except ValueError:
                close = False
            if not close:
                differ.append(f"row {row + 1}, {column}: {x!r} -> {y!r}")
    return differ


def test_rudds_outputs_are_the_recorded_ones(workdir):
    results = workdir / "results"
    found = {str(path.relative_to(results)): path.read_bytes()
             for folder, pattern in DIGESTED.items() for path in sorted((results / folder).rglob(pattern))}
    recorded = json.loads(RECORDED.read_text())
    with zipfile.ZipFile(REFERENCE) as archive:
        reference = {name: archive.read(name) for name in archive.namelist()}
    assert sorted(found) == sorted(reference) == sorted(recorded["sha256"])
    assert all(hashlib.sha256(data).hexdigest() == recorded["sha256"][n] for n, data in reference.items())
    if float_fingerprint() == recorded["fingerprint"]:
        assert [n for n, data in found.items() if hashlib.sha256(data).hexdigest() != recorded["sha256"][n]] == []
    else:
        differ = {n: same_cells(reference[n], data) if n.endswith(".csv") else ["text differs"]
                  for n, data in found.items() if data != reference[n]}
        assert {n: d[:5] for n, d in differ.items() if d} == {}


def test_second_run_has_nothing_to_do(workdir):
    assert "Nothing to be done" in snakemake(workdir, "--dry-run")


def test_new_patient_reruns_only_its_own_ingestion(workdir):
    dicom = workdir / "resources/demo/A/dicom"
    before = {p: p.stat().st_mtime_ns for stage in ("ingest/batches", "radiomics")
              for p in (workdir / "results" / stage).rglob("*") if p.is_file() and p.parent.name != "radiomics"}
    patient = {"study_id": "A9999", "centre": "A", "age": 61.0, "sex": "F", "procedure_date": "2023-05-02"}
    levels = pd.DataFrame({"level": LEVELS, "pfirrmann": [2, 3, 3, 4, 5], "jarosz_height": [0, 0, 1, 2, 3],
                           "osteophytes": [0, 1, 1, 2, 2], "modic_upper": [0, 0, 0, 1, 2],
                           "modic_lower": [0, 0, 0, 0, 2], "tep_upper": [2, 2, 3, 4, 5], "tep_lower": [2, 3, 3, 4, 5]})
    write_patient(dicom, workdir / "resources/demo/A/masks/A9999.nii.gz", patient, levels, seed=99)
    counts = job_counts(snakemake(workdir))
    assert counts == {"ingest_batch": 1, "series_index": 1, "ingest_exclusions": 1, "radiomics_batch": 1,
                      "radiomics_robustness_batch": 1, "icc": 1, "withdraw": 1} | RADIOMICS_MERGES | AFTER_TABLES
    after = {p: p.stat().st_mtime_ns for p in before}
    assert after == before
    index = pd.read_parquet(workdir / "results/ingest/series_index.parquet")
    assert index.patient.nunique() == 7
    log = pd.read_csv(workdir / "results/tables/exclusions.csv")
    assert log.reason.tolist() == ["MRI series but no clinical or grading row"]


def test_new_file_in_a_patient_folder_reruns_that_patient(workdir):
    folder = sorted((workdir / "resources/demo/B/dicom").iterdir())[0]
    (folder / "series_9" / "notes.txt").parent.mkdir()
    (folder / "series_9" / "notes.txt").write_text("added later")
    counts = job_counts(snakemake(workdir))
    assert counts["ingest_batch"] == 1 and counts["radiomics_batch"] == 1
    log = pd.read_csv(workdir / "results/ingest/exclusions.csv")
    patient = pseudonym.patient(KEY["SPINESTUDY_PSEUDONYM_KEY"].encode(), "B", folder.name)
    assert label(KEY["SPINESTUDY_PSEUDONYM_KEY"].encode(), patient, "series_9/notes.txt") in log.item.tolist()
    lookup = pd.concat(pd.read_csv(p) for p in (workdir / "logs/ingest/files/B").iterdir())
    assert lookup.path.str.endswith("series_9/notes.txt").sum() == 1  # the user finds the file by its label


def test_corrected_table_with_an_older_mtime_reruns_tables_and_after(workdir, tmp_path):
    """A corrected delivery copied with `cp -p` keeps the sender's older modification time: the file's
    content digest (a parameter of the tables rule) reruns the tables rule and everything after it, and
    nothing before it."""
    clinical = workdir / "resources/demo/A/A_clinical.csv"
    table = pd.read_csv(clinical, dtype=str, keep_default_na=False)
    table.loc[0, "bmi"] = "31.4"
    corrected = tmp_path / clinical.name
    table.to_csv(corrected, index=False)
    older = clinical.stat().st_mtime - 3600
    os.utime(corrected, (older, older))
    shutil.copy2(corrected, clinical)  # cp -p
    assert clinical.stat().st_mtime < (workdir / "results/tables/analysis.parquet").stat().st_mtime
    log = snakemake(workdir)
    assert job_counts(log) == AFTER_TABLES
    assert re.search(r"rule tables:\n(?:\s+\S.*\n)*?\s+reason: Params have changed since last execution", log)
    analysis = pd.read_parquet(workdir / "results/tables/analysis.parquet")
    assert 31.4 in analysis.bmi.round(1).tolist()


def test_changed_radiomics_params_rerun_extraction_only(workdir):
    params = workdir / "params.yaml"
    params.write_text(params.read_text().replace("binWidth: 5", "binWidth: 10"))
    counts = job_counts(snakemake(workdir))
    assert counts == {"radiomics_batch": 7} | RADIOMICS_MERGES | {rule: 1 for rule in LESION_STATS} | {
        f"figure_{f}": 1 for f in RADIOMICS_FIGURES} | {"manuscript_tables": 1, "study_report": 1, "checklist": 1,
                                                         "provenance": 1, "all": 1}


def test_robustness_sample_drops_patients_without_rerunning_the_others(workdir):
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    config["radiomics_stats"]["robustness"]["sample"] = 0.5
    (workdir / "half.yaml").write_text(yaml.safe_dump(config))
    log = snakemake(workdir, "--dry-run", config="half.yaml")
    assert "radiomics_robustness_batch" not in job_counts(log) and job_counts(log)["icc"] == 1
    inputs = re.search(r"^rule icc:\n\s+input: (.*)$", log, re.MULTILINE)[1].split(", ")
    patients = sorted(p.stem for p in (workdir / "results/radiomics/perturbed").rglob("*.parquet"))
    assert sorted(Path(p).stem for p in inputs) == [p for p in patients if int(p[1:], 16) < 0.5 * 16 ** 12]
    assert 0 < len(inputs) < len(patients)


def test_ids_in_another_form_stop_the_run_and_the_centres_form_joins_them(tmp_path, config):
    """Centre A's clinical CSV names patients '007', its gradings CSV '7': the run analyses nobody, so it
    stops (exit 1) showing the ids of each side on the terminal and the setting that joins them. With
    that setting (zero_pad: 3) the DICOM folders '7' and '12' are planned as the patients '007' and '012',
    and two folders of one id stop the planning."""
    _, _, centres = demo(tmp_path / "cohort", n=4, centres=("A",))
    spec = centres["A"]
    for table, form in (("clinical", "{:03d}"), ("gradings", "{:d}")):
        spec[table] = broken(spec[table], tmp_path / f"{table}.csv",
                             lambda f, form=form: f.assign(study_id=[form.format(int(i[1:])) for i in f.study_id]))
    cfg = absolute_config_paths(config) | {"cohort": "own", "centres": centres}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    log = snakemake(tmp_path, "results/tables/analysis.parquet", fails=True)
    assert "centre A: 0 patient(s) analysed, fewer than tables.min_patients (1)" in log
    assert "  on every side: 0" in log and "set centres.A.ids: {zero_pad: 3}" in log
    assert not (tmp_path / "results/tables").exists()

    for name in ("7", "12"):
        (tmp_path / "dicom" / name).mkdir(parents=True)
    spec |= {"ids": {"zero_pad": 3}, "dicom": str(tmp_path / "dicom")}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    log = snakemake(tmp_path, "--dry-run", "results/tables/analysis.parquet")
    key = b"workflow-test-key"
    assert {f"results/ingest/batches/A/{pseudonym.patient(key, 'A', i)}.parquet" for i in ("007", "012")} == set(
        re.findall(r"results/ingest/batches/A/p[0-9a-f]{12}\.parquet", log))
    (tmp_path / "dicom" / "007").mkdir()
    log = snakemake(tmp_path, "--dry-run", "results/tables/analysis.parquet", fails=True)
    assert "centre A: patient folders '007' and '7' are the same id '007' (config: centres/A/ids)" in log


def test_names_in_folder_file_and_zip_names_never_reach_results(workdir):
    """Runs last (it changes the cohort): names, a birth date and an MRN in folder, file and ZIP names and in
    SeriesDescriptions, a stray file at the centre root, and a patient sent as <study id>.zip there; none of
    them, nor the raw study id, reaches results/, and the zipped patient keeps its series."""
    typed = {"series_002": "t2_tse_sag wdh Bianchi Peter 05.07.1971", "series_003": "t1_tse_sag MRN5854695"}
    planted = {"KOWALCZYK", "BARTHOLOMEW", "19471103", "MRN99117733", "wdh", "Bianchi", "Peter", "05.07.1971",
               "MRN5854695"}
    dicom = workdir / "resources/demo/A/dicom"
    folders = sorted(p for p in dicom.iterdir() if p.is_dir())
    for series, text in typed.items():  # centre A's T2 and T1 series folders
        for path in (folders[0] / series).iterdir():
            ds = pydicom.dcmread(path)
            ds.SeriesDescription = text
            ds.save_as(path)
    named = folders[0] / "KOWALCZYK_BARTHOLOMEW_19471103"
    named.mkdir()
    (named / "MRN99117733_KOWALCZYK.txt").write_text("referral letter")
    with zipfile.ZipFile(folders[0] / "KOWALCZYK_19471103_MRN99117733.zip", "w") as archive:
        archive.writestr("BARTHOLOMEW_MRN99117733.txt", "referral letter")
    (dicom / "KOWALCZYK_MRN99117733.pdf").write_bytes(b"%PDF-1.4")
    zipped = folders[-1]
    index = pd.read_parquet(workdir / "results/ingest/series_index.parquet")
    patient = pseudonym.patient(KEY["SPINESTUDY_PSEUDONYM_KEY"].encode(), "A", zipped.name)
    before = index[index.patient == patient].drop(columns="volume").reset_index(drop=True)
    shutil.make_archive(str(zipped), "zip", zipped)
    shutil.rmtree(zipped)
    snakemake(workdir)
    assert_no_phi(workdir, planted)
    index = pd.read_parquet(workdir / "results/ingest/series_index.parquet")
    typed_patient = pseudonym.patient(KEY["SPINESTUDY_PSEUDONYM_KEY"].encode(), "A", folders[0].name)
    rows = index[index.patient == typed_patient].set_index("sequence")
    assert rows.series_description.to_dict() == {"other": "localizer", "T2": "t2 tse sag", "T1": "t1 tse sag",
                                                 "STIR": "t2_tirm_sag"}
    assert (rows.loc[["T1", "T2"], "status"] == "volume").all()  # still classified as before
    written = pd.concat(pd.read_csv(p) for p in (workdir / "logs/ingest/descriptions/A").iterdir())
    assert set(typed.values()) <= set(written.series_description)  # the text as written, locally
    after = index[index.patient == patient].drop(columns="volume").reset_index(drop=True)
    pd.testing.assert_frame_equal(after, before)
    log = pd.read_csv(workdir / "results/ingest/exclusions.csv", keep_default_na=False)
    assert (log.reason == "file outside any patient folder").sum() == 2  # the demo's stray file and the PDF
