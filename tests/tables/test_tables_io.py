"""Reading centre files: demo round trip and the bad-input corpus (exact problems: file, row, column, value)."""

import re

import pandas as pd
import pytest

from spinestudy import pseudonym, study
from spinestudy.anatomy import LEVELS
from spinestudy.demo.tables import CLINICAL_COLUMNS
from spinestudy.tables import readers as table_io
from spinestudy.tables.readers import Problem, TableError
from spinestudy.tables.schemas import tables as study_tables
from tables_corpus import KEY, broken, demo, set_cell

RUDDS = study_tables(study.load("rudds"))


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    return (folder, *demo(folder))


def problems(read) -> list[tuple]:
    return [(p.centre, p.file, p.row, p.column, p.value, p.message) for p in read.problems]


def raised(call) -> list[tuple]:
    with pytest.raises(TableError) as info:
        call()
    return [(p.centre, p.file, p.row, p.column, p.value, p.message) for p in info.value.problems]


@pytest.mark.parametrize("centre", ["A", "B", "C", "D"])
def test_round_trip_equals_canonical_frames(cohort, centre):
    """simulate_cohort -> write_centre_tables -> reader == the canonical frames, ids pseudonymised."""
    _, clinical, gradings, config = cohort
    read = table_io.read_clinical(centre, config[centre]["clinical"], KEY)
    levels, endplates = table_io.read_gradings(centre, config[centre]["gradings"], KEY)
    assert read.problems == levels.problems == endplates.problems == []
    expected = clinical[clinical.centre == centre].assign(
        patient=lambda f: [pseudonym.patient(KEY, centre, i) for i in f.study_id]
    )
    got = read.valid(RUDDS.clinical, set())
    columns = [c for c in CLINICAL_COLUMNS if c not in ("study_id", "centre")]
    want = expected.sort_values("patient")[["patient"] + columns].reset_index(drop=True)
    pd.testing.assert_frame_equal(got[["patient"] + columns], want, check_dtype=False)
    wide = gradings[gradings.centre == centre].assign(
        patient=lambda f: [pseudonym.patient(KEY, centre, i) for i in f.study_id]
    ).sort_values(["patient", "level"]).reset_index(drop=True)
    got_levels = levels.valid(RUDDS.levels, set())
    for column in ("pfirrmann", "jarosz_height", "osteophytes"):
        assert got_levels[column].tolist() == wide[column].tolist()
    assert got_levels["level"].tolist() == wide["level"].tolist()
    got_endplates = endplates.valid(RUDDS.endplates, set()).set_index(["patient", "level", "endplate"])
    for endplate in ("upper", "lower"):
        plate = got_endplates.xs(endplate, level="endplate")
        assert plate["modic"].tolist() == wide[f"modic_{endplate}"].tolist()
        assert plate["tep"].tolist() == wide[f"tep_{endplate}"].tolist()
    assert got_levels["modic_disc"].isna().all() and got_endplates["endplate_change"].isna().all()


def test_raw_ids_do_not_survive_validation(cohort):
    _, clinical, _, config = cohort
    got = table_io.read_clinical("A", config["A"]["clinical"], KEY).valid(RUDDS.clinical, set())
    assert not set(clinical.study_id) & set(got.astype(str).to_numpy().ravel())


def test_missing_required_column(cohort, tmp_path):
    spec = broken(cohort[3]["A"]["clinical"], tmp_path / "a.csv", lambda f: f.drop(columns="age_years"))
    found = raised(lambda: table_io.read_clinical("A", spec, KEY))
    assert len(found) == 1
    centre, file, row, column, value, message = found[0]
    assert (centre, file, row, column, value) == ("A", spec["path"], None, "age_years", "")
    assert message.startswith("column for age not in the file; the file has 'study_id', 'sex',")


def test_unmapped_canonical_column(cohort):
    spec = cohort[3]["A"]["clinical"]
    spec = spec | {"columns": {k: v for k, v in spec["columns"].items() if k != "bmi"}}
    assert raised(lambda: table_io.read_clinical("A", spec, KEY)) == [
        ("A", spec["path"], None, "bmi", "", "canonical column not in the mapping (map it to the file's column, "
         "or to null if not collected)")
    ]


def test_a_mapped_name_the_study_lacks_is_an_error_naming_it(cohort):
    """An entry of another study (an earlier config's endplate_defect) or a typo is not silently ignored."""
    spec = cohort[3]["A"]["gradings"]
    upper = {("endplate_defect" if k == "endplate_change" else k): v for k, v in spec["endplates"]["upper"].items()}
    spec = spec | {"columns": spec["columns"] | {"pfirman": None}, "endplates": spec["endplates"] | {"upper": upper}}
    found = [(column, message) for _, _, _, column, _, message in raised(lambda: table_io.read_gradings("A", spec, KEY))]
    levels = "patient_id, level, pfirrmann, jarosz_height, osteophytes, modic_disc, disc_narrowing, disc_bulging, "
    levels += "disc_herniation, "
    assert ("columns/pfirman", f"not a variable of the study (it has: {levels}spondylolisthesis)") in found
    assert ("endplates/upper/endplate_defect", "not a variable of the study (it has: modic, tep, endplate_change)") in found
    assert ("endplate_change_upper", "canonical column not in the mapping (map it to the file's column, or to null if "
            "not collected)") in found


def test_required_column_mapped_to_null(cohort):
    spec = cohort[3]["A"]["clinical"]
    spec = spec | {"columns": spec["columns"] | {"sex": None}}
    assert raised(lambda: table_io.read_clinical("A", spec, KEY)) == [
        ("A", spec["path"], None, "sex", "", "required column mapped to null")
    ]


def test_wrong_type(cohort, tmp_path):
    spec = broken(cohort[3]["A"]["clinical"], tmp_path / "a.csv", set_cell(3, "age_years", "fifty"))
    read = table_io.read_clinical("A", spec, KEY)
    assert problems(read) == [("A", spec["path"], 3, "age_years", "fifty", "not a number")]


def test_non_integer_score(cohort, tmp_path):
    spec = broken(cohort[3]["D"]["clinical"], tmp_path / "d.csv", set_cell(4, "DN4 prae", "2,5"))
    read = table_io.read_clinical("D", spec, KEY)
    assert problems(read) == [("D", spec["path"], 4, "DN4 prae", "2.5", "not an integer")]


def test_out_of_range(cohort, tmp_path):
    spec = broken(cohort[3]["A"]["clinical"], tmp_path / "a.csv", set_cell(4, "nprs_back_pre", "11"))
    read = table_io.read_clinical("A", spec, KEY)
    patient = read.frame.loc[read.frame.row == 4, "patient"].item()
    assert problems(read) == [("A", spec["path"], 4, "nprs_back_pre", "11", "less_than_or_equal_to(10)")]
    assert read.problems[0].patient == patient
    assert read.problems[0].exclusion().item == f"{read.source.label} row 4"  # a keyed label, never the path
    assert re.fullmatch(r"file [0-9a-f]{10}", read.source.label)


def test_unknown_code(cohort, tmp_path):
    spec = broken(cohort[3]["A"]["clinical"], tmp_path / "a.csv", set_cell(2, "leading_syndrome", "facett"))
    read = table_io.read_clinical("A", spec, KEY)
    assert problems(read) == [
        ("A", spec["path"], 2, "leading_syndrome", "facett",
         "unknown code for syndrome; known codes: 'deformity', 'facet', 'herniation', 'stenosis'")
    ]


def test_unknown_level_code_is_reported_once(cohort, tmp_path):
    """Not again as a missing level (null in the level and both endplate rows), nor as the completeness
    rule's failure at the patient's other four rows: one problem, the one that needs fixing."""
    spec = broken(cohort[3]["D"]["gradings"], tmp_path / "d.csv", set_cell(6, "Segment", "L6/S1"))
    levels, endplates = table_io.read_gradings("D", spec, KEY)
    assert problems(levels) + problems(endplates) == [
        ("D", spec["path"], 6, "Segment", "L6/S1",
         "unknown code for level; known codes: 'L1/2', 'L2/3', 'L3/4', 'L4/5', 'L5/S1'")]


def test_duplicate_patient_in_gradings_is_reported_once_per_row(cohort, tmp_path):
    """A patient's five grading rows repeated: each of the ten rows once (not again per endplate)."""
    spec = broken(cohort[3]["A"]["gradings"], tmp_path / "a.csv", lambda f: pd.concat([f, f.iloc[:5]]))
    levels, endplates = table_io.read_gradings("A", spec, KEY)
    assert endplates.problems == []
    found = problems(levels)
    assert [f[2] for f in found] == [2, 3, 4, 5, 6, 22, 23, 24, 25, 26]
    assert {(f[3], f[5]) for f in found} == {
        ("study_id, level", "duplicate row (the same patient id, level or endplate again)")}


def test_missing_level_row(cohort, tmp_path):
    spec = broken(cohort[3]["A"]["gradings"], tmp_path / "a.csv", lambda f: f.drop(index=2))
    levels, _ = table_io.read_gradings("A", spec, KEY)
    assert sorted(problems(levels)) == [
        ("A", spec["path"], row, "level", level, "level: all five lumbar levels L1-L2..L5-S1 graded")
        for row, level in [(2, "L1-L2"), (3, "L2-L3"), (4, "L4-L5"), (5, "L5-S1")]
    ]


def test_endplate_out_of_range_names_its_column(cohort, tmp_path):
    spec = broken(cohort[3]["A"]["gradings"], tmp_path / "a.csv", set_cell(5, "endplate_lower", "7"))
    _, endplates = table_io.read_gradings("A", spec, KEY)
    assert problems(endplates) == [("A", spec["path"], 5, "endplate_lower", "7", "less_than_or_equal_to(6)")]


def test_duplicate_ids(cohort, tmp_path):
    def duplicate(frame):
        frame.loc[3, "study_id"] = frame.loc[0, "study_id"]  # line 5 repeats line 2's id
        return frame
    spec = broken(cohort[3]["A"]["clinical"], tmp_path / "a.csv", duplicate)
    read = table_io.read_clinical("A", spec, KEY)
    patient = read.frame.loc[read.frame.row == 2, "patient"].item()
    assert problems(read) == [
        ("A", spec["path"], row, "study_id", patient, "duplicate row (the same patient id, level or endplate again)")
        for row in (2, 5)
    ]


def test_after_without_before(cohort, tmp_path):
    config = cohort[3]
    row = 2  # the first patient, its questionnaires before the procedure blanked

    def edit(frame):
        frame.loc[row - 2, ["nprs_back_pre", "nprs_leg_pre", "nprs_back_post", "nprs_leg_post"]] = ["", "", "3", ""]
        return frame

    spec = broken(config["A"]["clinical"], tmp_path / "a.csv", edit)
    read = table_io.read_clinical("A", spec, KEY)
    assert problems(read) == [
        ("A", spec["path"], row, "nprs_back_post", "3",
         "nprs_back_after, nprs_leg_after only where nprs_back_before, nprs_leg_before exist")
    ]


def test_empty_file(cohort, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    spec = cohort[3]["A"]["clinical"] | {"path": str(path)}
    assert raised(lambda: table_io.read_clinical("A", spec, KEY)) == [
        ("A", str(path), None, "", "", "file is empty (0 bytes)")
    ]


def test_header_only_file(cohort, tmp_path):
    spec = broken(cohort[3]["A"]["clinical"], tmp_path / "a.csv", lambda f: f.iloc[:0])
    assert raised(lambda: table_io.read_clinical("A", spec, KEY)) == [
        ("A", spec["path"], None, "", "", "file has a header but no data rows")
    ]


def test_missing_file(cohort, tmp_path):
    spec = cohort[3]["A"]["clinical"] | {"path": str(tmp_path / "nowhere.csv")}
    assert raised(lambda: table_io.read_clinical("A", spec, KEY)) == [
        ("A", spec["path"], None, "", "", "file not found")
    ]


def test_wrong_encoding(cohort, tmp_path):
    def remark(frame):
        return frame.assign(Bemerkung=["Rückenschmerz"] * len(frame))
    spec = broken(cohort[3]["D"]["clinical"], tmp_path / "d.csv", remark, encoding="latin-1")
    offset = open(spec["path"], "rb").read().index("ü".encode("latin-1"))
    assert raised(lambda: table_io.read_clinical("D", spec, KEY)) == [
        ("D", spec["path"], None, "", "", f"not valid utf-8 text: byte 0xfc in line 2 (offset {offset}); "
         "set `encoding` in the centre's mapping (e.g. latin-1)")
    ]
    assert table_io.read_clinical("D", spec | {"encoding": "latin-1"}, KEY).problems == []


def test_xlsx_extra_header_row(cohort, tmp_path):
    def titled(frame):
        title = pd.DataFrame([frame.columns.tolist()], columns=frame.columns)
        return pd.concat([title, frame], ignore_index=True).set_axis(
            ["Export 2024-11-21"] + [f"Unnamed: {i}" for i in range(1, frame.shape[1])], axis=1)
    spec = broken(cohort[3]["B"]["clinical"], tmp_path / "b.xlsx", titled)
    found = raised(lambda: table_io.read_clinical("B", spec, KEY))
    assert found == [("B", spec["path"], None, "", "",
                      "the column names are in row 2, not in row 1: set header_row: 2 in the mapping")]
    fixed = spec | {"header_row": 2}
    assert table_io.read_clinical("B", fixed, KEY).problems == []


def test_csv_header_on_row_3_without_padding(cohort, tmp_path):
    """Two title lines without separators: pandas stops on the first data line ("Expected 1 fields in
    line 3, saw 13"); the problem is the header row, and the message says so. One renamed column is
    still named on its own."""
    spec = cohort[3]["A"]["clinical"]
    lines = open(spec["path"]).read().replace("age_years", "age").splitlines(keepends=True)
    path = tmp_path / "a.csv"
    path.write_text("RIS export\n\nCentre A, spine clinic\n" + "".join(lines))
    spec = spec | {"path": str(path)}
    assert raised(lambda: table_io.read_clinical("A", spec, KEY)) == [
        ("A", str(path), None, "", "", "the column names are in row 3, not in row 1: set header_row: 3 in the mapping")]
    found = raised(lambda: table_io.read_clinical("A", spec | {"header_row": 3}, KEY))
    assert [f[3] for f in found] == ["age_years"] and found[0][5].startswith("column for age not in the file")


def test_xlsx_rows_are_excel_rows(cohort, tmp_path):
    spec = broken(cohort[3]["B"]["clinical"], tmp_path / "b.xlsx", set_cell(5, "BMI, kg/m2", "200"))
    read = table_io.read_clinical("B", spec, KEY)
    assert problems(read) == [("B", spec["path"], 5, "BMI, kg/m2", "200.0", "less_than_or_equal_to(80)")]


def test_parquet_rows_are_record_numbers(cohort, tmp_path):
    spec = cohort[3]["C"]["clinical"]
    frame = pd.read_parquet(spec["path"])
    frame.loc[2, "gender"] = "divers"
    path = tmp_path / "c.parquet"
    frame.to_parquet(path)
    read = table_io.read_clinical("C", spec | {"path": str(path)}, KEY)
    assert problems(read) == [("C", str(path), 3, "gender", "divers",
                               "unknown code for sex; known codes: 'female', 'male'")]


def test_problem_text_and_exclusion():
    problem = Problem("A", "/data/Bianchi Peter/a.csv", 4, "nprs_back_pre", "11", "less_than_or_equal_to(10)",
                      "p0123456789ab", "file 0123456789")
    assert str(problem) == ("centre A, file /data/Bianchi Peter/a.csv, row 4, column 'nprs_back_pre', value '11': "
                            "less_than_or_equal_to(10)")
    assert problem.exclusion() == table_io.Exclusion(
        "A", "p0123456789ab", "file 0123456789 row 4", "tables", "nprs_back_pre = '11': less_than_or_equal_to(10)")


def test_demo_mapping_lists_every_canonical_column(cohort):
    spec = cohort[3]["C"]["gradings"]
    assert list(spec["columns"]) == ["patient_id", "level", *RUDDS.level_columns[1:]]
    assert spec["endplates"]["upper"] == {"modic": "modic_cranial", "tep": "endplate_defect_cranial",
                                          "endplate_change": None}
    assert spec["codes"]["level"] == {lv.replace("-", ""): lv for lv in LEVELS}


@pytest.mark.parametrize("centre, name, column, positions", [
    ("A", "a.csv", "nprs_back_pre", "columns 7, 8"), ("B", "b.xlsx", "NPRS back 0", "columns 7 (G), 8 (H)")])
def test_duplicate_column_names(cohort, tmp_path, centre, name, column, positions):
    """Two columns of one name, the first empty: pandas reads the second as "<name>.1", so the empty one would
    be the variable for every patient. An error naming both positions (and Excel's letters) instead."""
    def twice(frame):
        at = frame.columns.get_loc(column)
        return pd.concat([frame.iloc[:, :at], frame[[column]].assign(**{column: ""}), frame.iloc[:, at:]], axis=1)
    spec = broken(cohort[3][centre]["clinical"], tmp_path / name, twice)
    assert raised(lambda: table_io.read_clinical(centre, spec, KEY)) == [
        (centre, spec["path"], None, column, "", f"2 columns have this name: {positions} of the header row; "
         "rename or remove all but the one to read")]


def test_pandas_na_strings_are_not_missing_values(cohort, tmp_path):
    """"n/a", "NA" and "null" are text, not missing, unless the mapping declares them: in a number or coded
    column they are invalid values, as any other text."""
    def edit(frame):
        frame.loc[1, ["nprs_back_pre", "smoker", "bmi"]] = ["n/a", "NA", "null"]  # line 3
        return frame
    spec = broken(cohort[3]["A"]["clinical"], tmp_path / "a.csv", edit)
    assert sorted(problems(table_io.read_clinical("A", spec, KEY))) == [
        ("A", spec["path"], 3, "bmi", "null", "not a number"),
        ("A", spec["path"], 3, "nprs_back_pre", "n/a", "not an integer"),
        ("A", spec["path"], 3, "smoker", "NA", "unknown code for smoking; known codes: 'no', 'yes'"),
    ]


def test_declared_missing_value_codes(cohort, tmp_path):
    """Codes declared in `missing` are missing, matched as codes (-99 is -99.0); the other values are unchanged."""
    _, clinical, _, config = cohort
    def edit(frame):
        frame.loc[1, ["bmi", "smoker", "odi_pre"]] = ["999", "n/a", "-99.0"]  # line 3
        return frame
    spec = broken(config["A"]["clinical"], tmp_path / "a.csv", edit) | {"missing": ["", "999", -99, "n/a"]}
    read = table_io.read_clinical("A", spec, KEY)
    assert read.problems == []
    got = read.valid(RUDDS.clinical, set()).set_index("patient")
    want = clinical[clinical.centre == "A"]
    want = want.assign(patient=[pseudonym.patient(KEY, "A", i) for i in want.study_id]).set_index("patient").loc[got.index]
    line3 = pseudonym.patient(KEY, "A", clinical[clinical.centre == "A"].study_id.iloc[1])
    for column in ("bmi", "smoking", "odi_before"):
        assert pd.isna(got.at[line3, column])
        assert got[column].drop(line3).tolist() == want[column].drop(line3).tolist()


def test_declared_missing_code_in_excel_number_cells(cohort, tmp_path):
    """999 stored as a number in an XLSX cell: missing when declared, out of range when not."""
    spec = cohort[3]["B"]["clinical"]
    frame = pd.read_excel(spec["path"], sheet_name=spec["sheet"])
    frame.loc[0, "NPRS back 0"] = 999  # Excel row 2
    frame.to_excel(tmp_path / "b.xlsx", sheet_name=spec["sheet"], index=False)
    spec = spec | {"path": str(tmp_path / "b.xlsx")}
    assert problems(table_io.read_clinical("B", spec, KEY)) == [
        ("B", spec["path"], 2, "NPRS back 0", "999", "less_than_or_equal_to(10)")]
    read = table_io.read_clinical("B", spec | {"missing": ["", 999]}, KEY)
    assert read.problems == [] and pd.isna(read.frame.loc[read.frame.row == 2, "nprs_back_before"].item())


def test_duplicate_id_message_shows_the_id_as_written(cohort, tmp_path):
    """The terminal shows the id as the file writes it; the exclusion line keeps the pseudonym."""
    def duplicate(frame):
        frame.loc[3, "study_id"] = frame.loc[0, "study_id"]
        return frame
    spec = broken(cohort[3]["A"]["clinical"], tmp_path / "a.csv", duplicate)
    read = table_io.read_clinical("A", spec, KEY)
    raw = cohort[1][cohort[1].centre == "A"].study_id.iloc[0]
    assert str(read.problems[0]) == (f"centre A, file {spec['path']}, row 2, column 'study_id', value {raw!r}: "
                                     "duplicate row (the same patient id, level or endplate again)")
    line = read.problems[0].exclusion()
    assert line.reason == f"study_id = {pseudonym.patient(KEY, 'A', raw)!r}: duplicate row (the same patient id, " \
                          "level or endplate again)" and raw not in str(line)


def test_header_names_with_spaces_keep_decimal_commas_and_blank_cells(cohort, tmp_path):
    """A header cell written "BMI " (read as BMI) with a blank cell below it: the blank is missing and the
    other decimal-comma values are numbers, as in a column named exactly."""
    _, clinical, _, config = cohort
    def edit(frame):
        frame.loc[0, "BMI"] = ""  # line 2
        return frame.rename(columns={"BMI": "BMI "})
    spec = broken(config["D"]["clinical"], tmp_path / "d.csv", edit)
    read = table_io.read_clinical("D", spec, KEY)
    assert read.problems == []
    d = clinical[clinical.centre == "D"]
    got = read.frame.set_index("row")["bmi"]
    assert pd.isna(got[2]) and got.drop(2).tolist() == pytest.approx(d.bmi.iloc[1:].tolist())


@pytest.mark.parametrize("centre, option, value", [("C", "decimal", ","), ("A", "sheet", "Data"), ("B", "sep", ";"),
                                                   ("C", "header_row", 2), ("B", "encoding", "latin-1")])
def test_an_option_of_another_file_format_is_an_error(cohort, centre, option, value):
    spec = cohort[3][centre]["clinical"] | {option: value}
    kind = {"A": "csv", "B": "xlsx", "C": "parquet"}[centre]
    found = raised(lambda: table_io.read_clinical(centre, spec, KEY))
    assert [(f[3], f[4]) for f in found] == [(option, str(value))]
    assert found[0][5].startswith(f"the option {option} does not apply to a {kind} file (only to ")


def test_a_second_read_in_another_format_keeps_only_the_options_that_apply(cohort, tmp_path):
    gradings = cohort[3]["B"]["gradings"]  # XLSX with its sheet; the second reader sends the same as CSV
    frame = pd.read_excel(gradings["path"], sheet_name=gradings["sheet"], dtype=str, keep_default_na=False)
    frame.to_csv(tmp_path / "reader2.csv", index=False)
    first, _ = table_io.read_gradings("B", gradings, KEY)
    second, _ = table_io.read_second("B", gradings, {"path": str(tmp_path / "reader2.csv")}, KEY)
    assert second.problems == [] and second.frame.drop(columns="row").equals(first.frame.drop(columns="row"))
