"""ComBat harmonisation of lesion features across centres, two ways:

* whole cohort (`harmonise`, the paper's protocol): inmoose.pycombat on every lesion at once, the Modic type
  kept as a biological covariate; what the shape tables, the screen and the paper-style classifier estimate
  use. Every lesion's label shapes the adjustment, so a classifier validated on it is not independent of it.
* inside the folds (`CentreComBat`, the nested protocol): combatlearn's ComBat (Johnson et al.'s model,
  no covariates) fitted on the training rows only and applied to new rows, which need their centre only.

Plus a before/after diagnostic of the centre effect: the share of features with a Kruskal-Wallis centre
difference (scipy) and PCA coordinates (scikit-learn) per lesion, coloured by centre in the figure stage.
inmoose is an optional dependency: without it (or when disabled) the features pass through unchanged and
the diagnostic says so on every row; without radiomics features it is one row, not applicable.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
from combatlearn.core import ComBatModel
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

from spinestudy.radiomics.feature_names import feature_columns
from spinestudy.radiomics_stats.screen import pvalues
from spinestudy.radiomics_stats.shape import lesions, not_applicable

DEFAULTS = {"enabled": False, "alpha": 0.05, "min_lesions_per_centre": 2}
COLUMNS = ["stage", "kind", "centre", "patient", "structure", "modic", "pc1", "pc2", "n_features", "n_significant",
           "share_significant", "note"]


def available() -> bool:
    return importlib.util.find_spec("inmoose") is not None


def write(features: Path, gradings: Path, settings: dict, out_features: Path, out_diagnostic: Path) -> None:
    """Write the (harmonised) lesion feature table and combat_diagnostic.csv."""
    rows, _ = lesions(pd.read_parquet(features), pd.read_parquet(gradings))
    after, note = harmonise(rows, settings)
    note = not_applicable(rows) or note
    Path(out_diagnostic).parent.mkdir(parents=True, exist_ok=True)
    after.to_parquet(out_features, index=False)
    stages = {"before": rows} | ({"after": after} if note == "" else {})
    diagnostic(stages, settings, note).to_csv(out_diagnostic, index=False)


def not_run(rows: pd.DataFrame, settings: dict) -> str:
    """Why ComBat does not run on these lesion rows ('' when it does)."""
    cfg = DEFAULTS | settings.get("harmonisation", {})
    sizes = rows["centre"].value_counts()
    return ("disabled in the configuration" if not cfg["enabled"]
            else "not available: inmoose is not installed" if not available()
            else f"not applicable: {len(sizes)} centre(s)" if len(sizes) < 2
            else f"not applicable: a centre has < {cfg['min_lesions_per_centre']} lesions"
            if sizes.min() < cfg["min_lesions_per_centre"] else "")


def harmonise(rows: pd.DataFrame, settings: dict) -> tuple[pd.DataFrame, str]:
    """Lesion rows with complete, within-centre varying features ComBat-harmonised; '' or why not."""
    reason = not_run(rows, settings)
    if reason:
        return rows, f"ComBat {reason}"
    from inmoose.pycombat import pycombat_norm  # optional dependency

    columns = feature_columns(rows)
    varying = rows.groupby("centre")[columns].std().gt(0).all() & rows[columns].notna().all()
    used = [c for c in columns if varying[c]]
    covariate = pd.DataFrame({"modic": rows["modic"].astype(str).to_numpy()})
    adjusted = pycombat_norm(rows[used].to_numpy(float).T, rows["centre"].to_numpy(), covar_mod=covariate)
    out = rows.copy()
    out[used] = np.asarray(adjusted).T
    return out, ""


def diagnostic(stages: dict[str, pd.DataFrame], settings: dict, note: str) -> pd.DataFrame:
    """Per stage: a summary row (features with a centre difference) and PCA coordinates of every lesion."""
    cfg = DEFAULTS | settings.get("harmonisation", {})
    frames = []
    for stage, rows in stages.items():
        columns = [c for c in feature_columns(rows) if rows[c].notna().all() and rows[c].nunique() > 1]
        x = rows[columns].to_numpy(float)
        p = pvalues(x, rows["centre"].to_numpy()) if rows["centre"].nunique() > 1 and columns else np.array([])
        significant = int((np.nan_to_num(p, nan=1) < cfg["alpha"]).sum())
        summary = {"stage": stage, "kind": "summary", "n_features": len(p), "n_significant": significant,
                   "share_significant": significant / len(p) if len(p) else np.nan, "note": note}
        frames.append(pd.DataFrame([summary]))
        if len(rows) >= 2 and len(columns) >= 2:
            pcs = PCA(2, random_state=0).fit_transform(StandardScaler().fit_transform(x))
            frames.append(rows[["centre", "patient", "structure", "modic"]].assign(
                stage=stage, kind="pca", pc1=pcs[:, 0], pc2=pcs[:, 1], note=note))
    out = pd.concat(frames, ignore_index=True).reindex(columns=COLUMNS)
    return out.astype({"modic": "Int64", "n_features": "Int64", "n_significant": "Int64"})


class CentreComBat(TransformerMixin, BaseEstimator):
    """ComBat as a scikit-learn step: column 0 of X is the centre (a numeric code), the others the features.
    fit estimates the centres' location and scale (combatlearn, parametric empirical Bayes) from the rows it
    is given; transform applies them to the rows of those centres and drops the centre column. Features that
    are constant within a training centre, and rows of a centre absent from the training rows (a small centre
    inside a fold), pass through unchanged: ComBat has no estimate for them."""

    def fit(self, X, y=None):
        X = validate_data(self, X)
        centre, values = X[:, 0], X[:, 1:]
        spread = pd.DataFrame(values).groupby(centre).std()
        self.adjusted_ = (spread.gt(0).all() & (pd.Series(centre).value_counts().min() >= 2)).to_numpy()
        self.model_, self.centres_ = None, np.unique(centre)
        if len(spread) >= 2 and self.adjusted_.any():
            self.model_ = ComBatModel(method="johnson").fit(pd.DataFrame(values[:, self.adjusted_]),
                                                            batch=pd.Series(centre))
        return self

    def transform(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        out = X[:, 1:].copy()
        known = np.isin(X[:, 0], self.centres_)
        if self.model_ is not None and known.any():
            part = pd.DataFrame(out[np.ix_(known, self.adjusted_)])
            out[np.ix_(known, self.adjusted_)] = self.model_.transform(part, batch=pd.Series(X[known, 0])).to_numpy()
        return out

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self)
        return np.asarray(input_features, dtype=object)[1:]
