"""Modic lesion shape tables (paper Tables 1-2): planted shapes recovered, statistics against independent values."""

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
import scikit_posthocs as sp
from scipy import stats

from radiomics_cohort import PAPER_COUNTS, shape_cohort
from spinestudy.anatomy import LEVELS
from spinestudy.demo import phantom as demo_phantom
from spinestudy.radiomics_stats import shape as modic_shape

SETTINGS = {"shape": {"p_adjust": "bonferroni"}}


@pytest.fixture(scope="module")
def cohort():
    features, gradings = shape_cohort()
    rows, notes = modic_shape.lesions(features, gradings)
    return rows, modic_shape.shape_table(rows, SETTINGS)


def test_lesions_take_the_modic_type_of_their_endplate():
    features = pd.DataFrame({"centre": "A", "patient": "p1", "label": ["25", "34", "14"],
                             "structure": ["L5 inferior endplate Modic lesion", "L5 superior endplate Modic lesion",
                                           "L4-L5 disc"], "T2_original_shape_Sphericity": [0.5, 0.6, 0.7]})
    gradings = pd.DataFrame({"patient": "p1", "level": LEVELS, "modic_upper": [0, 0, 0, 0, 3],
                             "modic_lower": [0, 0, 0, 2, 0]})  # L5 inferior = upper EP of L5-S1
    rows, notes = modic_shape.lesions(features, gradings)
    assert dict(zip(rows["structure"], rows["modic"])) == {"L5 inferior endplate Modic lesion": 3,
                                                           "L5 superior endplate Modic lesion": 2}
    gradings.loc[4, "modic_upper"] = 0
    rows, notes = modic_shape.lesions(features, gradings)
    assert len(rows) == 1 and "1 lesion ROI(s) left out" in notes[0]


def test_planted_shape_differences_are_found_at_the_papers_cohort_size(cohort):
    rows, table = cohort
    assert rows["modic"].value_counts().sort_index().tolist() == list(PAPER_COUNTS)
    for feature, order in demo_phantom.PLANTED_SHAPE_EFFECTS["expected_order"].items():
        row = table.set_index("feature").loc[feature.removeprefix("original_shape_")]
        assert row["kw_p"] < 0.05 and row["significant"]
        medians = rows.groupby("modic")[f"T2_{feature}"].median()
        assert medians.sort_values(ascending=False).index.tolist() == order
    for feature in demo_phantom.PLANTED_SHAPE_EFFECTS["type_ii_highest"]:
        assert table.set_index("feature").loc[feature.removeprefix("original_shape_"), "significant"]
        assert rows.groupby("modic")[f"T2_{feature}"].median().idxmax() == 2
    dunn = modic_shape.dunn_table(rows, table, SETTINGS)
    planted = dunn[dunn["feature"].isin(["Sphericity", "Flatness"])]
    assert set(planted["feature"]) == {"Sphericity", "Flatness"}
    # type II (thick ellipsoids) differs from both others; mixed type I lesions may overlap type III
    with_type_ii = planted[(planted["group1"] == "II") | (planted["group2"] == "II")]
    assert len(with_type_ii) == 4 and with_type_ii["significant"].all()


def test_kruskal_wallis_and_table_cells_match_pingouin_and_pandas(cohort):
    rows, table = cohort
    for row in table.itertuples():
        expected = pg.kruskal(rows, dv=row.column, between="modic")
        assert row.kw_p == pytest.approx(expected["p_unc"].iloc[0], rel=1e-9)
        assert row.kw_h == pytest.approx(expected["H"].iloc[0], rel=1e-9)
        values = rows.loc[rows["modic"] == 2, row.column]
        assert (row.n_II, row.mean_II, row.sd_II) == (len(values), pytest.approx(values.mean()), pytest.approx(values.std()))
        assert row.normal_II == (stats.shapiro(values).pvalue >= 0.05)
        assert row.cell_II == f"{values.mean():.3f} ({values.std():.3f}){'*' if row.normal_II else ''}"


def test_dunn_library_reproduces_a_published_example():
    # pereirabarataap/dunn README (Dunn 1964 z-test, no adjustment): five groups, p-values to 5 decimals
    groups = [[0.28551035, 0.338524035, 0.088631321, 0.205930807, 0.363240102],
              [0.52173913, 0.763358779, 0.325436786, 0.425305688, 0.378071834],
              [0.98911968, 1.192718142, 0.788288288, 0.549176236, 0.544588155],
              [1.26705653, 1.625320787, 1.266108976, 1.154187629, 1.268489431],
              [1.25697569, 1.265897356, 1.237814561, 0.954612564, 2.365415457]]
    published = {(1, 2): 0.32304, (1, 3): 0.03526, (1, 4): 0.00013, (1, 5): 0.00069, (2, 3): 0.26393,
                 (2, 4): 0.00457, (2, 5): 0.01612, (3, 4): 0.08567, (3, 5): 0.19740, (4, 5): 0.66744}
    p = sp.posthoc_dunn(groups)
    for (a, b), value in published.items():
        assert p.loc[a, b] == pytest.approx(value, abs=6e-6)


def test_dunn_table_matches_the_dunn_formula_with_bonferroni():
    rng = np.random.default_rng(3)
    modic = np.repeat([1, 2, 3], [12, 15, 9])
    rows = pd.DataFrame({"modic": modic, "T2_original_shape_Sphericity": rng.normal(modic, 0.5)})
    table = modic_shape.shape_table(rows, SETTINGS)
    dunn = modic_shape.dunn_table(rows, table, SETTINGS)
    ranks, n = stats.rankdata(rows["T2_original_shape_Sphericity"]), len(rows)
    for row in dunn.itertuples():
        a, b = (modic == {"I": 1, "II": 2, "III": 3}[g] for g in (row.group1, row.group2))
        z = (ranks[a].mean() - ranks[b].mean()) / np.sqrt(n * (n + 1) / 12 * (1 / a.sum() + 1 / b.sum()))
        assert row.p == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)
        assert row.p_adjusted == pytest.approx(min(1.0, 3 * row.p), rel=1e-9)
    assert len(dunn) == 3


def test_small_groups_constant_features_and_no_lesions_give_notes_not_crashes():
    modic = np.repeat([1, 2, 3], [6, 7, 1])
    rows = pd.DataFrame({"modic": modic, "T2_original_shape_Sphericity": np.r_[np.full(6, 0.4), np.linspace(0.6, 0.9, 7), 0.5],
                         "T2_original_shape_Flatness": 0.5})
    table = modic_shape.shape_table(rows, SETTINGS).set_index("feature")
    assert "type III: 1 lesion(s) (< 2), left out of the tests" in table.loc["Sphericity", "note"]
    assert "constant within type I" in table.loc["Sphericity", "note"]
    assert np.isfinite(table.loc["Sphericity", "kw_p"]) and pd.isna(table.loc["Sphericity", "normal_I"])
    assert np.isnan(table.loc["Flatness", "kw_p"]) and "constant across lesions" in table.loc["Flatness", "note"]
    empty = modic_shape.shape_table(rows.iloc[:0], SETTINGS)
    assert empty["kw_p"].isna().all() and (empty["note"] == "no Modic lesion with a graded type").all()
    assert modic_shape.dunn_table(rows.iloc[:0], empty, SETTINGS).empty
