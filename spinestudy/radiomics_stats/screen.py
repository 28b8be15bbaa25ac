"""Univariate screen and redundancy filter of radiomics features (the Modic radiomics paper's Figure 1 and
steps 2-3), as scikit-learn selectors so nested cross-validation can refit them inside training folds.

UnivariateScreen keeps features whose Mann-Whitney U (two classes) or Kruskal-Wallis (more) p-value is
below alpha (scipy). Both tests are rank tests, so the paper's standardisation before the screen does not
change a p-value. CorrelationFilter drops features correlated above a threshold, removing from each such
pair the one with the higher mean absolute correlation with the remaining features (the paper's rule).
"""

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator
from sklearn.feature_selection import SelectorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from spinestudy import applicable
from spinestudy.radiomics.feature_names import feature_columns, split_name
from spinestudy.radiomics_stats.shape import ROMAN, lesions, not_applicable

DEFAULTS = {"alpha": 0.05}
MWU_COLUMNS = ["feature", "sequence", "image_type", "feature_class", "feature_name", "group1", "group2", "n1", "n2",
               "u", "p", "significant", "note"]


def write(features: Path, gradings: Path, settings: dict, out: Path) -> None:
    """Write mwu_screen.csv: one row per feature, for the configured contrast of Modic types."""
    rows, _ = lesions(pd.read_parquet(features), pd.read_parquet(gradings))
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    mwu_table(rows, settings).to_csv(out, index=False)


def mwu_table(rows: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """Mann-Whitney U of every feature between the two Modic types of `contrast` (default I vs II); one
    not-applicable row without radiomics features."""
    cfg = DEFAULTS | settings.get("screen", {})
    a, b = settings.get("contrast", [1, 2])
    if reason := not_applicable(rows):
        return applicable.frame(MWU_COLUMNS, reason)
    columns = feature_columns(rows)
    x, y = (rows.loc[rows["modic"] == t, columns].to_numpy(float) for t in (a, b))
    n1, n2 = (np.isfinite(v).sum(axis=0) for v in (x, y))
    with np.errstate(invalid="ignore", divide="ignore"):
        result = stats.mannwhitneyu(x, y, axis=0, nan_policy="omit") if len(x) and len(y) else None
    u = np.full(len(columns), np.nan) if result is None else np.asarray(result.statistic, float)
    p = np.full(len(columns), np.nan) if result is None else np.asarray(result.pvalue, float)
    constant = rows.loc[rows["modic"].isin([a, b]), columns].nunique().to_numpy() <= 1
    note = np.where((n1 < 1) | (n2 < 1), f"no lesion of type {ROMAN[a]} or {ROMAN[b]}",
                    np.where(constant, "constant across lesions: no test", ""))
    p[note != ""] = np.nan
    out = pd.DataFrame([split_name(c) for c in columns]).assign(
        feature=columns, group1=ROMAN[a], group2=ROMAN[b], n1=n1, n2=n2, u=u, p=p, significant=p < cfg["alpha"],
        note=note)
    return out[MWU_COLUMNS].sort_values(["sequence", "image_type", "feature"], kind="stable", ignore_index=True)


def pvalues(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-column p-value: Mann-Whitney U for two classes, Kruskal-Wallis for more (NaN when constant)."""
    samples = [x[y == c] for c in np.unique(y)]
    with np.errstate(invalid="ignore", divide="ignore"):
        test = stats.mannwhitneyu if len(samples) == 2 else stats.kruskal
        return np.asarray(test(*samples, axis=0).pvalue, float)


class UnivariateScreen(SelectorMixin, BaseEstimator):
    """Keep features with a Mann-Whitney U / Kruskal-Wallis p-value below alpha; at least the best one."""

    def __init__(self, alpha: float = 0.05):
        self.alpha = alpha

    def fit(self, X, y):
        X = validate_data(self, X)
        self.pvalues_ = pvalues(X, np.asarray(y))
        self.support_ = np.nan_to_num(self.pvalues_, nan=1.0) < self.alpha
        if not self.support_.any():  # keep the most significant feature so later steps have an input
            self.support_[np.nanargmin(np.nan_to_num(self.pvalues_, nan=1.0))] = True
        return self

    def _get_support_mask(self):
        check_is_fitted(self)
        return self.support_


class CorrelationFilter(SelectorMixin, BaseEstimator):
    """Drop features correlated above `threshold` (|r|): from each pair, in order of decreasing |r|, the one
    with the higher mean absolute correlation with the features still kept. Hand-written: scikit-learn has
    no correlation filter (this is caret's findCorrelation, exact = TRUE, which the paper describes)."""

    def __init__(self, threshold: float = 0.9, method: str = "pearson"):
        self.threshold = threshold
        self.method = method

    def fit(self, X, y=None):
        X = validate_data(self, X)
        if self.method == "spearman":
            X = stats.rankdata(X, axis=0)
        r = np.abs(np.atleast_2d(np.corrcoef(X, rowvar=False))) if X.shape[1] > 1 else np.ones((1, 1))
        r = np.nan_to_num(r, nan=0.0)
        keep = np.ones(len(r), bool)
        total = r.sum(axis=0)  # sum of |r| with the kept features (self included: the same for both of a pair)
        i, j = np.nonzero(np.triu(r, 1) > self.threshold)
        for k in np.argsort(-r[i, j], kind="stable"):
            a, b = i[k], j[k]
            if keep[a] and keep[b]:
                drop = a if total[a] > total[b] else b
                keep[drop] = False
                total -= r[:, drop]
        self.support_ = keep
        return self

    def _get_support_mask(self):
        check_is_fitted(self)
        return self.support_
