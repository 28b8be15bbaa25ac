"""Performance per centre against statsmodels' GLM formulae fitted here and scikit-learn's AUC; centres with
too few events get a row that says why."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
import statsmodels.api as sm
from scipy import special
from sklearn.metrics import roc_auc_score

from spinestudy.prediction import centres


@pytest.fixture(scope="module")
def data():
    """Centre B is miscalibrated (intercept +0.7, slope 0.5), centre C has 8 events."""
    rng = np.random.default_rng(6)
    lp = rng.normal(-0.5, 1.2, 1400)
    centre = np.repeat(["A", "B", "C"], [700, 600, 100])
    truth = np.where(centre == "B", 0.7 + 0.5 * lp, lp)
    y = (rng.random(1400) < special.expit(truth)).astype(float)
    y[centre == "C"] = 0
    y[np.flatnonzero(centre == "C")[:8]] = 1
    return pd.DataFrame({"centre": centre, "y": y, "lp": lp})


def test_centre_estimates_equal_glms_fitted_directly(data):
    out = centres.table(data["centre"], data["y"], data["lp"], min_events=10).set_index("centre")
    for name in ("A", "B", "all"):
        part = data if name == "all" else data[data["centre"] == name]
        citl = smf.glm("y ~ 1", part, offset=part["lp"], family=sm.families.Binomial()).fit()
        slope = smf.glm("y ~ lp", part, family=sm.families.Binomial()).fit()
        row = out.loc[name]
        assert row["citl"] == pytest.approx(citl.params["Intercept"], rel=1e-6)
        assert [row["citl_ci_low"], row["citl_ci_high"]] == pytest.approx(citl.conf_int().loc["Intercept"].tolist())
        assert row["slope"] == pytest.approx(slope.params["lp"], rel=1e-6)
        assert [row["slope_ci_low"], row["slope_ci_high"]] == pytest.approx(slope.conf_int().loc["lp"].tolist())
        assert row["c_statistic"] == pytest.approx(roc_auc_score(part["y"], part["lp"]))
        assert row["c_ci_low"] < row["c_statistic"] < row["c_ci_high"]
        assert row["n"] == len(part) and row["events"] == part["y"].sum() and row["note"] == ""
    b = out.loc["B"]  # the planted miscalibration, inside its intervals
    assert b["slope_ci_low"] < 0.5 < b["slope_ci_high"] < 1 and b["citl_ci_low"] > 0


def test_a_centre_with_too_few_events_is_noted_not_estimated(data):
    row = centres.table(data["centre"], data["y"], data["lp"], min_events=10).set_index("centre").loc["C"]
    assert row["n"] == 100 and row["events"] == 8
    assert row["note"] == "not estimable: 8 with and 92 without the outcome (< 10)"
    assert row[["c_statistic", "citl", "slope", "slope_ci_low"]].isna().all()
