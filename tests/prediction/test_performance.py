"""Performance measures against exact identities, scipy / scikit-learn / statsmodels, and simulated data with a
known miscalibration."""

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import special, stats
from sklearn.metrics import brier_score_loss, roc_auc_score

from spinestudy.prediction import performance


def simulate(n, seed=0):
    """True log-odds q of a logistic model with three predictors, and outcomes drawn from it."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3))
    q = -1.0 + x @ np.array([1.0, -0.6, 0.4])
    return x, q, (rng.random(n) < special.expit(q)).astype(float)


def test_maximum_likelihood_logistic_model_has_slope_one_and_citl_zero():
    x, _, y = simulate(2000)
    fit = sm.Logit(y, sm.add_constant(x)).fit(disp=0, tol=1e-12)
    out = performance.binary(y, fit.fittedvalues)
    assert out["slope"] == pytest.approx(1, abs=1e-6)
    assert out["citl"] == pytest.approx(0, abs=1e-6)
    # Nagelkerke from statsmodels' own log-likelihoods; Brier from scikit-learn
    n = len(y)
    expected = (1 - np.exp(2 * (fit.llnull - fit.llf) / n)) / (1 - np.exp(2 * fit.llnull / n))
    assert out["r2_nagelkerke"] == pytest.approx(expected, rel=1e-9)
    p = fit.predict()
    assert out["brier"] == pytest.approx(brier_score_loss(y, p), rel=1e-12)
    assert out["brier_scaled"] == pytest.approx(1 - brier_score_loss(y, p) / brier_score_loss(y, np.full(n, y.mean())))


@pytest.mark.parametrize("b0", [0.6, 1.5])
def test_predictions_with_scaled_log_odds_give_that_slope(b0):
    _, q, y = simulate(30_000, seed=1)
    assert performance.binary(y, q / b0)["slope"] == pytest.approx(b0, rel=0.05)


@pytest.mark.parametrize("c0", [-0.5, 0.7])
def test_shifted_log_odds_give_that_calibration_in_the_large(c0):
    _, q, y = simulate(30_000, seed=2)
    out = performance.binary(y, q - c0)
    assert out["citl"] == pytest.approx(c0, abs=0.04)
    assert out["slope"] == pytest.approx(1, abs=0.05)


def test_ici_and_emax_recover_the_true_calibration_error():
    _, q, y = simulate(20_000, seed=3)
    shifted = performance.binary(y, q - 0.7)
    p = special.expit(q - 0.7)
    true_error = np.abs(special.expit(q) - p)  # the observed risk at prediction p is expit(logit(p) + 0.7)
    assert shifted["ici"] == pytest.approx(true_error.mean(), abs=0.01)
    assert shifted["e50"] == pytest.approx(np.median(true_error), abs=0.015)
    assert shifted["emax"] == pytest.approx(true_error.max(), abs=0.04)
    assert performance.binary(y, q)["ici"] < 0.01  # calibrated predictions


def test_c_statistic_equals_mann_whitney_u_with_ties():
    _, q, y = simulate(1500, seed=4)
    p = np.round(special.expit(q), 1)  # heavy ties
    u = stats.mannwhitneyu(p[y == 1], p[y == 0]).statistic
    assert performance.c_statistic(y, p) == pytest.approx(u / ((y == 1).sum() * (y == 0).sum()), rel=1e-12)
    assert performance.c_statistic(y, p) == pytest.approx(roc_auc_score(y, p), rel=1e-12)


def test_c_statistic_interval_matches_the_bootstrap_spread():
    _, q, y = simulate(600, seed=5)
    p = special.expit(q)
    auc, low, high = performance.c_statistic_ci(y, p)
    rng = np.random.default_rng(0)
    draws = [roc_auc_score(y[i], p[i]) for i in (rng.integers(0, len(y), len(y)) for _ in range(250))]
    assert performance.delong(y, p)[1] == pytest.approx(np.std(draws), rel=0.15)
    assert low < auc < high
    assert high - low == pytest.approx(2 * 1.96 * np.std(draws), rel=0.2)


def test_binary_measures_reject_a_single_outcome_class():
    with pytest.raises(ValueError, match="both values"):
        performance.binary(np.zeros(50), np.zeros(50))


def test_count_model_log_observed_over_expected_and_log_scale_slope():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((20_000, 2))
    log_mu = 1.0 + x @ np.array([0.5, -0.3])
    y = rng.poisson(np.exp(log_mu)).astype(float)
    fit = sm.GLM(y, sm.add_constant(x), family=sm.families.Poisson()).fit(tol=1e-12)
    apparent = performance.count(y, np.log(fit.fittedvalues))
    assert apparent["citl"] == pytest.approx(0, abs=1e-8)
    assert apparent["slope"] == pytest.approx(1, abs=1e-6)
    assert apparent["r2_deviance"] == pytest.approx(1 - fit.deviance / fit.null_deviance, rel=1e-9)
    shifted = performance.count(y, log_mu - 0.4)
    assert shifted["citl"] == pytest.approx(np.log(y.sum() / np.exp(log_mu - 0.4).sum()), rel=1e-9)
    assert shifted["citl"] == pytest.approx(0.4, abs=0.02)
    assert performance.count(y, 1.0 + (log_mu - 1.0) / 0.7)["slope"] == pytest.approx(0.7, rel=0.05)


def test_constant_predictions_have_no_slope_and_no_flexible_curve():
    # an intercept-only model (a LASSO that selects nothing): C is 0.5, CITL the log odds ratio to the truth
    y = np.r_[np.ones(30), np.zeros(70)]
    out = performance.binary(y, np.full(100, special.logit(0.5)))
    assert out["c_statistic"] == 0.5
    assert out["citl"] == pytest.approx(special.logit(0.3) - special.logit(0.5))
    assert np.isnan(out["slope"]) and np.isnan(out["ici"]) and np.isnan(out["emax"])
    assert out["brier"] == pytest.approx(0.25)
