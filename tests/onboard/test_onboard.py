"""spinestudy onboard on files built with the right answer known: every proposal and code is compared with the
column and code the test wrote, and an approved entry is never wrong."""

import pandas as pd
import pytest
import yaml
from onboard_corpus import (FIELDS, GERMAN, GERMAN_CODES, GERMAN_IDENTIFYING, REDCAP, REDCAP_IDENTIFYING, SPSS,
                            SYNDROME_CODES, german_workbook, redcap, spss)

from spinestudy.cli import main
from spinestudy.onboard.run import onboard
from spinestudy.tables.readers import TableError, read_clinical, read_gradings

KEY = b"onboard-test"


def proposals(result: dict, table: str = "clinical") -> dict:
    return {p.target.key: p for p in result["proposals"][table]}


def codes(proposal) -> dict:
    return {c.code: (c.value, c.status) for c in proposal.codes}


def assert_no_wrong_approval(found: dict, truth: dict) -> None:
    """Every approved column is the true one; every variable the file has is proposed (approved or check)."""
    for key, p in found.items():
        if p.status == "approved" and key in truth:
            assert p.column.name == truth[key], key
        if p.status == "approved" and key not in truth:
            assert p.column is None, (key, p.column.name)
    for key, column in truth.items():
        assert found[key].column is not None and found[key].column.name == column, (key, found[key].why)


def reviewed(path, centre: str, table: str, edit=None) -> dict:
    """A mapping as a reviewer leaves it: `edit` corrects it, then every check entry is set to approved."""
    spec = yaml.safe_load(path.read_text())["centres"][centre][table]
    if edit:
        edit(spec)
    spec["review"] = {k: v | {"status": "approved" if v["status"] == "check" else v["status"]}
                      for k, v in spec["review"].items()}
    return spec


def test_german_workbook_title_row_decimal_comma_and_identifiers(tmp_path):
    written = german_workbook(tmp_path / "zentrum.xlsx")
    result = onboard("Z", [str(tmp_path / "zentrum.xlsx")], str(tmp_path / "Z.yaml"), logs=str(tmp_path / "logs"))
    found = proposals(result)
    assert_no_wrong_approval(found, GERMAN)
    assert result["tables"]["clinical"].options == {"format": "xlsx", "sheet": "Klinik", "header_row": 3}
    spec = yaml.safe_load((tmp_path / "Z.yaml").read_text())["centres"]["Z"]["clinical"]
    assert spec["decimal"] == "," and spec["date_format"] == "%d.%m.%Y" and spec["header_row"] == 3
    # 1/2 without labels: a guess to check, never approved; 0/1/2 is no yes/no variable
    assert {code: status for code, (_, status) in codes(found["sex"]).items()} == {"1": "check", "2": "check"}
    assert all(status != "approved" for _, status in codes(found["smoking"]).values())
    assert codes(found["syndrome"]) == {code: (value, "approved") for code, value in GERMAN_CODES["syndrome"].items()}
    profile = pd.read_csv(tmp_path / "logs" / "Z_profile.csv", keep_default_na=False)
    flagged = profile[profile["identifier"] != ""]
    assert set(flagged["column"]) == set(GERMAN_IDENTIFYING)
    assert (flagged["top"] == "").all() and (flagged["min"] == "").all()
    every = {p.column.name for t in result["proposals"].values() for p in t if p.column is not None}
    assert not every & set(GERMAN_IDENTIFYING)
    ids = profile[profile["column"] == "Probanden-ID"].iloc[0]
    assert ids["top"] == "" and ids["suppressed"] == 30  # each id seen once: never shown
    # gradings sheet: German names, L4/5 levels
    grading = proposals(result, "gradings")
    assert result["tables"]["gradings"].options["sheet"] == "MRT"
    assert {k: grading[k].column.name for k in ("patient_id", "level", "pfirrmann", "jarosz_height", "osteophytes",
                                                "endplates.upper.modic", "endplates.lower.modic")} == {
        "patient_id": "Probanden-ID", "level": "Segment", "pfirrmann": "Pfirrmann", "jarosz_height": "Höhenminderung",
        "osteophytes": "Osteophyten", "endplates.upper.modic": "Modic oben", "endplates.lower.modic": "Modic unten"}
    assert codes(grading["level"])["L5/S1"] == ("L5-S1", "approved")

    def review(spec):  # the reviewer's answers: 1 male, 2 female; Rauchen 0 never, 1 former, 2 current
        spec["codes"]["sex"] = {"1": "M", "2": "F"}
        spec["codes"]["smoking"] = {"0": False, "1": False, "2": True}

    read = read_clinical("Z", reviewed(tmp_path / "Z.yaml", "Z", "clinical", review), KEY)
    assert read.problems == []
    assert read.frame["bmi"].tolist() == pytest.approx(written["bmi"].tolist())
    levels, endplates = read_gradings("Z", reviewed(tmp_path / "Z.yaml", "Z", "gradings"), KEY)
    assert levels.problems == [] and len(levels.frame) == 150 and len(endplates.frame) == 300


def test_a_run_refuses_check_entries_naming_them(tmp_path):
    german_workbook(tmp_path / "zentrum.xlsx")
    onboard("Z", [str(tmp_path / "zentrum.xlsx")], str(tmp_path / "Z.yaml"), logs=str(tmp_path / "logs"))
    spec = yaml.safe_load((tmp_path / "Z.yaml").read_text())["centres"]["Z"]["clinical"]
    with pytest.raises(TableError, match=r"not reviewed: sex, smoking, codes\.sex, codes\.smoking \("):
        read_clinical("Z", spec, KEY)


@pytest.mark.parametrize("labels", [False, True], ids=["raw", "labels"])
def test_redcap_export_with_dictionary_choices_checkboxes_and_identifiers(tmp_path, labels):
    export, dictionary = redcap(tmp_path, labels)
    result = onboard("R", [str(export)], str(tmp_path / "R.yaml"), str(dictionary), logs=str(tmp_path / "logs"))
    found = proposals(result)
    names = {name: label for name, _, label, *_ in FIELDS}
    truth = {k: names[v] if labels else v for k, v in REDCAP.items()}
    assert_no_wrong_approval(found, truth)
    for key in ("nprs_back_after", "nprs_leg_after", "dn4_before"):
        assert found[key].status == "unmatched" and found[key].column is None
    sex, smoking, syndrome = (codes(found[k]) for k in ("sex", "smoking", "syndrome"))
    if labels:
        assert sex == {"Male": ("M", "approved"), "Female": ("F", "approved")}
        assert smoking == {"Yes": (True, "approved"), "No": (False, "approved")}
    else:
        assert sex == {"1": ("M", "approved"), "2": ("F", "approved")}
        assert smoking == {"1": (True, "approved"), "0": (False, "approved")}
        assert syndrome == {code: (value, "approved") for code, value in SYNDROME_CODES.items()}
    profile = pd.read_csv(tmp_path / "logs" / "R_profile.csv", keep_default_na=False).set_index("column")
    checkbox = "Comorbidities (choice=Diabetes)" if labels else "comorbid___1"
    assert profile.loc[checkbox, "label"] == "Comorbidities: Diabetes"
    identifying = [names[c] if labels else c for c in REDCAP_IDENTIFYING]
    assert (profile.loc[identifying, "identifier"] == "marked as an identifier (data dictionary)").all()
    mapped = {p.column.name for p in found.values() if p.column is not None}
    assert not mapped & set(identifying) and not any("omorbid" in c for c in mapped)
    spec = reviewed(tmp_path / "R.yaml", "R", "clinical")
    assert read_clinical("R", spec, KEY).problems == []


@pytest.mark.parametrize("kind", ["sav", "dta"])
def test_spss_and_stata_value_labels_give_the_codes_and_the_run_reads_them(tmp_path, kind):
    truth = spss(tmp_path / f"centre.{kind}")
    result = onboard("S", [str(tmp_path / f"centre.{kind}")], str(tmp_path / "S.yaml"), logs=str(tmp_path / "logs"))
    found = proposals(result)
    assert_no_wrong_approval(found, SPSS)
    for variable in ("sex", "smoking", "syndrome"):
        assert codes(found[variable]) == {code: (value, "approved") for code, value in truth[variable].items()}
    spec = reviewed(tmp_path / "S.yaml", "S", "clinical")
    assert spec["format"] == kind
    read = read_clinical("S", spec, KEY)
    assert read.problems == [] and set(read.frame["sex"]) == {"F", "M"}


def test_previous_mapping_carries_approvals_and_lists_only_what_is_new(tmp_path, capsys):
    german_workbook(tmp_path / "first.xlsx")
    onboard("Z", [str(tmp_path / "first.xlsx")], str(tmp_path / "Z.yaml"), logs=str(tmp_path / "logs"))
    document = yaml.safe_load((tmp_path / "Z.yaml").read_text())
    clinical = document["centres"]["Z"]["clinical"]
    clinical["codes"]["sex"] = {"1": "M", "2": "F"}
    clinical["codes"]["smoking"] = {"0": False, "1": False, "2": True}
    for entry in ("sex", "smoking", "codes.sex", "codes.smoking"):  # the reviewer checked them
        clinical["review"][entry]["status"] = "approved"
    (tmp_path / "Z.yaml").write_text(yaml.safe_dump(document, allow_unicode=True))
    german_workbook(tmp_path / "second.xlsx", seed=9, extra={"Station": ["A"] * 29 + ["B"],
                                                              "Geschlecht": [1, 2] * 14 + [3, 3]})
    main(["onboard", "Z", str(tmp_path / "second.xlsx"), "--previous", str(tmp_path / "Z.yaml"),
          "--out", str(tmp_path / "Z2.yaml"), "--logs", str(tmp_path / "logs")])
    out = capsys.readouterr().out
    changes = out.split("new or changed since")[1].split("to review")[0].strip().splitlines()[1:]
    assert [line.strip() for line in changes] == ["clinical: new column 'Station'",
                                                  "clinical: codes.sex: new code '3' in 'Geschlecht'"]
    second = yaml.safe_load((tmp_path / "Z2.yaml").read_text())["centres"]["Z"]["clinical"]
    assert second["codes"]["sex"]["1"] == "M" and second["codes"]["smoking"] == {"0": False, "1": False, "2": True}
    assert second["review"]["codes.smoking"]["status"] == "approved"
    assert second["review"]["codes.sex"]["status"] == "check"  # the new code 3 is the one to look at


def test_dry_run_reports_what_the_approved_mapping_reads(tmp_path, capsys):
    german_workbook(tmp_path / "zentrum.xlsx")
    main(["onboard", "Z", str(tmp_path / "zentrum.xlsx"), "--out", str(tmp_path / "Z.yaml"), "--logs",
          str(tmp_path / "logs"), "--dry-run"])
    out = capsys.readouterr().out
    assert "left out (still to check): sex, smoking, codes.sex, codes.smoking" in out
    assert "file columns not mapped: Name, Geburtsdatum, Geschlecht, Rauchen, Bemerkung" in out
    assert "column 'sex', value '': required column mapped to null" in out  # sex is still to check
    assert "rows failing: 0 of 150" in out  # the gradings sheet reads as it is


def test_a_wide_grading_sheet_is_recognised_and_not_proposed(tmp_path):
    german_workbook(tmp_path / "zentrum.xlsx")
    blocks = {f"{level}_{item}": [1, 2, 3, 4, 5] * 6 for level in ("L1-2", "L2-3", "L3-4", "L4-5", "L5-S1")
              for item in ("Pfirrmann", "HIZ_left", "HIZ_right")}
    pd.DataFrame({"Probanden-ID": [f"P-{i:03d}" for i in range(1, 31)]} | blocks).to_csv(tmp_path / "wide.csv",
                                                                                        index=False)
    result = onboard("Z", [str(tmp_path / "wide.csv"), str(tmp_path / "zentrum.xlsx")], str(tmp_path / "Z.yaml"),
                     logs=str(tmp_path / "logs"))
    assert result["notes"] == [f"{tmp_path / 'wide.csv'}: a wide grading sheet (a column block per lumbar level): "
                               "not proposed; the tables stage reads one row per patient and level, reshape it to "
                               "that form"]
    assert result["tables"]["gradings"].options["sheet"] == "MRT"  # the long sheet, not the wide file


def test_a_follow_up_sheet_is_recognised_as_a_time_point(tmp_path):
    german_workbook(tmp_path / "zentrum.xlsx")
    follow = pd.DataFrame({"Probanden-ID": [f"P-{i:03d}" for i in range(1, 31)], "Schmerz Rücken": [3] * 30,
                           "Schmerz Bein": [2] * 30, "Zufriedenheit": [1] * 30})
    with pd.ExcelWriter(tmp_path / "zentrum.xlsx", mode="a") as writer:
        follow.to_excel(writer, sheet_name="Nachuntersuchung 12 Monate", index=False)
    result = onboard("Z", [str(tmp_path / "zentrum.xlsx")], str(tmp_path / "Z.yaml"), logs=str(tmp_path / "logs"))
    assert result["notes"] == [f"{tmp_path / 'zentrum.xlsx'} [Nachuntersuchung 12 Monate]: a follow-up time point "
                               "('Schmerz Rücken', 'Schmerz Bein'): not proposed; the tables stage reads the "
                               "after-procedure scores (nprs_back_after, nprs_leg_after) from the clinical table: "
                               "add them there as columns"]
    assert {k: v.options["sheet"] for k, v in result["tables"].items()} == {"clinical": "Klinik", "gradings": "MRT"}


def test_a_file_that_cannot_be_read_stops_naming_it(tmp_path):
    (tmp_path / "broken.xlsx").write_bytes(b"not a workbook")
    with pytest.raises(SystemExit, match=r"broken\.xlsx: cannot be read as xlsx"):
        onboard("Z", [str(tmp_path / "broken.xlsx")], str(tmp_path / "Z.yaml"), logs=str(tmp_path / "logs"))
