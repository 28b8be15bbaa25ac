"""Heterogeneity of a model's performance across centres (Riley et al. 2016 BMJ 353:i3140): per centre the
C statistic (DeLong interval), calibration-in-the-large (logistic GLM, the linear predictor as offset) and the
calibration slope (the linear predictor as sole covariate), each with its Wald interval, for the model developed
on all centres (apparent, not internal-external validation). A centre with fewer than min_events patients with
or without the outcome gets a row with its counts and a note instead."""

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import special
from statsmodels.tools import sm_exceptions

from spinestudy.prediction import performance

COLUMNS = ["centre", "n", "events", "c_statistic", "c_ci_low", "c_ci_high", "citl", "citl_ci_low", "citl_ci_high",
           "slope", "slope_ci_low", "slope_ci_high", "note"]
WARNINGS = (sm_exceptions.PerfectSeparationWarning, sm_exceptions.ConvergenceWarning)  # raised: no estimate


def table(centre: np.ndarray, y: np.ndarray, lp: np.ndarray, min_events: int, confidence: float = 0.95
          ) -> pd.DataFrame:
    """One row per centre (sorted) and one for all centres ('all')."""
    centre, y, lp = np.asarray(centre, dtype=str), np.asarray(y, dtype=float), np.asarray(lp, dtype=float)
    rows = [one(name, y[centre == name], lp[centre == name], min_events, confidence) for name in np.unique(centre)]
    rows.append(one("all", y, lp, min_events, confidence))
    return pd.DataFrame(rows).reindex(columns=COLUMNS)


def one(name: str, y: np.ndarray, lp: np.ndarray, min_events: int, confidence: float) -> dict:
    """The measures of one centre, or its counts with the reason they are not estimable."""
    events = int(y.sum())
    row = {"centre": name, "n": len(y), "events": events, "note": ""}
    if min(events, len(y) - events) < min_events:
        return row | {"note": f"not estimable: {events} with and {len(y) - events} without the outcome "
                              f"(< {min_events})"}
    c, c_low, c_high = performance.c_statistic_ci(y, special.expit(lp), confidence)
    row |= {"c_statistic": c, "c_ci_low": c_low, "c_ci_high": c_high}
    alpha = 1 - confidence
    try:
        with warnings.catch_warnings():
            for category in WARNINGS:
                warnings.simplefilter("error", category)
            citl = sm.GLM(y, np.ones((len(y), 1)), family=sm.families.Binomial(), offset=lp).fit()
            row |= dict(zip(("citl", "citl_ci_low", "citl_ci_high"), [citl.params[0], *citl.conf_int(alpha)[0]]))
            if np.ptp(lp) == 0:
                return row | {"note": "no calibration slope: one linear predictor for every patient"}
            slope = sm.GLM(y, sm.add_constant(lp, has_constant="add"), family=sm.families.Binomial()).fit()
            row |= dict(zip(("slope", "slope_ci_low", "slope_ci_high"), [slope.params[1], *slope.conf_int(alpha)[1]]))
    except (*WARNINGS, np.linalg.LinAlgError) as error:
        row["note"] = f"calibration not estimable: {type(error).__name__}: {error}"
    return row
