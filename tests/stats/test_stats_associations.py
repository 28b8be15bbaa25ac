"""Kasch-style associations: OLS against numpy least squares, strata and edge cases."""

import numpy as np
import pytest

from spinestudy.stats import associations
from stats_cohort import cohort


def test_ols_beta_matches_numpy_lstsq():
    analysis, _, _ = cohort(500, seed=1)
    out = associations.table(analysis, {})
    row = out[(out["analysis"] == "cross-sectional") & (out["term"] == "modic_any")].iloc[0]
    data = associations.exposures(analysis)[["nprs_back_before", "modic_any", "age", "female"]].dropna()
    x = np.column_stack([np.ones(len(data)), data[["modic_any", "age", "female"]]])
    beta, *_ = np.linalg.lstsq(x, data["nprs_back_before"], rcond=None)
    assert row["beta"] == pytest.approx(beta[1], rel=1e-9) and row["n"] == len(data)
    assert row["ci_low"] < row["beta"] < row["ci_high"]


def test_longitudinal_strata_and_notes():
    analysis, _, _ = cohort(500, seed=2)
    out = associations.table(analysis, {"associations": {"baseline_pain": 1}})
    assert set(out["analysis"]) == set(associations.ANALYSES)
    assert len(out) == 3 * (5 + 5)
    no_pain = out[out["analysis"] == "longitudinal, no baseline pain"]
    assert no_pain["note"].str.contains("not estimable|constant covariate dropped").all()
    assert (out["beta"].isna() == out["note"].str.startswith("not estimable")).all()
