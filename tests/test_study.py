"""Study files: RuDDS's loads and gives its tables' schemas; a broken study file is refused naming the file, the key
and what is wrong; a study of one's own gets schemas with its own variables, ranges and scales."""

import copy
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from conftest import REPO
from spinestudy import study
from spinestudy.tables.schemas import failures, tables

RUDDS = yaml.safe_load((REPO / "config/studies/rudds.yaml").read_text())


def write(tmp_path, data, name="mine.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_rudds_declares_the_variables_the_centre_mappings_use(config):
    rudds = study.of(config)
    assert rudds.name == "rudds" and rudds.group.name == "syndrome" and len(rudds.group.levels) == 4
    schemas = tables(rudds)
    for centre in config["centres"].values():  # every variable a shipped centre maps is one of the study's
        assert set(centre["clinical"]["columns"]) == {"patient_id", *schemas.clinical_columns}
        if "gradings" in centre:
            assert set(centre["gradings"]["columns"]) == {"patient_id", *schemas.level_columns}
            for side in centre["gradings"]["endplates"].values():
                assert set(side) == set(schemas.endplate_columns)
    assert [(a.name, b.name) for a, b in rudds.follow_ups()] == [("nprs_back_after", "nprs_back_before"),
                                                                ("nprs_leg_after", "nprs_leg_before")]


@pytest.mark.parametrize(
    "change, named",
    [
        (lambda s: s["variables"]["pfirrmann"].update(scale="pfirmann"),
         "variables/pfirrmann/scale: 'pfirmann' is not a scale of the study (pfirrmann, modic, rajasekaran, jarosz)"),
        (lambda s: s["variables"]["age"].update(kind="number"), "variables/age/kind: 'number' is not one of"),
        (lambda s: s["variables"]["sex"].pop("levels"), "variables/sex: 'levels' is a required property"),
        (lambda s: s["variables"]["bmi"].update(range=[80, 10]), "variables/bmi/range: lowest 80 above highest 10"),
        (lambda s: s["variables"]["odi_before"].update(time_point="baseline"),
         "variables/odi_before/time_point: 'baseline' is not one of time_points ['before', 'after']"),
        (lambda s: s["variables"]["dn4_before"].update(measure="odi"),
         "variables/dn4_before: odi at before is already variable odi_before"),
        (lambda s: s["variables"].update(level={"per": "patient", "kind": "binary", "label": "x"}),
         "variables/level: 'level' is a key column of the tables, not a variable"),
        (lambda s: s["variables"]["smoking"].update(range=[0, 1]), "variables/smoking/range: only a continuous or count variable has a range, not a binary"),
        (lambda s: s["scales"]["modic"]["labels"].update({4: "type 4"}),
         "scales/modic/labels/4: not a code of the scale ([0, 1, 2, 3])"),
        (lambda s: s["analyses"]["table1"].update(group="age"),
         "analyses/table1/group: 'age' is not a categorical patient variable of the study"),
        (lambda s: s.update(variable={}), "(top level): Additional properties are not allowed ('variable' was"),
        (lambda s: s["variables"]["tep"].update(per="disc"), "variables/tep/per: 'disc' is not one of"),
        (lambda s: s["derived"]["age_decade"].update(limits=[10, 30, 20]),
         "derived/age_decade/limits: not ascending: [10, 30, 20]"),
        (lambda s: s["analyses"]["associations"].update(measure="pain"),
         "analyses/associations/measure: 'pain' has no variable at the baseline (the first of time_points)"),
        (lambda s: s["analyses"]["associations"].update(adjust=["syndrome"]),
         "analyses/associations/adjust/0: 'syndrome' is not a patient variable of kind continuous or count or binary"),
        (lambda s: s["derived"]["age_decade"].update(of="sex"),
         "derived/age_decade/of: 'sex' is not a continuous or count patient variable"),
        (lambda s: s["derived"]["jarosz"].update(of=["jarosz_height", "osteophyte"]),
         "derived/jarosz/of: 'osteophyte' is not a variable of the study or a derived variable"),
        (lambda s: s["derived"]["tep_total"].update(of="tep_ge6"),
         "derived/tep_total/of: 'tep_ge6' is not a continuous or count variable per level"),
        (lambda s: s["derived"]["modic_any_n"].update(of="modic_any", over="endplate"),
         "derived/modic_any_n/of: 'modic_any' is not a binary variable per endplate"),
        (lambda s: s["derived"]["modic_any"].update(to="patient"),
         "derived/modic_any/to: patient: every source must be observed per level"),
        (lambda s: s["derived"]["jarosz"].update(of=["jarosz_height", "modic"]),
         "derived/jarosz: the sources are observed per different units"),
        (lambda s: s["derived"]["mcid"].update(at_most=3), "derived/mcid: {'op': 'threshold'"),
        (lambda s: s["derived"]["tep_score"].update(of="tep_total", over="level"),
         "derived/tep_score/of: 'tep_total' is not a variable of the study or a derived variable (or the derived "
         "variables refer to each other in a circle)"),
        (lambda s: s["derived"].update(age={"op": "add", "of": ["bmi", "bmi"], "label": "x"}),
         "derived/age: 'age' is already a variable of the study or a key column"),
        (lambda s: s["derived"]["n_findings"].update(top=6), "derived/n_findings/top: 6 is more than the 5 findings"),
        (lambda s: s["derived"].update(age_band={"op": "age_bands", "of": "age", "limits": [0, 50], "label": "x"}),
         "derived/age_band: a study has one variable of op age_bands (it is age_decade)"),
        (lambda s: s["analyses"]["prevalence"].update(findings=["tep_score"]),
         "analyses/prevalence/findings/0: 'tep_score' is not a binary variable per level (study or derived)"),
        (lambda s: s["analyses"]["prevalence"].update(by="age"),
         "analyses/prevalence/by: 'age' is not a derived variable of op age_bands"),
        (lambda s: s["derived"].pop("osteophytes_n"),
         "analyses/associations/findings: finding 'osteophytes_present' of n_findings has no count over the levels"),
        (lambda s: s["analyses"]["associations"].update(findings="n_findingz"),
         "analyses/associations/findings: 'n_findingz' is not a derived variable of op findings"),
    ],
)
def test_broken_study_file_names_the_file_and_the_key(tmp_path, change, named):
    data = copy.deepcopy(RUDDS)
    change(data)
    path = write(tmp_path, data)
    with pytest.raises(study.StudyError) as raised:
        study.load(path)
    assert f"invalid study file {path}:" in str(raised.value)
    assert named in str(raised.value)


def test_a_missing_study_lists_the_studies_there_are():
    with pytest.raises(study.StudyError, match=r"no such study file .*\(studies in .*: rudds"):
        study.load("rudd")


def test_own_study_gets_schemas_of_its_own_variables_ranges_and_scales(tmp_path):
    data = {
        "name": "cohort", "title": "A population cohort",
        "time_points": ["baseline", "six_years"], "follow_up_needs_baseline": True,
        "scales": {"schizas": {"label": "Schizas grade", "codes": ["A1", "A2", "A3", "A4", "B", "C", "D"]},
                   "facet": {"label": "Facet arthrosis", "codes": [0, 1, 2, 3]},
                   "sparse": {"label": "Odd codes", "codes": [0, 2, 5]}},
        "variables": {
            "age": {"per": "patient", "kind": "continuous", "label": "Age", "range": [20, 79], "required": True},
            "lbp_baseline": {"per": "patient", "kind": "count", "label": "LBP", "range": [0, 10],
                             "measure": "lbp", "time_point": "baseline"},
            "lbp_six_years": {"per": "patient", "kind": "count", "label": "LBP at 6 years", "range": [0, 10],
                              "measure": "lbp", "time_point": "six_years"},
            "stenosis": {"per": "level", "kind": "grade", "label": "Central stenosis", "scale": "schizas"},
            "facet": {"per": "level", "kind": "grade", "label": "Facet arthrosis", "scale": "facet"},
            "odd": {"per": "level", "kind": "grade", "label": "Odd", "scale": "sparse"},
        },
    }
    schemas = tables(study.load(write(tmp_path, data)))
    assert schemas.clinical_columns == ["age", "lbp_baseline", "lbp_six_years"]
    assert schemas.level_columns == ["level", "stenosis", "facet", "odd"] and schemas.endplate_columns == []
    assert schemas.required == {"patient_id", "age", "level"}
    patients = pd.DataFrame({"centre": "A", "patient": ["p000000000001", "p000000000002", "p000000000003"],
                             "age": [19.0, 50.0, 60.0], "lbp_baseline": pd.array([3, pd.NA, 11], "Int64"),
                             "lbp_six_years": pd.array([2, 4, pd.NA], "Int64")})
    found = failures(schemas.clinical, patients)
    assert sorted(zip(found["index"], found["check"])) == [
        (0, "greater_than_or_equal_to(20)"), (1, "lbp_six_years only where lbp_baseline exist"),
        (2, "less_than_or_equal_to(10)")]
    levels = pd.DataFrame({"centre": "A", "patient": "p000000000001", "level": ["L4-L5", "L5-S1"],
                           "stenosis": ["A2", "E"], "facet": pd.array([3, 4], "Int64"),
                           "odd": pd.array([2, 1], "Int64")})
    found = failures(schemas.levels, levels)
    assert sorted(zip(found["index"], found["check"])) == [
        (1, "isin(('A1', 'A2', 'A3', 'A4', 'B', 'C', 'D'))"), (1, "isin((0, 2, 5))"), (1, "less_than_or_equal_to(3)")]


def test_the_workflow_stops_on_a_broken_study_file_naming_it(tmp_path, config):
    data = copy.deepcopy(RUDDS)
    data["scales"]["pfirrmann"]["codes"] = [1]
    path = write(tmp_path, data)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config | {"study": str(path)}))
    run = subprocess.run([sys.executable, "-m", "snakemake", "--dry-run", "--cores", "1", "--snakefile",
                          str(REPO / "Snakefile"), "--configfile", "config.yaml", "--replace-workflow-config"],
                         cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode != 0
    assert f"invalid study file {path}:\n  scales/pfirrmann/codes: [1] is too short" in run.stderr + run.stdout
