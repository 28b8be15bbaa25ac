"""Kasch-style associations: OLS against numpy least squares, strata and edge cases."""

import numpy as np
import pytest
import statsmodels.formula.api as smf
import yaml

from spinestudy import study
from spinestudy.stats import associations
from stats_cohort import cohort

RUDDS = study.load("rudds")


def test_ols_beta_matches_numpy_lstsq():
    analysis, _, _ = cohort(500, seed=1)
    out = associations.table(analysis, {}, RUDDS)
    row = out[(out["analysis"] == "cross-sectional") & (out["term"] == "modic_any")].iloc[0]
    data = associations.exposures(analysis, RUDDS)[["nprs_back_before", "modic_any", "age", "female"]].dropna()
    x = np.column_stack([np.ones(len(data)), data[["modic_any", "age", "female"]]])
    beta, *_ = np.linalg.lstsq(x, data["nprs_back_before"], rcond=None)
    assert row["beta"] == pytest.approx(beta[1], rel=1e-9) and row["n"] == len(data)
    assert row["ci_low"] < row["beta"] < row["ci_high"]


def test_longitudinal_strata_and_notes():
    analysis, _, _ = cohort(500, seed=2)
    out = associations.table(analysis, {"associations": {"baseline_pain": 1}}, RUDDS)
    assert set(out["analysis"]) == {"cross-sectional", "longitudinal, baseline pain", "longitudinal, no baseline pain"}
    assert len(out) == 3 * (5 + 5)
    no_pain = out[out["analysis"] == "longitudinal, no baseline pain"]
    assert no_pain["note"].str.contains("not estimable|constant covariate dropped").all()
    assert (out["beta"].isna() == out["note"].str.startswith("not estimable")).all()


def test_the_study_files_measure_and_adjustment_match_statsmodels_formulas(tmp_path):
    """Leg pain instead of back pain, adjusted for age and BMI: the longitudinal row equals the formula fit."""
    data = yaml.safe_load(RUDDS.path.read_text())
    data["analyses"]["associations"] = {"measure": "nprs_leg", "adjust": ["age", "bmi"], "findings": "n_findings"}
    (tmp_path / "leg.yaml").write_text(yaml.safe_dump(data))
    analysis, _, _ = cohort(600, seed=3)
    out = associations.table(analysis, {}, study.load(tmp_path / "leg.yaml"))
    row = out[(out["analysis"] == "longitudinal, baseline pain") & (out["term"] == "modic_any")].iloc[0]
    frame = analysis[["nprs_leg_after", "nprs_leg_before", "age", "bmi"]].astype("Float64").astype(float)
    frame["modic_any"] = (analysis["modic_any_n"].astype("Float64") > 0).astype(float)
    frame = frame[frame["nprs_leg_before"] >= 1].dropna()
    fit = smf.ols("nprs_leg_after ~ modic_any + age + bmi + nprs_leg_before", frame).fit()
    assert row["outcome"] == "nprs_leg_after" and row["n"] == len(frame) == fit.nobs
    assert (row["beta"], row["p"]) == pytest.approx((fit.params["modic_any"], fit.pvalues["modic_any"]), rel=1e-9)
