"""LASSO feature selection and an SVM classifier of Modic type (the Modic radiomics paper's Figure 2 and model),
validated two ways on the same outer folds (grouped by patient: a patient's lesions never straddle folds):

  paper:  on the features ComBat-harmonised over all lesions (Modic type as covariate; harmonisation.py),
          scaling, screen, correlation filter and LASSO fitted on all lesions, then the SVM cross-validated
          on the selected features (optimistic: the test folds took part in harmonisation and selection);
  nested: the whole pipeline (ComBat without labels, scaling, screen, correlation filter, LASSO, SVM with
          its hyper-parameters tuned by an inner grid search) fitted inside each outer training fold only,
          on the unharmonised features; the test fold is transformed with the training fold's fits.

LASSO: scikit-learn's MultiTaskLassoCV on the class indicators (one column for two classes: plain LASSO on
0/1, as the paper's alpha suggests; a shared group penalty for more); coefficients above `lasso_tol` count.
Metrics come from the pooled out-of-fold predictions, with patient-level bootstrap percentile intervals.
"""

import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Memory
from sklearn.base import BaseEstimator
from sklearn.feature_selection import SelectorMixin, VarianceThreshold
from sklearn.linear_model import MultiTaskLassoCV
from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix, roc_auc_score, roc_curve
from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import LabelBinarizer, StandardScaler
from sklearn.svm import SVC
from sklearn.utils.validation import check_is_fitted, validate_data

from spinestudy import applicable
from spinestudy.radiomics.feature_names import feature_columns, split_name
from spinestudy.radiomics_stats import harmonisation
from spinestudy.radiomics_stats.harmonisation import CentreComBat
from spinestudy.radiomics_stats.screen import CorrelationFilter, UnivariateScreen
from spinestudy.radiomics_stats.shape import ROMAN, lesions, not_applicable

DEFAULTS = {"correlation_threshold": 0.9, "correlation_method": "pearson", "lasso_folds": 5, "lasso_alphas": 100,
            "lasso_tol": 1e-6, "kernel": "rbf", "C": [0.1, 1.0, 10.0, 100.0], "gamma": ["scale", 0.01, 0.1],
            "class_weight": "balanced", "outer_folds": 5, "inner_folds": 3, "bootstraps": 1000, "confidence": 0.95}
LASSO_COLUMNS = ["feature", "sequence", "image_type", "feature_class", "feature_name", "target", "coefficient",
                 "alpha"]
METRICS = {"accuracy": accuracy_score, "balanced_accuracy": balanced_accuracy_score}


def write(features: Path, raw: Path, gradings: Path, settings: dict, out_lasso: Path, out_classifier: Path) -> None:
    """Write lasso_features.csv (LASSO on all lesions) and classifier.json (both validations) from the
    whole-cohort harmonised lesion features (paper) and the unharmonised features (nested); without radiomics
    features, both hold the not-applicable note."""
    gradings = pd.read_parquet(gradings)
    rows, notes = lesions(pd.read_parquet(raw), gradings)
    Path(out_lasso).parent.mkdir(parents=True, exist_ok=True)
    if reason := not_applicable(rows):
        applicable.frame(LASSO_COLUMNS, reason).to_csv(out_lasso, index=False)
        Path(out_classifier).write_text(json.dumps({"note": reason}, indent=2))
        return
    x, y, groups, more = design(rows, settings)
    harmonised, *_ = design(lesions(pd.read_parquet(features), gradings)[0], settings)
    if not harmonised.index.equals(x.index):
        raise ValueError(f"{features} and {raw} hold different lesions: rerun the lesion_features rule")
    reason = harmonisation.not_run(rows, settings)
    lasso, report = run(x, y, groups, settings, paper_x=harmonised, in_fold_combat=not reason)
    report["harmonisation"] = (
        {"paper": "ComBat on all lesions before selection (inmoose; Modic type as covariate)",
         "nested": "ComBat fitted on each training fold without labels (combatlearn), applied to its test fold"}
        if not reason else {"paper": f"ComBat {reason}", "nested": f"ComBat {reason}"})
    lasso.to_csv(out_lasso, index=False)
    report["notes"] = notes + more + report["notes"]
    Path(out_classifier).write_text(json.dumps(report, indent=2, allow_nan=False))


def design(rows: pd.DataFrame, settings: dict) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, list[str]]:
    """Features, Modic type and patient of the lesions of the contrast's types with every feature present."""
    part = rows[rows["modic"].isin(settings.get("contrast", [1, 2]))]
    columns = feature_columns(part)
    complete = part[columns].notna().all(axis=1)
    notes = [f"{int((~complete).sum())} lesion(s) with missing features left out"] if (~complete).any() else []
    part = part[complete]
    return part[columns], part["modic"].to_numpy(), (part["centre"] + "/" + part["patient"]).to_numpy(), notes


class LassoSelector(SelectorMixin, BaseEstimator):
    """Keep features with a non-zero LASSO coefficient (MultiTaskLassoCV on the class indicators); if the
    cross-validated alpha zeroes them all, the one with the largest |X'y| (first to enter the path)."""

    def __init__(self, folds: int = 5, alphas: int = 100, tol: float = 1e-6):
        self.folds = folds
        self.alphas = alphas
        self.tol = tol

    def fit(self, X, y):
        X = validate_data(self, X)
        target = LabelBinarizer().fit_transform(y).astype(float)
        self.lasso_ = MultiTaskLassoCV(alphas=self.alphas, cv=self.folds, max_iter=5000).fit(X, target)
        self.coef_ = np.atleast_2d(self.lasso_.coef_)
        self.support_ = (np.abs(self.coef_) > self.tol).any(axis=0)
        if not self.support_.any():
            self.support_[np.argmax(np.abs(X.T @ (target - target.mean(axis=0))).sum(axis=1))] = True
        return self

    def _get_support_mask(self):
        check_is_fitted(self)
        return self.support_


def selection(cfg: dict) -> list[tuple]:
    """The paper's selection steps: constant features out, scaling, screen, correlation filter, LASSO."""
    return [("constant", VarianceThreshold()), ("scale", StandardScaler()),
            ("screen", UnivariateScreen(cfg["screen_alpha"])),
            ("decorrelate", CorrelationFilter(cfg["correlation_threshold"], cfg["correlation_method"])),
            ("lasso", LassoSelector(cfg["lasso_folds"], cfg["lasso_alphas"], cfg["lasso_tol"]))]


def tuned_svm(steps: list[tuple], cfg: dict, seed: int, folds: int, cache: str) -> GridSearchCV | Pipeline:
    """Steps + SVM, its C and gamma tuned by an inner grouped, stratified grid search (when folds >= 2); the
    steps' fits are cached in `cache` so the grid search refits only the SVM."""
    svm = SVC(kernel=cfg["kernel"], class_weight=cfg["class_weight"], random_state=seed)
    pipe = Pipeline([*steps, ("svm", svm)], memory=Memory(cache, verbose=0))
    if folds < 2:
        return pipe
    grid = {"svm__C": cfg["C"], "svm__gamma": cfg["gamma"]}
    return GridSearchCV(pipe, grid, cv=StratifiedGroupKFold(folds, shuffle=True, random_state=seed),
                        scoring="balanced_accuracy")


def run(x: pd.DataFrame, y: np.ndarray, groups: np.ndarray, settings: dict, paper_x: pd.DataFrame | None = None,
        in_fold_combat: bool = False) -> tuple[pd.DataFrame, dict]:
    """LASSO coefficients on all lesions and the classifier report of both validations. The paper protocol
    selects on `paper_x` (default x; e.g. whole-cohort harmonised); the nested one starts with ComBat
    per training fold when `in_fold_combat` (centres: the part of `groups` before the '/')."""
    paper_x = x if paper_x is None else paper_x
    cfg = DEFAULTS | settings.get("classifier", {}) | {"screen_alpha": settings.get("screen", {}).get("alpha", 0.05)}
    seed = settings.get("seed", 1)
    classes, counts = np.unique(y, return_counts=True)
    report = {"classes": [ROMAN[c] for c in classes], "class_counts": dict(zip([ROMAN[c] for c in classes],
                                                                                counts.tolist())),
              "n_lesions": len(y), "n_patients": len(set(groups)), "n_features": x.shape[1], "notes": []}
    folds = min(cfg["outer_folds"], len(set(groups)), int(counts.min()) if len(counts) else 0)
    if len(classes) < 2 or folds < 2:
        report["notes"].append(f"not estimable: classes {report['class_counts']} allow no {cfg['outer_folds']}-fold "
                               "cross-validation (at least two lesions of each of two types are needed)")
        return pd.DataFrame(columns=LASSO_COLUMNS), report
    if folds < cfg["outer_folds"]:
        report["notes"].append(f"outer folds reduced to {folds} (smallest class or number of patients)")
    names = paper_x.columns.to_numpy(str)
    selector = Pipeline(selection(cfg)).fit(paper_x.to_numpy(float), y)  # arrays: DataFrame checks dominate
    chosen = list(selector.get_feature_names_out(names))
    outer = list(StratifiedGroupKFold(folds, shuffle=True, random_state=seed).split(x, y, groups))
    combat = []
    if in_fold_combat:
        centre = pd.Series([g.split("/")[0] for g in groups], index=x.index)
        x = pd.concat([centre.astype("category").cat.codes.rename("centre"), x], axis=1)
        combat = [("combat", CentreComBat())]
    with tempfile.TemporaryDirectory() as cache:
        paper = validate(lambda inner: tuned_svm([("scale", StandardScaler())], cfg, seed, inner, cache),
                         paper_x[chosen], y, groups, outer, cfg, seed)
        nested = validate(lambda inner: tuned_svm(combat + selection(cfg), cfg, seed, inner, cache),
                          x, y, groups, outer, cfg, seed)
    report |= {"outer_folds": folds, "accuracy": {"paper": paper["metrics"]["accuracy"]["estimate"],
                                                  "nested": nested["metrics"]["accuracy"]["estimate"]},
               "paper": {"selected_features": chosen, **paper}, "nested": nested}
    return coefficients(selector, names, chosen, classes), report


def coefficients(selector: Pipeline, names: np.ndarray, chosen: list[str], classes: np.ndarray) -> pd.DataFrame:
    """Non-zero LASSO coefficients (per standardised unit), one row per feature and target class."""
    lasso = selector.named_steps["lasso"]
    names = selector[:-1].get_feature_names_out(names)
    targets = [ROMAN[classes[-1]]] if len(classes) == 2 else [ROMAN[c] for c in classes]
    rows = [split_name(f) | {"feature": f, "target": t, "coefficient": c, "alpha": lasso.lasso_.alpha_}
            for t, coef in zip(targets, lasso.coef_) for f, c in zip(names, coef) if f in chosen and c != 0]
    out = pd.DataFrame(rows, columns=LASSO_COLUMNS)
    return out.sort_values(["target", "coefficient"], key=lambda s: s.abs() if s.name == "coefficient" else s,
                           ascending=[True, False], kind="stable", ignore_index=True)


def validate(make, x: pd.DataFrame, y: np.ndarray, groups: np.ndarray, outer: list, cfg: dict, seed: int) -> dict:
    """Out-of-fold predictions of a model refitted per outer fold: metrics, confusion matrix, ROC curves (decision
    values, one class against the rest), tuned parameters and how often each feature was selected."""
    classes, names, x = np.unique(y), x.columns.to_numpy(str), x.to_numpy(float)
    score = np.zeros((len(y), len(classes)))
    predicted = np.empty_like(y)
    selected, params = [], []
    for train, test in outer:
        inner = min(cfg["inner_folds"], int(np.unique(y[train], return_counts=True)[1].min()))
        model = make(inner).fit(x[train], y[train], **({"groups": groups[train]} if inner >= 2 else {}))
        best = getattr(model, "best_estimator_", model)
        predicted[test], score[test] = best.predict(x[test]), decision(best, x[test])
        selected.append(list(best[:-1].get_feature_names_out(names)))
        params.append({k.removeprefix("svm__"): v for k, v in getattr(model, "best_params_", {}).items()})
    labels = [ROMAN[c] for c in classes]
    frequency = pd.Series([f for fold in selected for f in fold]).value_counts() / len(outer)
    return {"metrics": metrics(y, predicted, score, groups, classes, cfg, seed),
            "confusion_matrix": {"labels": labels, "matrix": confusion_matrix(y, predicted, labels=classes).tolist()},
            "roc": {n: dict(zip(("fpr", "tpr"), (v.tolist() for v in roc_curve(y == c, score[:, k])[:2])))
                    for k, (c, n) in enumerate(zip(classes, labels))},
            "best_params": params,
            "selection_frequency": {f: float(s) for f, s in sorted(frequency.items(), key=lambda fs: (-fs[1], fs[0]))}}


def decision(model: Pipeline, x: np.ndarray) -> np.ndarray:
    """SVM decision values, one column per class (one-vs-rest; two classes: -d, d)."""
    d = model.decision_function(x)
    return np.column_stack([-d, d]) if d.ndim == 1 else d


def scores(y: np.ndarray, predicted: np.ndarray, score: np.ndarray, classes: np.ndarray) -> dict:
    """Accuracy, balanced accuracy and the macro one-vs-rest AUC of the decision values (None: one class)."""
    out = {name: float(f(y, predicted)) for name, f in METRICS.items()}
    present = [k for k, c in enumerate(classes) if 0 < (y == c).sum() < len(y)]
    if len(present) < len(classes):
        return out | {"auc_macro": None}
    return out | {"auc_macro": float(np.mean([roc_auc_score(y == classes[k], score[:, k]) for k in present]))}


def metrics(y, predicted, score, groups, classes, cfg: dict, seed: int) -> dict:
    """Scores with percentile intervals from resampling patients (all of a patient's lesions together).
    Hand-written cluster bootstrap: scipy.stats.bootstrap resamples single observations only."""
    estimate = scores(y, predicted, score, classes)
    patients, index = np.unique(groups, return_inverse=True)
    members = [np.flatnonzero(index == k) for k in range(len(patients))]
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(cfg["bootstraps"]):
        rows = np.concatenate([members[k] for k in rng.integers(0, len(patients), len(patients))])
        draws.append(scores(y[rows], predicted[rows], score[rows], classes))
    tail = (1 - cfg["confidence"]) / 2
    out = {}
    for name, value in estimate.items():
        sample = np.array([d[name] for d in draws], float)
        sample = sample[np.isfinite(sample)]
        low, high = np.quantile(sample, [tail, 1 - tail]).tolist() if len(sample) else (None, None)
        out[name] = {"estimate": value, "ci_low": low, "ci_high": high, "bootstraps": len(sample)}
    return out
