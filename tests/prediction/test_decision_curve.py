"""Decision curve: a worked example by hand, the formula against scikit-learn's confusion matrix, and the
threshold range."""

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix

from spinestudy.prediction import decision_curve


def test_worked_example():
    # 100 patients, 20 with the outcome; at t = 0.2 the model treats 30, 15 of them with the outcome.
    # NB = 15/100 - 15/100 * 0.2/0.8 = 0.1125; treat all: 0.2 - 0.8 * 0.25 = 0 (t equals the prevalence);
    # interventions avoided = 100 * (0.1125 - 0) / 0.25 = 45 per 100
    y = np.r_[np.ones(20), np.zeros(80)]
    risk = np.r_[np.full(15, 0.5), np.full(5, 0.1), np.full(15, 0.2), np.full(65, 0.05)]  # 0.2 counts as treated
    row = decision_curve.table(y, risk, np.array([0.2])).iloc[0]
    assert row["net_benefit_model"] == pytest.approx(0.1125)
    assert row["net_benefit_all"] == pytest.approx(0.0, abs=1e-12)
    assert row["avoided_per_100"] == pytest.approx(45)
    assert row["net_benefit_none"] == 0


def test_net_benefit_from_the_confusion_matrix():
    rng = np.random.default_rng(0)
    risk = rng.random(500)
    y = (rng.random(500) < risk).astype(int)
    at = decision_curve.thresholds({"low": 0.05, "high": 0.6, "step": 0.05})
    out = decision_curve.table(y, risk, at)
    for t, nb, nb_all in out[["threshold", "net_benefit_model", "net_benefit_all"]].itertuples(index=False):
        tn, fp, fn, tp = confusion_matrix(y, risk >= t).ravel()
        assert nb == pytest.approx(tp / 500 - fp / 500 * t / (1 - t))
        assert nb_all == pytest.approx((tp + fn) / 500 - (tn + fp) / 500 * t / (1 - t))


def test_thresholds_stay_inside_zero_and_one():
    assert decision_curve.thresholds({}).tolist() == pytest.approx(np.arange(1, 100) / 100)
    with pytest.raises(ValueError, match="0 < low"):
        decision_curve.thresholds({"low": 0.0})
    with pytest.raises(ValueError, match="strictly between"):
        decision_curve.table(np.r_[0, 1], np.r_[0.2, 0.7], np.array([1.0]))
