"""LASSO predictors of back pain (RuDDS Table 2): Poisson for back NPRS before the procedure, logistic for
MCID achievement, in the total sample and each leading-syndrome group (complete cases).

Solver: statsmodels' discrete Poisson / Logit fit_regularized(method="l1") with the intercept unpenalised.
scikit-learn has no L1 Poisson (PoissonRegressor is L2 only) and glum is not a project dependency, so the
penalty is chosen by a hand-written K-fold cross-validation over a glmnet-style lambda path (lambda on the
per-observation scale, lambda_max where every coefficient is zero, warm starts along the path; held-out
deviance by scikit-learn's metrics): lambda.min or glmnet's 1-SE rule. Predictors are standardised; the
coefficient is reported per unit of the predictor (as glmnet reports them) and per SD, with exp(coef) as
IRR or OR, and the bootstrap selection frequency and percentile interval of refits at the chosen lambda.
"""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm
from sklearn.metrics import log_loss, mean_poisson_deviance
from sklearn.model_selection import KFold, StratifiedKFold
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from spinestudy import study as studies
from spinestudy.stats import table1

DEFAULTS = {
    "rule": "lambda.min",  # lambda.min | 1se
    "folds": 10,
    "n_lambdas": 30,
    "lambda_ratio": 1e-3,  # smallest lambda / lambda_max (glmnet's lambda.min.ratio for n > p)
    "bootstraps": 200,
    "confidence": 0.95,
    "seed": 1,
    "include_age_sex": False,
    "min_cases": 30,  # fewer complete cases: not estimable
    "min_events": 10,  # logistic: fewer patients with or without MCID: not estimable
}
RULES = ("lambda.min", "1se")
EFFECT = {"poisson": "IRR", "logistic": "OR"}
AGE_SEX = {"age": "Age", "female": "Female sex"}
COLUMNS = ["outcome", "model", "group", "predictor", "label", "n", "events", "lambda", "rule", "coef", "coef_std",
           "effect", "exp_coef", "selected_share", "ci_low", "ci_high", "exp_ci_low", "exp_ci_high", "estimable",
           "note"]
MODELS = {"poisson": sm.Poisson, "logistic": sm.Logit}



def write(analysis: Path, study: Path, settings: dict, out: str | Path) -> None:
    """Write results/stats/lasso.csv from the analysis table."""
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    table(pd.read_parquet(analysis), settings, studies.load(study)).to_csv(out, index=False)


def table(patients: pd.DataFrame, settings: dict, study: studies.Study) -> pd.DataFrame:
    """One row per outcome, group (Total, then each level of the study's Table 1 grouping variable) and
    predictor."""
    cfg = DEFAULTS | settings.get("lasso", {})
    if cfg["rule"] not in RULES:
        raise ValueError(f"lasso rule must be one of {RULES}, not {cfg['rule']!r}")
    spec = study.analyses["lasso"]
    labels = spec["predictors"] | (AGE_SEX if cfg["include_age_sex"] else {})
    data = patients.assign(female=(patients["sex"] == "F").astype(float).where(patients["sex"].notna()))
    frames = []
    for outcome, family in ((name, o["family"]) for name, o in spec["outcomes"].items()):
        for group in (table1.TOTAL, *table1.groups(study)):
            part = data if group == table1.TOTAL else data[data[study.group.name] == group]
            rows = fit_group(part, outcome, family, labels, cfg)
            frames.append(rows.assign(outcome=outcome, model=family, group=group))
    return pd.concat(frames, ignore_index=True).reindex(columns=COLUMNS)


def uses(study: studies.Study) -> set[str]:
    """The study variables the LASSO reads (outcomes and predictors that are not derived; age and sex)."""
    spec = study.analyses.get("lasso", {})
    return (set(spec.get("outcomes", {})) | set(spec.get("predictors", {})) | {"age", "sex"}) & set(study.variables)


def fit_group(part: pd.DataFrame, outcome: str, family: str, labels: dict, cfg: dict) -> pd.DataFrame:
    """Coefficient rows of one outcome in one group, or not-estimable rows with the reason."""
    complete = part[[outcome, *labels]].apply(pd.to_numeric, errors="coerce").astype(float).dropna()
    y, x = complete[outcome].to_numpy(), complete[list(labels)]
    base = pd.DataFrame({"predictor": list(labels), "label": list(labels.values()), "n": len(y),
                         "events": int(y.sum()) if family == "logistic" else pd.NA, "rule": cfg["rule"],
                         "effect": EFFECT[family]})
    reason = not_estimable(y, family, cfg)
    if reason:
        return base.assign(estimable=False, note=f"not estimable: {reason}")
    sd = x.std().to_numpy()
    varying = sd > 0
    z = (x.loc[:, varying] - x.loc[:, varying].mean()) / sd[varying]
    exog = np.column_stack([np.ones(len(y)), z.to_numpy()])
    lam = choose_lambda(y, exog, family, cfg)
    coef = fit(y, exog, family, lam)
    boot = bootstrap(y, exog, family, lam, coef, cfg)
    per_sd = np.zeros(len(labels))
    per_sd[varying] = coef[1:]
    unit = np.divide(per_sd, sd, out=np.zeros_like(per_sd), where=varying)
    tail = (1 - cfg["confidence"]) / 2
    low, high = np.full(len(labels), np.nan), np.full(len(labels), np.nan)
    share = np.full(len(labels), np.nan)
    if len(boot):
        low[varying], high[varying] = np.quantile(boot / sd[varying], [tail, 1 - tail], axis=0)
        share[varying] = (boot != 0).mean(axis=0)
    out = base.assign(lambda_=lam, coef=unit, coef_std=per_sd, exp_coef=np.exp(unit), selected_share=share,
                      ci_low=low, ci_high=high, exp_ci_low=np.exp(low), exp_ci_high=np.exp(high),
                      estimable=varying,
                      note=np.where(varying, "" if len(boot) else "no bootstrap (bootstraps: 0)",
                                    "not estimable: constant in this group"))
    return out.rename(columns={"lambda_": "lambda"})


def not_estimable(y: np.ndarray, family: str, cfg: dict) -> str:
    """Why a model cannot be fitted ('' when it can)."""
    if len(y) < cfg["min_cases"]:
        return f"{len(y)} complete cases (< {cfg['min_cases']})"
    if family == "logistic":
        events = int(y.sum())
        if min(events, len(y) - events) < max(cfg["min_events"], cfg["folds"]):
            return f"{events} with and {len(y) - events} without the outcome (< {max(cfg['min_events'], cfg['folds'])})"
    elif np.ptp(y) == 0:
        return "outcome constant"
    return ""


def fit(y: np.ndarray, exog: np.ndarray, family: str, lam: float, start: np.ndarray | None = None) -> np.ndarray:
    """L1-penalised coefficients (intercept first, unpenalised); lam on the per-observation scale."""
    alpha = np.r_[0.0, np.full(exog.shape[1] - 1, lam * len(y))]  # statsmodels penalises the summed log-likelihood
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = MODELS[family](y, exog).fit_regularized(method="l1", alpha=alpha, start_params=start, disp=0,
                                                          trim_mode="size", size_trim_tol=1e-6)
    return np.asarray(result.params)


def lambda_path(y: np.ndarray, exog: np.ndarray, cfg: dict) -> np.ndarray:
    """Decreasing lambdas from lambda_max, the smallest penalty keeping every coefficient at zero."""
    top = np.abs(exog[:, 1:].T @ (y - y.mean())).max() / len(y)
    return top * np.logspace(0, np.log10(cfg["lambda_ratio"]), cfg["n_lambdas"])


def choose_lambda(y: np.ndarray, exog: np.ndarray, family: str, cfg: dict) -> float:
    """lambda.min or the 1-SE lambda of K-fold cross-validated held-out deviance (seeded folds)."""
    path = lambda_path(y, exog, cfg)
    splitter = (StratifiedKFold if family == "logistic" else KFold)(cfg["folds"], shuffle=True,
                                                                      random_state=cfg["seed"])
    loss = np.empty((cfg["folds"], len(path)))
    for k, (train, test) in enumerate(splitter.split(exog, y)):
        start = None
        for j, lam in enumerate(path):
            start = fit(y[train], exog[train], family, lam, start)
            loss[k, j] = deviance(y[test], exog[test] @ start, family)
    mean = loss.mean(axis=0)
    best = int(np.argmin(mean))
    if cfg["rule"] == "lambda.min":
        return float(path[best])
    se = loss[:, best].std(ddof=1) / np.sqrt(cfg["folds"])
    return float(path[np.argmax(mean <= mean[best] + se)])  # the largest lambda within one SE


def deviance(y: np.ndarray, eta: np.ndarray, family: str) -> float:
    """Mean held-out deviance per observation for the linear predictor eta."""
    if family == "poisson":
        return mean_poisson_deviance(y, np.exp(eta))
    return 2 * log_loss(y, 1 / (1 + np.exp(-eta)), labels=[0, 1])


def bootstrap(y: np.ndarray, exog: np.ndarray, family: str, lam: float, coef: np.ndarray, cfg: dict) -> np.ndarray:
    """Penalised coefficients (per SD, without intercept) of refits on resampled patients at lambda."""
    rng = np.random.default_rng(cfg["seed"])
    draws = [rng.integers(0, len(y), len(y)) for _ in range(cfg["bootstraps"])]
    return np.array([fit(y[i], exog[i], family, lam, coef)[1:] for i in draws]).reshape(len(draws), len(coef) - 1)
