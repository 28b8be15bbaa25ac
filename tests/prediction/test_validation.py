"""Bootstrap internal validation: pure noise is found out, a strong true model keeps its performance, failed
replicates are counted, the layout follows rms::validate, and the result is seeded."""

import numpy as np
import pytest
from scipy import special

from spinestudy.prediction import validation

FAST = {"bootstraps": 30, "seed": 3, "folds": 4, "n_penalties": 8}


def noise(n=150, p=15, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, p)), (rng.random(n) < 0.4).astype(float)


def strong(n=800, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4))
    return x, (rng.random(n) < special.expit(-0.5 + 1.5 * x[:, 0] - x[:, 1])).astype(float)


def row(result, measure):
    return result.table.set_index("measure").loc[measure]


def test_pure_noise_regression_is_corrected_to_no_discrimination_and_a_low_slope():
    x, y = noise()
    result = validation.validate(x, y, FAST)
    c, slope = row(result, "c_statistic"), row(result, "slope")
    assert c["index.orig"] > 0.65  # apparent discrimination from overfitting alone
    assert c["index.corrected"] == pytest.approx(0.5, abs=0.06)
    assert slope["index.orig"] == pytest.approx(1, abs=1e-6)
    assert slope["index.corrected"] < 0.6
    assert row(result, "brier")["optimism"] < 0  # the training error is the smaller


def test_strong_true_model_keeps_its_performance_with_the_lasso():
    x, y = strong()
    result = validation.validate(x, y, FAST | {"method": "lasso", "bootstraps": 12})
    c, slope = row(result, "c_statistic"), row(result, "slope")
    assert c["index.orig"] > 0.8
    assert 0 <= c["optimism"] < 0.01
    assert slope["index.corrected"] == pytest.approx(1, abs=0.06)
    assert result.selected[:2].tolist() == [1.0, 1.0]  # the true predictors in every replicate
    assert result.failures.empty and (result.table["n"] == 12).all()


def test_layout_follows_rms_and_corrected_is_original_minus_mean_optimism():
    x, y = strong(300)
    result = validation.validate(x, y, FAST | {"bootstraps": 5, "method": "elastic_net"})
    assert result.table.columns.tolist() == ["measure", "index.orig", "training", "test", "optimism",
                                             "index.corrected", "n"]
    reps = result.replicates.set_index(["sample", "replicate"])
    c = row(result, "c_statistic")
    gap = (reps.loc["training", "c_statistic"] - reps.loc["test", "c_statistic"]).mean()
    assert c["optimism"] == pytest.approx(gap)
    assert c["index.corrected"] == pytest.approx(c["index.orig"] - gap)
    assert np.isfinite(result.model.penalty)


def test_failed_replicates_are_counted_with_their_reason_and_left_out():
    x, y = strong(200, seed=4)
    rare = np.zeros(len(y))
    rare[np.flatnonzero(y == 1)[0]] = rare[np.flatnonzero(y == 0)[0]] = 1  # one patient with, one without
    # a bootstrap sample holding only one of the two separates the outcome on `rare`: no ML estimate
    result = validation.validate(np.column_stack([x, rare]), y, FAST | {"bootstraps": 20})
    assert 0 < len(result.failures) < 20
    # separation shows as a non-converging likelihood, or a singular one where `rare` is constant
    assert result.failures["reason"].str.contains("ConvergenceWarning|Singular matrix").all()
    assert (result.table["n"] == 20 - len(result.failures)).all()
    assert set(result.replicates["replicate"]).isdisjoint(result.failures["replicate"])


def test_seeded_validation_is_reproducible():
    x, y = strong(300, seed=2)
    settings = FAST | {"bootstraps": 3, "method": "lasso"}
    first, again = validation.validate(x, y, settings), validation.validate(x, y, settings)
    assert first.table.equals(again.table)
    other = validation.validate(x, y, settings | {"seed": 4})
    assert not first.table.equals(other.table)
