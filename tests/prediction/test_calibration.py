"""Calibration curve with its band and optimism correction: simulated data with a known miscalibration (the
closed-form curve expit(b0 logit p)), a perfectly calibrated large sample on the diagonal and inside its band,
an overfitted model's corrected curve flattened as its corrected slope says, and the risk histogram against
numpy's."""

import numpy as np
import pytest
from scipy import special

from spinestudy.prediction import calibration, validation

FAST = {"bootstraps": 20, "seed": 5}


def simulate(n, seed=0, p=3):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, p))
    q = -0.8 + x[:, :3] @ np.array([1.0, -0.7, 0.5])[:min(p, 3)]
    return x, q, (rng.random(n) < special.expit(q)).astype(float)


def no_curves(grid):
    return {k: np.empty((0, len(grid))) for k in ("training", "test", "resampled")}


@pytest.mark.parametrize("b0", [0.6, 1.6])
def test_scaled_log_odds_give_the_closed_form_curve_of_slope_b0(b0):
    """True risk expit(q), predicted expit(q / b0): the observed risk at predicted p is expit(b0 logit(p))."""
    _, q, y = simulate(40_000, seed=1)
    risk = special.expit(q / b0)
    grid = np.quantile(risk, np.linspace(0.1, 0.95, 18))  # span 0.75 smooths the sparse lowest decile away
    out = calibration.table(grid, no_curves(grid), y, risk)
    assert out["apparent"].to_numpy() == pytest.approx(special.expit(b0 * special.logit(grid)), abs=0.03)  # lowess bias
    slope = np.polyfit(special.logit(grid), special.logit(out["apparent"]), 1)[0]
    assert slope == pytest.approx(b0, rel=0.1)
    assert out["optimism"].isna().all() and (out["note"] == "no bootstrap curve here").all()


@pytest.fixture(scope="module")
def calibrated():
    x, _, y = simulate(10_000, seed=2)
    result = validation.validate(x, y, FAST)
    risk = special.expit(result.model.linear_predictor(x))
    return result, y, calibration.table(result.grid, result.curves, y, risk)


def test_a_calibrated_large_sample_lies_on_the_diagonal_inside_its_band(calibrated):
    result, y, out = calibrated
    dense = out[(out["with_outcome"] + out["without_outcome"]) >= 50]  # grid points with data around them
    assert len(dense) >= 30
    assert (dense["apparent"] - dense["predicted"]).abs().max() < 0.03
    covered = (out["ci_low"] <= out["predicted"]) & (out["predicted"] <= out["ci_high"])
    assert covered.mean() >= 0.8
    assert ((out["ci_low"] <= out["apparent"]) & (out["apparent"] <= out["ci_high"])).all()
    assert (out["corrected"] - out["apparent"]).abs().max() < 0.02  # 3 predictors, 10,000 patients: no optimism
    assert (out["replicates"] == FAST["bootstraps"]).all()
    assert out["with_outcome"].sum() == y.sum() and out["without_outcome"].sum() == len(y) - y.sum()


def test_corrected_curve_is_apparent_minus_mean_optimism_as_rms_calibrate(calibrated):
    result, _, out = calibrated
    c = result.curves
    assert c["training"].shape == c["test"].shape == (FAST["bootstraps"], len(result.grid))
    optimism = (c["training"] - c["test"]).mean(axis=0)
    assert out["optimism"].to_numpy() == pytest.approx(optimism)
    assert out["corrected"].to_numpy() == pytest.approx(np.clip(out["apparent"] - optimism, 0, 1))
    low, high = np.percentile(c["resampled"], [2.5, 97.5], axis=0)
    assert out["ci_low"].to_numpy() == pytest.approx(low) and out["ci_high"].to_numpy() == pytest.approx(high)


def test_an_overfitted_model_gets_a_flatter_corrected_curve():
    """Few patients, many noise predictors: the apparent curve follows the diagonal (maximum likelihood), the
    corrected one is pulled towards the prevalence with about the corrected calibration slope."""
    x, _, y = simulate(250, seed=3, p=12)
    result = validation.validate(x, y, FAST)
    risk = special.expit(result.model.linear_predictor(x))
    out = calibration.table(result.grid, result.curves, y, risk)
    middle = out.iloc[10:40]
    apparent = np.polyfit(special.logit(middle["predicted"]), special.logit(middle["apparent"]), 1)[0]
    corrected = np.polyfit(special.logit(middle["predicted"]), special.logit(middle["corrected"]), 1)[0]
    slope = result.table.set_index("measure").loc["slope", "index.corrected"]
    assert apparent == pytest.approx(1, abs=0.25) and slope < 0.9
    assert corrected == pytest.approx(slope, abs=0.15)


def test_risk_histogram_matches_numpy_with_edges_halfway_between_grid_points():
    rng = np.random.default_rng(4)
    risk, y = rng.beta(2, 5, 3000), (rng.random(3000) < 0.3).astype(float)
    grid = np.linspace(risk.min(), risk.max(), 25)
    edges = np.r_[-np.inf, (grid[1:] + grid[:-1]) / 2, np.inf]
    counts = calibration.histogram(grid, y, risk)
    assert counts["with_outcome"].tolist() == np.histogram(risk[y == 1], edges)[0].tolist()
    assert counts["without_outcome"].tolist() == np.histogram(risk[y == 0], edges)[0].tolist()
