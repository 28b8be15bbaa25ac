"""Sample size: pmsampsize 1.1.1's own test cases (tests/testthat/test_bin.R and test_cont.R), and the C-statistic
conversion against a simulated logistic calibration fit (statsmodels)."""

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from spinestudy.prediction import sample_size


@pytest.mark.parametrize(("r2_cs", "parameters", "prevalence", "sizes", "epp"), [
    (0.288, 24, 0.174, [623, 662, 221, 662], [4.52, 4.8, 1.6, 4.8]),  # Test 4.1
    (0.55, 24, 0.174, [255, 532, 221, 532], [1.85, 3.86, 1.6, 3.86]),  # Test 4.2 (Cox-Snell R2)
    (0.288, 36, 0.174, [934, 992, 221, 992], [4.51, 4.79, 1.07, 4.79]),  # Test 4.3
    (0.288, 24, 0.25, [623, 590, 289, 623], [6.49, 6.15, 3.01, 6.49]),  # Test 4.4
])
def test_binary_matches_pmsampsize(r2_cs, parameters, prevalence, sizes, epp):
    out = sample_size.binary(parameters, prevalence, r2_cs=r2_cs)
    assert out["n"].tolist() == sizes
    assert out["epp"].to_numpy() == pytest.approx(epp, abs=0.005)


def test_binary_reports_max_and_nagelkerke_r2_and_accepts_nagelkerke():
    out = sample_size.binary(24, 0.174, r2_cs=0.288)
    # pmsampsize 1.1.1 Test 4.1 output table: Max_Rsq 0.603 (printed to 3 digits), Nag_Rsq 0.477, shrinkage 0.905
    assert out["max_r2_cs"].iloc[0] == pytest.approx(0.603, abs=5e-4)
    assert out["r2_nagelkerke"].iloc[0] == pytest.approx(0.477, abs=5e-4)
    assert out["shrinkage"].iloc[-1] == pytest.approx(0.905, abs=5e-4)
    again = sample_size.binary(24, 0.174, r2_nagelkerke=out["r2_nagelkerke"].iloc[0])
    assert again["n"].tolist() == out["n"].tolist()


def test_binary_rejects_impossible_assumptions():
    with pytest.raises(ValueError, match="maximum for prevalence"):
        sample_size.binary(24, 0.05, r2_cs=0.35)  # maximum 0.328
    with pytest.raises(ValueError, match="exactly one"):
        sample_size.binary(24, 0.174, r2_cs=0.2, c_statistic=0.8)


@pytest.mark.parametrize(("parameters", "r2", "intercept", "sd", "sizes", "spp"), [
    (25, 0.2, 1.9, 0.6, [918, 401, 259, 918, 918], [36.72, 16.04, 10.36, 36.72, 36.72]),  # Test 2.1
    (25, 0.3, 1.9, 0.6, [574, 351, 259, 574, 574], [22.96, 14.04, 10.36, 22.96, 22.96]),  # Test 2.2
    (50, 0.2, 1.9, 0.6, [1924, 801, 284, 1924, 1924], [38.48, 16.02, 5.68, 38.48, 38.48]),  # Test 2.3
    (25, 0.2, 10, 0.6, [918, 401, 259, 918, 918], [36.72, 16.04, 10.36, 36.72, 36.72]),  # Test 2.4
    (25, 0.2, 1.9, 2, [918, 401, 259, 918, 918], [36.72, 16.04, 10.36, 36.72, 36.72]),  # Test 2.5
    (100, 0.5, 1.9, 2, [1264, 1001, 334, 1264, 1264], [12.64, 10.01, 3.34, 12.64, 12.64]),  # Test 2.6
])
def test_continuous_matches_pmsampsize(parameters, r2, intercept, sd, sizes, spp):
    out = sample_size.continuous(parameters, r2, intercept, sd)
    assert out["n"].tolist() == sizes
    assert out["spp"].to_numpy() == pytest.approx(spp, abs=0.005)


def test_continuous_with_low_shrinkage_target_matches_pmsampsize():
    out = sample_size.continuous(30, 0.89, 3.3, 1.1, shrinkage=0.84)  # Test 2.7
    assert out["n"].tolist() == [32, 67, 264, 264, 264]
    assert out["spp"].to_numpy() == pytest.approx([1.07, 2.23, 8.8, 8.8, 8.8], abs=0.005)
    assert out["shrinkage"].to_numpy() == pytest.approx([0.845, 0.851, 0.954, 0.954, 0.954], abs=5e-4)


def test_intercept_criterion_binds_when_the_mean_is_near_zero():
    # MMOE 1.1 on a mean of 0.05 with residual SD 0.6 * sqrt(0.8): n = (1.96 * 0.537 / 0.005)^2 ~ 44,000
    out = sample_size.continuous(25, 0.2, 0.05, 0.6)
    n4 = out["n"].iloc[3]
    se = np.sqrt(0.36 * 0.8 / np.array([n4 - 1, n4]))
    upper = 0.05 + stats.t.ppf(0.975, np.array([n4 - 1, n4]) - 26) * se
    assert upper[0] / 0.05 > 1.1 >= upper[1] / 0.05
    assert out["n"].iloc[-1] == n4


def test_r2_from_c_statistic_matches_a_simulated_calibration_fit():
    # pmsampsize's own approach: binormal linear predictor, logistic fit, R2_CS = 1 - exp(-LR / n)
    c_statistic, prevalence = 0.81, 0.23
    rng, n = np.random.default_rng(5), 100_000
    y = (rng.random(n) < prevalence).astype(float)
    lp = rng.standard_normal(n) + y * np.sqrt(2) * stats.norm.ppf(c_statistic)
    fit = sm.Logit(y, sm.add_constant(lp)).fit(disp=0)
    simulated = 1 - np.exp(-2 * (fit.llf - fit.llnull) / n)
    assert sample_size.r2_cs_from_c(c_statistic, prevalence) == pytest.approx(simulated, abs=5e-3)
