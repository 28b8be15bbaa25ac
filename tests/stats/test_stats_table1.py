"""Table 1: group tests against second libraries and published values, summaries, edge cases."""

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from spinestudy import study
from spinestudy.stats import table1
from stats_cohort import cohort

RUDDS = study.load("rudds")
SYNDROMES = RUDDS.group.levels

FACET, HERNIATION, STENOSIS, DEFORMITY = SYNDROMES
SETTINGS = {"alpha": 0.003}


def variable(values, groups, kind="continuous"):
    data = pd.DataFrame({"value": np.asarray(values, dtype=float), "group": groups})
    return table1.Variable("x", "X", kind, "patients", data, SYNDROMES)


def test_kruskal_wallis_matches_pingouin_with_ties():
    rng = np.random.default_rng(0)
    groups = np.repeat(SYNDROMES, [30, 25, 20, 15])
    values = rng.integers(0, 6, size=90) + 2.0 * (groups == STENOSIS)  # many ties, right-skewed groups
    var = variable(values, groups, "binary")  # binary/graded kinds use binary_test (default kruskal)
    result = table1.test(var, table1.settings_with_defaults({}))
    expected = pg.kruskal(var.data, dv="value", between="group")["p_unc"].iloc[0]
    assert result.test == "K" and result.p == pytest.approx(expected, rel=1e-10)


def test_anova_on_transformed_variable_matches_statsmodels_anova_lm():
    rng = np.random.default_rng(1)
    groups = np.repeat(SYNDROMES, 40)
    values = np.exp(rng.normal(3 + 0.3 * (groups == STENOSIS), 0.25))  # log-normal: normal after transform
    var = variable(values, groups)
    result = table1.test(var, table1.settings_with_defaults({}))
    assert result.test == "A" and "Yeo-Johnson" in result.detail and "Shapiro-Wilk" in result.detail
    frame = pd.DataFrame({"y": result.transformed, "g": groups})
    expected = sm.stats.anova_lm(smf.ols("y ~ C(g)", frame).fit())["PR(>F)"].iloc[0]
    assert result.p == pytest.approx(expected, rel=1e-9)
    assert result.p == pytest.approx(pg.anova(frame, dv="y", between="g")["p_unc"].iloc[0], rel=1e-9)


def test_unequal_variances_fall_back_to_kruskal_wallis():
    rng = np.random.default_rng(2)
    groups = np.repeat(SYNDROMES, 50)
    values = rng.normal(10, np.take([0.5, 1, 4, 8], np.repeat(range(4), 50)))
    result = table1.test(variable(values, groups), table1.settings_with_defaults({}))
    assert result.test == "K" and "Levene p=" in result.detail


def test_fisher_exact_matches_fishers_tea_tasting_table():
    # Fisher (1935), lady tasting tea: [[3, 1], [1, 3]], two-sided p = 0.4857 (R fisher.test)
    values = [1, 1, 1, 0, 1, 0, 0, 0]
    groups = [FACET] * 4 + [HERNIATION] * 4
    result = table1.test(variable(values, groups, "binary"), table1.settings_with_defaults({"binary_test": "fisher"}))
    assert result.test == "Fisher" and result.p == pytest.approx(0.4857, abs=1e-4)
    assert "no data in group(s)" in result.note


def test_chi_squared_matches_pingouin():
    rng = np.random.default_rng(3)
    groups = np.repeat(SYNDROMES, 60)
    values = (rng.random(240) < np.take([0.2, 0.3, 0.5, 0.4], np.repeat(range(4), 60))).astype(float)
    var = variable(values, groups, "binary")
    result = table1.test(var, table1.settings_with_defaults({"binary_test": "chi2"}))
    stats = pg.chi2_independence(var.data, x="group", y="value", correction=False)[2]
    assert result.test == "chi2" and result.p == pytest.approx(stats.loc[0, "pval"], rel=1e-9)


def test_summaries_and_disc_and_endplate_denominators():
    analysis, long, _ = cohort(40, seed=4)
    t = table1.table(analysis, long, SETTINGS, RUDDS)
    assert list(t.columns[4:9]) == [table1.TOTAL, *SYNDROMES] and {"P-value", "Test"} <= set(t.columns)
    age = t.set_index("variable").loc["age"]
    q1, med, q3 = np.quantile(analysis["age"], [0.25, 0.5, 0.75])
    assert age[table1.TOTAL] == f"{table1._num(med)} [{table1._num(q1)}; {table1._num(q3)}]"
    pfirrmann = t[t["variable"] == "pfirrmann"]
    assert pfirrmann[table1.TOTAL].str.endswith("/200)").all()  # 40 patients x 5 discs
    assert t[t["variable"] == "tep"][table1.TOTAL].str.endswith("/400)").all()  # x 10 endplates
    smokers = analysis["smoking"].dropna()
    share = t.set_index("variable").loc["smoking", table1.TOTAL]
    assert share.endswith(f"({int(smokers.sum())}/{len(smokers)})")
    assert pfirrmann["P-value"].notna().sum() == 1 and t["Test"].iloc[0] in ("A", "K")
    assert (t["significant"].dropna() == (t["P-value"].dropna() < 0.003)).all()


def test_edge_cases_are_noted_never_crash():
    analysis, long, _ = cohort(40, seed=5)
    analysis = analysis[analysis["syndrome"] != DEFORMITY].copy()  # an empty group
    one = analysis.index[analysis["syndrome"] == FACET][1:]
    analysis = analysis.drop(index=one)  # a group with one member
    long = long.merge(analysis[["centre", "patient"]])
    analysis["dn4_before"] = pd.array([pd.NA] * len(analysis), dtype="Int64")  # all missing
    analysis["bmi"] = 25.0  # all tied
    t = table1.table(analysis, long, SETTINGS, RUDDS).set_index("variable")
    assert t.loc["dn4_before", "note"].startswith("all values missing")
    assert "fewer than two groups" in t.loc["dn4_before", "note"]
    assert "all values identical" in t.loc["bmi", "note"]
    assert (t[DEFORMITY] == "no data").all()
    tested = t[t["Test"] != ""]  # the first row of each variable carries its test
    assert (tested.loc[tested["P-value"].isna(), "Test"] == "none").all()
    assert (tested.loc[tested["Test"] == "none", "note"] != "").all()
    assert "fewer than 2 values" in t.loc["age", "test_detail"] or t.loc["age", "Test"] == "K"


def test_write_is_deterministic(tmp_path):
    analysis, long, _ = cohort(80, seed=6)
    analysis.to_parquet(tmp_path / "a.parquet")
    long.to_parquet(tmp_path / "g.parquet")
    settings = {"binary_test": "fisher"}  # includes Monte Carlo r x c tables
    for name in ("t1.csv", "t2.csv"):
        table1.write(tmp_path / "a.parquet", tmp_path / "g.parquet", RUDDS.path, settings, tmp_path / name)
    assert (tmp_path / "t1.csv").read_bytes() == (tmp_path / "t2.csv").read_bytes()
