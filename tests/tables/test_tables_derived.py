"""Derived variables (the study file's operations, RuDDS's definitions) against hand-computed values."""

import pandas as pd
import pytest

from spinestudy import study
from spinestudy.anatomy import LEVELS
from spinestudy.tables import derived
from spinestudy.tables.merge import gradings_long

RUDDS = study.load("rudds")

NA = pd.NA
# patient p1 (RuDDS-style grades), per level L1-L2..L5-S1
P1 = {
    "pfirrmann": [2, 3, 4, 5, 1],
    "jarosz_height": [0, 1, 2, 3, 0],
    "osteophytes": [1, 0, 2, 3, 0],
    "modic": {"upper": [0, 1, 2, 0, 0], "lower": [0, 0, 2, 3, 0]},
    "tep": {"upper": [2, 3, 4, 1, 6], "lower": [3, 3, 4, 1, 6]},
}


def tables():
    """p1 graded like RuDDS; p2 graded like SPIDER (per-disc Modic, binary endplates, no Jarosz/TEP)."""
    levels = pd.DataFrame({
        "centre": "X", "patient": ["p1"] * 5 + ["p2"] * 5, "level": list(LEVELS) * 2,
        "pfirrmann": pd.array(P1["pfirrmann"] + [1, 2, 3, 3, 2], dtype="Int64"),
        "jarosz_height": pd.array(P1["jarosz_height"] + [NA] * 5, dtype="Int64"),
        "osteophytes": pd.array(P1["osteophytes"] + [NA] * 5, dtype="Int64"),
        "modic_disc": pd.array([NA] * 5 + [0, 0, 0, 2, 0], dtype="Int64"),
        "disc_narrowing": pd.array([NA] * 5 + [False] * 5, dtype="boolean"),
    })
    rows = []
    for endplate in ("upper", "lower"):
        for i, level in enumerate(LEVELS):
            rows.append(("p1", level, endplate, P1["modic"][endplate][i], P1["tep"][endplate][i], NA))
            rows.append(("p2", level, endplate, NA, NA, level == "L4-L5" and endplate == "lower"))
    endplates = pd.DataFrame(rows, columns=["patient", "level", "endplate", "modic", "tep", "endplate_change"])
    endplates = endplates.astype({"modic": "Int64", "tep": "Int64", "endplate_change": "boolean"})
    return levels, endplates.assign(centre="X")


def patient_scores(levels, endplates):
    """The per-patient scores as the tables stage computes them, from the gradings_long rows."""
    return derived.patient_scores(gradings_long({"levels": levels, "endplates": endplates}, RUDDS), RUDDS)


def test_level_scores():
    scores = derived.level_scores(*tables(), RUDDS).set_index(["patient", "level"])
    p1 = scores.loc["p1"]
    assert p1["tep_score"].tolist() == [5, 6, 8, 2, 12]
    assert p1["tep_ge6"].tolist() == [False, True, True, False, True]
    assert p1["jarosz"].tolist() == [1, 1, 4, 6, 0]
    assert p1["pfirrmann_ge4"].tolist() == [False, False, True, True, False]
    assert p1["modic_any"].tolist() == [False, True, True, True, False]
    assert p1["modic_type2"].tolist() == [False, False, True, False, False]
    assert p1["endplate_defect"].tolist() == [False, True, True, False, True]
    p2 = scores.loc["p2"]
    assert p2["tep_score"].isna().all() and p2["jarosz"].isna().all()
    assert p2["modic_any"].tolist() == [False, False, False, True, False]
    assert p2["endplate_defect"].tolist() == [False, False, False, True, False]
    assert p2["height_reduction"].tolist() == [False] * 5
    assert p2["osteophytes_present"].isna().all()


def test_patient_scores():
    scores = patient_scores(*tables()).set_index("patient")
    assert scores.loc["p1"].drop("centre").to_dict() == {
        "pfirrmann_sum": 15, "tep_total": 33, "jarosz_score": 12, "pfirrmann_ge4_n": 2, "modic_any_n": 3,
        "endplate_defect_n": 3, "height_reduction_n": 3, "osteophytes_n": 3, "modic_type1_n": 1,
        "modic_type2_n": 1, "modic_type3_n": 1, "n_findings": 5,
    }
    p2 = scores.loc["p2"]
    assert p2["pfirrmann_sum"] == 11 and p2["modic_any_n"] == 1 and p2["modic_type2_n"] == 1
    assert p2[["tep_total", "jarosz_score", "osteophytes_n"]].isna().all()
    assert p2["n_findings"] == 2  # Modic + endplate change; osteophytes not graded, the rest absent


def test_patient_sum_needs_all_levels():
    levels, endplates = tables()
    levels.loc[0, "pfirrmann"] = NA
    scores = patient_scores(levels, endplates).set_index("patient")
    assert pd.isna(scores.loc["p1", "pfirrmann_sum"]) and scores.loc["p1", "tep_total"] == 33


def one(op: dict, *columns: str) -> study.Derived:
    """A derived variable of the RuDDS study's patient variables, as the study file would declare it."""
    data = {"name": "t", "title": "t", "scales": {"s": {"label": "s", "codes": [1, 2]}},
            "variables": {c: {"per": "patient", "kind": "count", "label": c, "range": [0, 10]} for c in columns},
            "derived": {"x": {"label": "x"} | op}}
    found, problems = study.derived(data)
    assert not problems
    return found["x"]


def frame(**columns):
    return pd.DataFrame({k: pd.array(v, dtype="Int64") for k, v in columns.items()})


@pytest.mark.parametrize("before, after, threshold, expected", [
    (5, 4, 1.2, False), (5, 3, 1.2, True), (5, 2, 3.0, True), (5, 4, 1.0, True), (2, 3, 1.2, False),
    (5, NA, 1.2, NA), (NA, 3, 1.2, NA),
])
def test_threshold_of_a_difference_is_rudds_mcid(before, after, threshold, expected):
    data = frame(b=[before], a=[after])
    data["d"] = derived.compute(one({"op": "difference", "of": ["b", "a"]}, "b", "a"), {"patient": data})
    got = derived.compute(one({"op": "threshold", "of": "d", "at_least": threshold}, "d"), {"patient": data})
    assert got.dtype == "boolean"
    assert (got.iloc[0] is NA) if expected is NA else bool(got.iloc[0]) is expected


def test_rudds_mcid_is_the_back_pain_improvement_of_at_least_1_2():
    out = derived.patient_derived(frame(nprs_back_before=[5, 5, 5, 4], nprs_back_after=[4, 3, NA, 2]).assign(
        age=[30.0, 40.0, 50.0, 60.0]), RUDDS)
    assert out["nprs_back_change"].tolist() == [1, 2, NA, 2]
    assert out["mcid"].tolist() == [False, True, NA, True]


def test_percent_change_and_at_most():
    """Success as a 50% reduction (the thesis's TEI outcome): 100 x (later - baseline) / baseline <= -50."""
    data = frame(b=[8, 8, 0, NA, 6], a=[4, 5, 2, 3, 0])
    data["pc"] = derived.compute(one({"op": "percent_change", "of": ["b", "a"]}, "b", "a"), {"patient": data})
    assert data["pc"].tolist() == [-50.0, -37.5, NA, NA, -100.0]
    got = derived.compute(one({"op": "threshold", "of": "pc", "at_most": -50}, "pc"), {"patient": data})
    assert got.tolist() == [True, False, NA, NA, True]


def test_add_propagates_missing_values():
    data = frame(a=[1, 2, NA], b=[3, NA, 1])
    assert derived.compute(one({"op": "add", "of": ["a", "b"]}, "a", "b"), {"patient": data}).tolist() == [4, NA, NA]


def test_age_decade():
    got = derived.age_bands(RUDDS.bands, pd.Series([18, 19.9, 20, 59.9, 60, 89, 90, 9, None], dtype="float64"))
    assert got.tolist() == ["10-19", "10-19", "20-29", "50-59", "60-69", "80-89", NA, NA, NA]


def test_every_analysis_table_column_is_declared():
    """Every derived patient column of the analysis table is in the study file, with bounds from its sources."""
    found = {d.name: d.bounds for d in RUDDS.derived_per("patient")}
    assert found["tep_total"] == (10, 60) and found["jarosz_score"] == (0, 30) and found["n_findings"] == (0, 5)
