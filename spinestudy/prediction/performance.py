"""Performance of predictions on one data set (apparent, bootstrap test or external): discrimination, overall fit,
calibration (Van Calster et al. 2019 BMC Med 17:230; Austin & Steyerberg 2019 Stat Med 38:4051).

Binary outcomes take the linear predictor (log-odds), so that extreme risks stay exact: C statistic, Nagelkerke R2
of the predictions as given (as rms::val.prob, no recalibration), calibration-in-the-large (the intercept of a
logistic model with the linear predictor as offset), calibration slope (its coefficient in a logistic model),
Brier and scaled Brier score, and the ICI, E50, E90 and Emax of a flexible calibration curve. Count outcomes take
the log of the expected count: calibration-in-the-large log(observed / expected), the slope on the log scale, and
the deviance explained.
"""

import numpy as np
import statsmodels.api as sm
from scipy import special, stats
from statsmodels.nonparametric.smoothers_lowess import lowess

BINARY = ("c_statistic", "r2_nagelkerke", "citl", "slope", "brier", "brier_scaled", "ici", "e50", "e90", "emax")
COUNT = ("r2_deviance", "citl", "slope")
SPAN = 0.75  # R's loess default span, used by Austin & Steyerberg 2019


def binary(y: np.ndarray, lp: np.ndarray) -> dict[str, float]:
    """Every BINARY measure of predicted log-odds lp against outcomes y (0/1)."""
    y, lp = np.asarray(y, dtype=float), np.asarray(lp, dtype=float)
    check(y, lp)
    p = special.expit(lp)
    brier = np.mean((y - p) ** 2)
    prevalence = y.mean()
    return {"c_statistic": c_statistic(y, p), "r2_nagelkerke": r2_nagelkerke(y, lp),
            **calibration(y, lp, sm.families.Binomial()), "brier": float(brier),
            "brier_scaled": float(1 - brier / (prevalence * (1 - prevalence))), **calibration_errors(y, p)}


def r2_nagelkerke(y: np.ndarray, lp: np.ndarray) -> float:
    """Cox-Snell R2 of the predictions against the overall rate, divided by its maximum."""
    prevalence, n = y.mean(), len(y)
    null = n * (prevalence * np.log(prevalence) + (1 - prevalence) * np.log(1 - prevalence))
    loglik = np.sum(y * special.log_expit(lp) + (1 - y) * special.log_expit(-lp))
    return float((1 - np.exp(2 * (null - loglik) / n)) / (1 - np.exp(2 * null / n)))


def count(y: np.ndarray, log_mu: np.ndarray) -> dict[str, float]:
    """Every COUNT measure of predicted log counts log_mu against observed counts y."""
    y, log_mu = np.asarray(y, dtype=float), np.asarray(log_mu, dtype=float)
    if len(y) != len(log_mu) or (y < 0).any() or not np.isfinite(log_mu).all():
        raise ValueError("counts must be non-negative and log expected counts finite, one per patient")
    family = sm.families.Poisson()
    mu = np.exp(log_mu)
    deviance, null = family.deviance(y, mu), family.deviance(y, np.full_like(y, y.mean()))
    return {"r2_deviance": float(1 - deviance / null), **calibration(y, log_mu, family)}


def check(y: np.ndarray, lp: np.ndarray) -> None:
    """Reject data on which the binary measures are undefined."""
    if len(y) != len(lp):
        raise ValueError(f"{len(y)} outcomes but {len(lp)} predictions")
    if not np.isin(y, (0, 1)).all() or y.min() == y.max():
        raise ValueError("the outcome must be 0/1 with both values present")
    if not np.isfinite(lp).all():
        raise ValueError("linear predictors must be finite")


def calibration(y: np.ndarray, lp: np.ndarray, family) -> dict[str, float]:
    """Calibration-in-the-large (intercept, lp as offset) and calibration slope (coefficient of lp)."""
    citl = sm.GLM(y, np.ones((len(y), 1)), family=family, offset=lp).fit().params[0]
    if np.ptp(lp) == 0:  # no spread, no slope (statsmodels' pseudo-inverse would split the intercept)
        return {"citl": float(citl), "slope": np.nan}
    slope = sm.GLM(y, sm.add_constant(lp, has_constant="add"), family=family).fit().params[1]
    return {"citl": float(citl), "slope": float(slope)}


def calibration_curve(y: np.ndarray, p: np.ndarray, at: np.ndarray | None = None) -> np.ndarray:
    """Observed risk smoothed over predicted risk p, evaluated at p (or interpolated at `at`).

    statsmodels' lowess (local linear, tricube weights, no robustness iterations, which would down-weight the
    0/1 outcomes as outliers) with R loess's span 0.75, and R lowess's delta (local fits 1% of the range apart,
    linear interpolation between, so 10^5 patients take milliseconds); Austin & Steyerberg used R's loess
    (local quadratic). Smoothed risks are clipped to [0, 1]. Undefined (NaN) when one prediction is shared by
    more than half the patients: lowess neighbourhoods without spread return 0, not the local mean.
    """
    if np.unique(p, return_counts=True)[1].max() > len(p) / 2:
        return np.full(len(p) if at is None else len(at), np.nan)
    smooth = np.clip(lowess(y, p, frac=SPAN, it=0, delta=0.01 * np.ptp(p), return_sorted=False), 0, 1)
    if at is None:
        return smooth
    order = np.argsort(p)
    return np.interp(at, p[order], smooth[order])


def calibration_errors(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """ICI (mean), E50, E90 and Emax of |smoothed observed - predicted| over the patients' predictions."""
    error = np.abs(calibration_curve(y, p) - p)
    return {"ici": float(error.mean()), "e50": float(np.median(error)), "e90": float(np.quantile(error, 0.9)),
            "emax": float(error.max())}


def c_statistic(y: np.ndarray, p: np.ndarray) -> float:
    """Concordance (area under the ROC curve), ties counted one half."""
    return delong(y, p)[0]


def c_statistic_ci(y: np.ndarray, p: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """C statistic with DeLong's standard error; the interval is built on the logit scale to stay in (0, 1)."""
    auc, se = delong(y, p)
    z = stats.norm.ppf((1 + confidence) / 2)
    if auc in (0.0, 1.0):
        return auc, auc, auc
    half = z * se / (auc * (1 - auc))
    return auc, float(special.expit(special.logit(auc) - half)), float(special.expit(special.logit(auc) + half))


def delong(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """C statistic and its DeLong (1988) standard error from midranks (Sun & Xu 2014); scikit-learn's
    roc_auc_score has no standard error."""
    y, p = np.asarray(y), np.asarray(p, dtype=float)
    cases, controls = p[y == 1], p[y == 0]
    m, n = len(cases), len(controls)
    ranks = stats.rankdata(np.r_[cases, controls])
    v10 = (ranks[:m] - stats.rankdata(cases)) / n
    v01 = 1 - (ranks[m:] - stats.rankdata(controls)) / m
    auc = v10.mean()
    return float(auc), float(np.sqrt(v10.var(ddof=1) / m + v01.var(ddof=1) / n))
