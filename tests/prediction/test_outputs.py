"""One configured model on a demo cohort: complete cases counted, the model as statsmodels fits it, the planted
smoking effect, and the tables' layout."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import yaml

from conftest import REPO
from spinestudy.prediction import outputs
from stats_cohort import cohort


@pytest.fixture(scope="module")
def built():
    analysis, _, truth = cohort(1500, seed=7)
    settings = yaml.safe_load((REPO / "config/config.yaml").read_text())["prediction"]
    settings = settings | {"bootstraps": 10, "model": "rudds_mcid"}
    return analysis, truth, settings, outputs.build(analysis, settings)


def test_complete_cases_are_counted_and_fitted_by_maximum_likelihood(built):
    analysis, _, settings, tables = built
    spec = settings["models"]["rudds_mcid"]
    data = analysis[[spec["outcome"], *spec["predictors"]]].astype(float).dropna()
    reference = sm.Logit(data[spec["outcome"]], sm.add_constant(data[spec["predictors"]])).fit(disp=0)
    coef = tables["coefficients"].set_index("term")["coef"]
    assert coef.to_numpy() == pytest.approx(reference.params.to_numpy(), rel=1e-6)
    size = tables["sample_size"]
    assert (size["n_available"] == len(data)).all() and (size["incomplete"] == len(analysis) - len(data)).all()
    assert (size["events_available"] == data[spec["outcome"]].sum()).all()
    assert size["enough"].tolist() == (size["n"] <= len(data)).tolist()


def test_planted_smoking_effect_raises_the_odds_of_mcid(built):
    _, truth, _, tables = built
    odds = tables["coefficients"].set_index("term").loc["smoking", "odds_ratio"]
    assert 1.0 < odds < 2.0 and truth["smoking_mcid_total"]["odds_ratio"] > 1


def test_performance_and_decision_curve_layout(built):
    _, _, settings, tables = built
    perf = tables["performance"].set_index("measure")
    assert perf.loc["slope", "index.orig"] == pytest.approx(1, abs=1e-6)
    assert (perf["n"] + perf["failed"] == settings["bootstraps"]).all()
    c = perf.loc["c_statistic"]
    assert c["ci_low"] < c["index.orig"] < c["ci_high"]
    curve = tables["decision_curve"]
    assert curve["threshold"].iloc[0] == settings["thresholds"]["low"]
    assert curve["threshold"].iloc[-1] == pytest.approx(settings["thresholds"]["high"])


def test_calibration_and_centre_tables_cover_the_complete_cases(built):
    analysis, _, settings, tables = built
    spec = settings["models"]["rudds_mcid"]
    data = analysis[["centre", spec["outcome"], *spec["predictors"]]].dropna()
    curve = tables["calibration"]
    assert len(curve) == 50 and curve["predicted"].is_monotonic_increasing
    assert curve["with_outcome"].sum() == data[spec["outcome"]].sum()
    assert (curve["replicates"] <= settings["bootstraps"]).all() and (curve["ci_low"] <= curve["ci_high"]).all()
    centres = tables["centres"].set_index("centre")
    assert centres.index.tolist() == [*sorted(data["centre"].unique()), "all"]
    assert centres.loc["all", "n"] == len(data) == centres["n"].drop("all").sum()
    perf = tables["performance"].set_index("measure")["index.orig"]
    assert centres.loc["all", "c_statistic"] == pytest.approx(perf["c_statistic"])
    assert centres.loc["all", "slope"] == pytest.approx(perf["slope"])


def test_a_missing_column_is_named():
    analysis, _, _ = cohort(100, seed=1)
    settings = {"model": "m", "models": {"m": {"outcome": "mcid", "predictors": ["no_such_column"]}}}
    with pytest.raises(ValueError, match="no_such_column"):
        outputs.build(analysis, settings)


def test_too_few_events_give_noted_tables_and_the_sample_size(built):
    analysis, _, settings, _ = built
    tables = outputs.build(analysis.head(40), settings)  # 15 complete cases, 10 events, 5 without
    size = tables["sample_size"]
    assert (size["n"] > size["n_available"]).all() and not size["enough"].any()
    assert tables["performance"]["note"].str.startswith("not estimable: ").all()
    assert tables["performance"]["index.orig"].isna().all() and tables["decision_curve"].empty
    assert tables["calibration"].empty and tables["centres"].empty
    assert tables["coefficients"]["note"].str.contains("complete cases").all()
