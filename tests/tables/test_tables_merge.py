"""build_tables end to end: outputs, stop vs quarantine, cross-centre ids, images, flow, SPIDER counts."""

import pandas as pd
import pytest
import yaml
from conftest import REPO

from spinestudy import pseudonym, study
from spinestudy.anatomy import LEVELS
from spinestudy.ingest.job import INDEX_COLUMNS
from spinestudy.tables import merge
from spinestudy.tables.readers import TableError
from spinestudy.tables.schemas import SeriesIndex
from spinestudy.tables.schemas import tables as study_tables
from tables_corpus import KEY, broken, demo, digest, series_index, set_cell

RUDDS = study_tables(study.load("rudds"))

OUTPUTS = ["analysis.parquet", "gradings_long.parquet", "exclusions.csv", "flow.csv", "missingness.csv"]


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    return (folder, *demo(folder))


def build(config, out, **kw):
    merge.build_tables(config, KEY, out, **kw)
    return {name: (pd.read_parquet if name.endswith("parquet") else pd.read_csv)(out / name) for name in OUTPUTS}


def pseudo(centre, raw):
    return pseudonym.patient(KEY, centre, raw)


def test_clean_cohort(cohort, tmp_path):
    folder, clinical, gradings, config = cohort
    before = digest(folder)
    out = build(config, tmp_path / "1")
    assert digest(folder) == before  # inputs never modified
    analysis = out["analysis.parquet"]
    assert len(analysis) == len(clinical) and analysis.patient.is_unique
    assert analysis[["centre", "patient"]].equals(analysis[["centre", "patient"]].sort_values(["centre", "patient"]))
    RUDDS.analysis.validate(analysis)
    long = out["gradings_long.parquet"]
    assert len(long) == len(gradings)
    ours = long.sort_values(["patient", "level"])[["modic_upper", "modic_lower", "tep_upper", "tep_lower"]]
    theirs = gradings.assign(patient=[pseudo(c, i) for c, i in zip(gradings.centre, gradings.study_id)])
    theirs = theirs.sort_values(["patient", "level"])[["modic_upper", "modic_lower", "tep_upper", "tep_lower"]]
    assert (ours.to_numpy() == theirs.to_numpy()).all()
    assert out["exclusions.csv"].empty
    text = "\n".join(frame.astype(str).to_csv() for frame in out.values())
    assert not any(raw in text for raw in clinical.study_id)  # no raw id reaches any output
    again = build(config, tmp_path / "2")
    for name in OUTPUTS:
        pd.testing.assert_frame_equal(out[name], again[name])
    assert (tmp_path / "1" / "flow.csv").read_bytes() == (tmp_path / "2" / "flow.csv").read_bytes()


def test_analysis_values(cohort, tmp_path):
    _, clinical, gradings, config = cohort
    analysis = build(config, tmp_path)["analysis.parquet"].set_index("patient")
    row = clinical.iloc[0]
    got = analysis.loc[pseudo(row.centre, row.study_id)]
    g = gradings[gradings.study_id == row.study_id]
    assert got.pfirrmann_sum == g.pfirrmann.sum()
    assert got.tep_total == g.tep_upper.sum() + g.tep_lower.sum()
    assert got.jarosz_score == g.jarosz_height.sum() + g.osteophytes.sum()
    both = clinical.nprs_back_before.notna() & clinical.nprs_back_after.notna()
    assert analysis.mcid.notna().sum() == both.sum()


def test_flow_and_missingness(cohort, tmp_path):
    _, clinical, _, config = cohort
    out = build(config, tmp_path)
    flow = out["flow.csv"].set_index("centre")
    a = clinical[clinical.centre == "A"]
    assert flow.loc["A", ["received", "valid_clinical", "valid_mri", "analysed"]].tolist() == [len(a)] * 4
    assert flow.loc["A", "questionnaires_before"] == a.nprs_back_before.notna().sum()
    assert flow.loc["A", "questionnaires_after"] == a.nprs_back_after.notna().sum()
    assert pd.isna(flow.loc["A", "with_images"])
    assert flow.loc["all", "analysed"] == len(clinical)
    miss = out["missingness.csv"].set_index(["syndrome", "variable"])
    assert miss.loc[("all", "nprs_back_before"), "missing"] == clinical.nprs_back_before.isna().sum()
    group = clinical[clinical.syndrome == "lumbar disc herniation"]
    assert miss.loc[("lumbar disc herniation", "smoking"), "share"] == pytest.approx(group.smoking.isna().mean())


def broken_config(config, tmp_path):
    """A: nprs_back_pre 11 at line 3; B: sex code 3 at Excel row 2."""
    bad = {c: dict(v) for c, v in config.items()}
    bad["A"]["clinical"] = broken(config["A"]["clinical"], tmp_path / "a.csv", set_cell(3, "nprs_back_pre", "11"))
    bad["B"]["clinical"] = broken(config["B"]["clinical"], tmp_path / "b.xlsx", set_cell(2, "Sex", "3"))
    return bad


def test_stop_reports_every_problem(cohort, tmp_path):
    config = broken_config(cohort[3], tmp_path)
    with pytest.raises(TableError) as info:
        merge.build_tables(config, KEY, tmp_path / "out")
    message = str(info.value)
    assert message.splitlines()[0] == "2 problem(s) in the input tables:"
    assert f"centre A, file {tmp_path / 'a.csv'}, row 3, column 'nprs_back_pre', value '11': " \
           "less_than_or_equal_to(10)" in message
    assert f"centre B, file {tmp_path / 'b.xlsx'}, row 2, column 'Sex', value '3': unknown code for sex" in message
    assert not (tmp_path / "out").exists()


def test_quarantine(cohort, tmp_path):
    """Quarantined rows are logged by the file's keyed label: a folder named after a patient reaches no file
    under the output folder; the local lookup maps the label to the path."""
    _, clinical, _, config = cohort
    folder = tmp_path / "Bianchi Peter 05.07.1971"
    folder.mkdir()
    lookup = tmp_path / "logs" / "files.csv"
    out = build(broken_config(config, folder), tmp_path / "out", on_invalid="quarantine", lookup=lookup)
    a = clinical[clinical.centre == "A"].reset_index(drop=True)
    gone = pseudo("A", a.study_id[1])
    log = out["exclusions.csv"]
    files = pd.read_csv(lookup)  # every table file read, 2 per centre
    assert len(files) == 8 and {str(folder / "a.csv"), str(folder / "b.xlsx")} <= set(files["path"])
    label = files.set_index("path").loc[str(folder / "a.csv"), "file"]
    for path in (tmp_path / "out").iterdir():
        assert b"Bianchi" not in path.read_bytes() and str(tmp_path).encode() not in path.read_bytes(), path.name
    assert log.to_dict("records")[:2] == [
        {"centre": "A", "patient": gone, "item": f"{label} row 3", "stage": "tables",
         "reason": "nprs_back_pre = '11': less_than_or_equal_to(10)"},
        {"centre": "A", "patient": gone, "item": "patient", "stage": "tables",
         "reason": "valid MRI gradings but no valid clinical row"},
    ]
    assert gone not in set(out["analysis.parquet"].patient)
    assert gone in set(out["gradings_long.parquet"].patient)
    assert len(out["analysis.parquet"]) == len(clinical) - 2
    flow = out["flow.csv"].set_index("centre")
    assert flow.loc["A", ["received", "valid_clinical", "valid_mri", "analysed"]].tolist() == [4, 3, 4, 3]


def test_same_id_in_two_centres(cohort, tmp_path):
    _, clinical, _, config = cohort
    raw = clinical[clinical.centre == "A"].study_id.iloc[0]
    bad = dict(config)
    bad["D"] = dict(config["D"])
    bad["D"]["clinical"] = broken(config["D"]["clinical"], tmp_path / "d.csv", set_cell(3, "Pseudonym", raw))
    with pytest.raises(TableError) as info:
        merge.build_tables(bad, KEY, tmp_path / "out")
    found = [(p.centre, p.file, p.row, p.column, p.value) for p in info.value.problems]
    a_file, d_file = config["A"]["clinical"]["path"], str(tmp_path / "d.csv")
    assert found == [("A", a_file, 2, "study_id", pseudo("A", raw)), ("D", d_file, 3, "Pseudonym", pseudo("D", raw))]
    d_label = info.value.problems[1].label
    assert info.value.problems[0].message == (  # the exclusion log's reason: pseudonym and keyed label
        f"the same patient id is used by centre D ({pseudo('D', raw)}, {d_label} row 3): possible duplicate patient")
    assert (f"centre A, file {a_file}, row 2, column 'study_id', value {raw!r}: the same patient id is used by "
            f"centre D (id {raw!r}, {d_file} row 3): possible duplicate patient") in str(info.value)  # the terminal
    out = build(bad, tmp_path / "q", on_invalid="quarantine")
    assert not {pseudo("A", raw), pseudo("D", raw)} & set(out["analysis.parquet"].patient)
    assert raw not in (tmp_path / "q" / "exclusions.csv").read_text() and d_file not in (
        tmp_path / "q" / "exclusions.csv").read_text()


def test_clinical_without_gradings(cohort, tmp_path):
    _, clinical, _, config = cohort
    a = clinical[clinical.centre == "A"].reset_index(drop=True)
    bad = dict(config)
    bad["A"] = config["A"] | {"gradings": broken(
        config["A"]["gradings"], tmp_path / "g.csv", lambda f: f[f.study_id != a.study_id[0]])}
    out = build(bad, tmp_path / "out")
    assert out["exclusions.csv"].to_dict("records") == [
        {"centre": "A", "patient": pseudo("A", a.study_id[0]), "item": "patient", "stage": "tables",
         "reason": "valid clinical row but no valid MRI gradings"}]


@pytest.mark.parametrize("source", [{"dicom": "somewhere"}, {"images": "somewhere/{id}/{sequence}.nii.gz"}])
def test_series_index(cohort, tmp_path, source):
    _, clinical, _, config = cohort
    a = [pseudo("A", i) for i in clinical[clinical.centre == "A"].study_id]
    stranger = pseudo("A", "A9999")
    rows = [("A", p, "volume") for p in a[1:]] + [("A", a[1], "volume"), ("A", a[0], "excluded"),
                                                   ("A", stranger, "volume")]
    series_index(rows).to_parquet(tmp_path / "index.parquet")
    with_dicom = {c: v | (source if c == "A" else {}) for c, v in config.items()}
    out = build(with_dicom, tmp_path / "out", series_index=tmp_path / "index.parquet")
    assert out["exclusions.csv"][["patient", "reason"]].to_dict("records") == sorted([
        {"patient": a[0], "reason": "no usable MRI series in the series index"},
        {"patient": stranger, "reason": "MRI series but no clinical or grading row"},
    ], key=lambda r: r["patient"])
    analysis = out["analysis.parquet"].set_index("patient")
    assert a[0] not in analysis.index and analysis.loc[a[1], "n_volumes"] == 2
    assert analysis.loc[pseudo("B", clinical[clinical.centre == "B"].study_id.iloc[0]), "n_volumes"] is pd.NA
    flow = out["flow.csv"].set_index("centre")
    assert flow.loc["A", "with_images"] == 4 and pd.isna(flow.loc["B", "with_images"])


def test_series_index_schema_matches_ingest():
    assert list(SeriesIndex.to_schema().columns) == INDEX_COLUMNS


def test_radiomics_summaries(cohort, tmp_path):
    _, clinical, _, config = cohort
    patients = [pseudo(c, i) for c, i in zip(clinical.centre, clinical.study_id)]
    features = pd.DataFrame({"centre": clinical.centre, "patient": patients, "disc_t2_mean": 1.5})
    features.to_parquet(tmp_path / "radiomics.parquet")
    analysis = build(config, tmp_path / "out", radiomics=tmp_path / "radiomics.parquet")["analysis.parquet"]
    assert analysis["radiomics_disc_t2_mean"].eq(1.5).all()


def test_on_invalid_must_be_known(cohort, tmp_path):
    with pytest.raises(ValueError, match="on_invalid must be one of"):
        merge.build_tables(cohort[3], KEY, tmp_path, on_invalid="ignore")


def test_spider_counts_equal_the_file(shared_data, tmp_path, monkeypatch):
    """Grade counts in the output equal direct counts from radiological_gradings.csv: lumbar discs
    (IVD label 1-5) in the gradings tables, every other disc in the exclusion log with its reason."""
    monkeypatch.chdir(REPO)
    config = yaml.safe_load(open("config/spider.yaml"))
    out = build(config["centres"], tmp_path)
    raw = pd.read_csv(shared_data / "spider" / "radiological_gradings.csv")
    assert len(raw) == 1520 and raw.Patient.nunique() == 218
    assert (raw.Modic == 2).sum() == 503 and (raw["Pfirrman grade"] == 3).sum() == 418
    lumbar = raw[raw["IVD label"].between(1, 5)]
    levels = out["gradings_long.parquet"]
    assert len(levels) == len(lumbar) == 1090 and levels.patient.nunique() == 218
    assert levels.modic_disc.value_counts().to_dict() == lumbar.Modic.value_counts().to_dict()
    assert levels.pfirrmann.value_counts().to_dict() == lumbar["Pfirrman grade"].value_counts().to_dict()
    for endplate, column in (("upper", "UP endplate"), ("lower", "LOW endplate")):
        assert levels[f"endplate_change_{endplate}"].sum() == lumbar[column].sum()
    for column in ("disc_narrowing", "disc_bulging", "disc_herniation", "spondylolisthesis"):
        source = {"disc_narrowing": "Disc narrowing", "disc_bulging": "Disc bulging",
                  "disc_herniation": "Disc herniation", "spondylolisthesis": "Spondylolisthesis"}[column]
        assert levels[column].sum() == lumbar[source].sum()
    assert levels[["jarosz_height", "osteophytes"]].isna().all().all()
    assert levels[["modic_upper", "modic_lower", "tep_upper", "tep_lower"]].isna().all().all()
    # L5-S1 is IVD label 1 (bottom-up assumption)
    l5 = levels[levels.level == "L5-S1"].pfirrmann.value_counts().to_dict()
    assert l5 == raw[raw["IVD label"] == 1]["Pfirrman grade"].value_counts().to_dict()
    log = out["exclusions.csv"]
    discs = log[log.item.str.contains(" row ")]
    assert len(discs) == len(raw) - len(lumbar) == 430
    assert discs.item.str.fullmatch(r"file [0-9a-f]{10} row [0-9]+").all()  # the keyed label, not the path
    for path in tmp_path.iterdir():
        assert b"radiological_gradings" not in path.read_bytes() and b"spider" not in path.read_bytes(), path.name
    assert discs.reason.str.startswith("IVD label = ").all()
    assert (discs.reason.str.slice(13, 14).value_counts().sort_index().to_dict()
            == {"0": 2, "6": 217, "7": 144, "8": 55, "9": 12})
    excluded_rows = discs.item.str.rsplit(" ", n=1).str[1].astype(int) - 2
    # output + excluded = every disc of the file, e.g. Modic type 2 in 503 discs
    assert (levels.modic_disc == 2).sum() + (raw.loc[excluded_rows, "Modic"] == 2).sum() == 503
    assert (levels.pfirrmann == 3).sum() + (raw.loc[excluded_rows, "Pfirrman grade"] == 3).sum() == 418
    assert out["analysis.parquet"].empty
    assert (log.reason == "the centre sends no clinical table").sum() == 218
    flow = out["flow.csv"].set_index("centre")
    assert flow.loc["SPIDER", ["received", "valid_clinical", "valid_mri", "analysed"]].tolist() == [218, 0, 218, 0]
    assert all(level in LEVELS for level in levels.level.unique())


def test_summary_rows_are_not_patients(cohort, tmp_path):
    """A spreadsheet's "Total" row (id "Total", column sums) and a sums row with a blank id: exclusion lines with
    their reason, not received records (flow.csv) nor invalid rows stopping the run."""
    _, clinical, _, config = cohort
    a = clinical[clinical.centre == "A"]
    numbers = ["age_years", "bmi", "nprs_back_pre", "nprs_leg_pre", "odi_pre", "dn4_pre"]

    def totals(frame):
        sums = frame[numbers].apply(pd.to_numeric).sum().map(lambda v: f"{v:g}")
        total = {c: "" for c in frame} | dict(sums) | {"study_id": "Total"}
        blank = {c: "" for c in frame} | dict(sums)
        return pd.concat([frame, pd.DataFrame([total, blank])], ignore_index=True)  # lines len(a) + 2, + 3

    bad = dict(config)
    bad["A"] = config["A"] | {"clinical": broken(config["A"]["clinical"], tmp_path / "a.csv", totals)}
    out = build(bad, tmp_path / "out", lookup=tmp_path / "files.csv")
    label = pd.read_csv(tmp_path / "files.csv").set_index("path").loc[str(tmp_path / "a.csv"), "file"]
    assert out["exclusions.csv"].astype("string").fillna("").to_dict("records") == [
        {"centre": "A", "patient": "", "item": f"{label} row {len(a) + 2}", "stage": "tables",
         "reason": "patient id 'Total': a summary row, not a patient: not read"},
        {"centre": "A", "patient": "", "item": f"{label} row {len(a) + 3}", "stage": "tables",
         "reason": "blank patient id, its numbers the column sums of the other rows: a summary row, not a patient: "
                   "not read"},
    ]
    flow = out["flow.csv"].set_index("centre")
    assert flow.loc["A", ["received", "valid_clinical", "valid_mri", "analysed"]].tolist() == [len(a)] * 4
    assert flow.loc["all", "received"] == len(clinical)


def test_blank_id_without_sums_is_still_a_problem(cohort, tmp_path):
    """A row with a blank id whose numbers are not the column sums is a patient whose id is lost."""
    spec = broken(cohort[3]["A"]["clinical"], tmp_path / "a.csv", set_cell(3, "study_id", ""))
    with pytest.raises(TableError, match=r"row 3, column 'study_id', value '': patient id missing"):
        merge.build_tables(cohort[3] | {"A": cohort[3]["A"] | {"clinical": spec}}, KEY, tmp_path / "out")
