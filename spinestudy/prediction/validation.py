"""Model development and bootstrap internal validation of a binary-outcome prediction model (Harrell's
optimism bootstrap, Steyerberg 2019 ch. 17), laid out as R's rms::validate: index.orig, training, test, optimism,
index.corrected and n per measure.

Every replicate repeats the whole development on a bootstrap sample: the pre-specified maximum-likelihood
logistic regression, or the LASSO / elastic net with its penalty chosen by cross-validation inside the replicate.
A replicate whose development fails (perfect separation, non-convergence, a sample with one outcome class) is
counted with its reason and left out; a measure undefined in a replicate (a slope without spread) is left out of
that measure only, so n counts the replicates behind each row.

The same loop gives rms::calibrate's ingredients: in every successful replicate the flexible calibration curve
(performance.calibration_curve) of the refitted model in its bootstrap sample (training) and in the original
sample (test), and the apparent model's curve in the bootstrap sample (resampled: the band of the apparent
curve), all at a grid of `grid_points` predicted risks from the smallest to the largest apparent one.
"""

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import special
from sklearn.exceptions import ConvergenceWarning as SklearnConvergence
from sklearn.linear_model import LogisticRegressionCV
from sklearn.model_selection import StratifiedKFold
from statsmodels.tools import sm_exceptions

from spinestudy.prediction import performance

METHODS = ("regression", "lasso", "elastic_net")
DEFAULTS = {"method": "regression", "bootstraps": 200, "seed": 1, "folds": 10, "n_penalties": 20,
            "lambda_ratio": 1e-3, "l1_ratio": 0.5, "grid_points": 50}  # l1_ratio: elastic net only (LASSO is 1)
FAILURES = (sm_exceptions.PerfectSeparationWarning, sm_exceptions.ConvergenceWarning,
            sm_exceptions.HessianInversionWarning, SklearnConvergence)
COLUMNS = ["index.orig", "training", "test", "optimism", "index.corrected", "n"]


@dataclass
class Model:
    """A developed model on the predictors' own scale: log-odds = intercept + x @ coef."""

    intercept: float
    coef: np.ndarray
    penalty: float = np.nan  # scikit-learn's C (inverse penalty strength) chosen by cross-validation

    def linear_predictor(self, x: np.ndarray) -> np.ndarray:
        return self.intercept + x @ self.coef


@dataclass
class Validation:
    """The apparent model, the rms-style table, per-replicate results, failures, and selection frequency."""

    model: Model
    table: pd.DataFrame
    replicates: pd.DataFrame  # replicate, sample (training / test), one column per measure
    failures: pd.DataFrame  # replicate, reason
    selected: np.ndarray  # share of successful replicates with each coefficient non-zero
    grid: np.ndarray  # predicted risks at which the calibration curves are evaluated
    curves: dict[str, np.ndarray]  # training, test, resampled: one row per successful replicate, one column per grid


def develop(x: np.ndarray, y: np.ndarray, settings: dict, seed: int) -> Model:
    """Fit the model the settings pre-specify; warnings that signal an unusable fit raise instead."""
    cfg = DEFAULTS | settings
    if cfg["method"] not in METHODS:
        raise ValueError(f"prediction method must be one of {METHODS}, not {cfg['method']!r}")
    if np.unique(y).size < 2:
        raise ValueError("one outcome class only")
    with warnings.catch_warnings():
        for category in FAILURES:
            warnings.simplefilter("error", category)
        if cfg["method"] == "regression":
            params = sm.Logit(y, sm.add_constant(x, has_constant="add")).fit(disp=0, maxiter=100).params
            return Model(float(params[0]), np.asarray(params[1:]))
        return penalised(x, y, cfg, seed)


def penalised(x: np.ndarray, y: np.ndarray, cfg: dict, seed: int) -> Model:
    """LASSO or elastic net on standardised predictors (intercept unpenalised, saga), the penalty minimising
    cross-validated deviance over glmnet's grid (lambda_max, where every coefficient is zero, down to
    lambda_ratio of it; scikit-learn's C = 1 / (n lambda)); coefficients back on the predictors' scale."""
    mean, sd = x.mean(axis=0), x.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)  # a constant predictor stays at zero
    z = (x - mean) / sd
    ratio = 1.0 if cfg["method"] == "lasso" else cfg["l1_ratio"]
    top = np.abs(z.T @ (y - y.mean())).max() / (len(y) * ratio)
    lambdas = top * np.logspace(0, np.log10(cfg["lambda_ratio"]), cfg["n_penalties"])
    folds = StratifiedKFold(cfg["folds"], shuffle=True, random_state=seed)
    fit = LogisticRegressionCV(Cs=1 / (len(y) * lambdas), l1_ratios=[ratio], solver="saga", cv=folds,
                               scoring="neg_log_loss", max_iter=10_000, tol=1e-4, random_state=seed,
                               use_legacy_attributes=False).fit(z, y)
    coef = fit.coef_.ravel() / sd
    return Model(float(fit.intercept_.ravel()[0] - coef @ mean), coef, float(np.ravel(fit.C_)[0]))


def validate(x: np.ndarray, y: np.ndarray, settings: dict) -> Validation:
    """Apparent performance, and its optimism over `bootstraps` replicates (seeded: the same inputs give the
    same table)."""
    cfg = DEFAULTS | settings
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    rng = np.random.default_rng(cfg["seed"])
    model = develop(x, y, cfg, cfg["seed"])
    lp = model.linear_predictor(x)
    apparent = performance.binary(y, lp)
    risk = special.expit(lp)
    grid = np.linspace(risk.min(), risk.max(), cfg["grid_points"])
    draws = rng.integers(0, len(y), (cfg["bootstraps"], len(y)))  # all samples first: failures shift nothing
    seeds = rng.integers(0, 2**31 - 1, cfg["bootstraps"])
    rows, failures, selected, curves = [], [], [], {"training": [], "test": [], "resampled": []}
    for b, (rows_b, seed) in enumerate(zip(draws, seeds)):
        try:
            fitted = develop(x[rows_b], y[rows_b], cfg, int(seed))
            train = performance.binary(y[rows_b], fitted.linear_predictor(x[rows_b]))
            test = performance.binary(y, fitted.linear_predictor(x))
        except (ValueError, np.linalg.LinAlgError, *FAILURES) as error:
            failures.append({"replicate": b + 1, "reason": f"{type(error).__name__}: {error}"})
            continue
        rows += [{"replicate": b + 1, "sample": "training", **train}, {"replicate": b + 1, "sample": "test", **test}]
        selected.append(fitted.coef != 0)
        for name, (outcome, p) in {"training": (y[rows_b], special.expit(fitted.linear_predictor(x[rows_b]))),
                                   "test": (y, special.expit(fitted.linear_predictor(x))),
                                   "resampled": (y[rows_b], risk[rows_b])}.items():
            curves[name].append(performance.calibration_curve(outcome, p, grid))
    replicates = pd.DataFrame(rows, columns=["replicate", "sample", *performance.BINARY])
    share = np.mean(selected, axis=0) if selected else np.full(x.shape[1], np.nan)
    return Validation(model, table(apparent, replicates), replicates,
                      pd.DataFrame(failures, columns=["replicate", "reason"]), share, grid,
                      {k: np.reshape(v, (len(v), len(grid))) for k, v in curves.items()})


def table(apparent: dict, replicates: pd.DataFrame) -> pd.DataFrame:
    """rms::validate's layout, one row per measure; optimism = mean(training - test) over the replicates in
    which the measure is defined in both samples."""
    train = replicates[replicates["sample"] == "training"].set_index("replicate")[list(performance.BINARY)]
    test = replicates[replicates["sample"] == "test"].set_index("replicate")[list(performance.BINARY)]
    both = train.notna() & test.notna()
    out = pd.DataFrame({"index.orig": pd.Series(apparent), "training": train[both].mean(),
                        "test": test[both].mean(), "optimism": (train - test)[both].mean(), "n": both.sum()})
    out["index.corrected"] = out["index.orig"] - out["optimism"]
    return out.reindex(columns=COLUMNS).rename_axis("measure").reset_index()
