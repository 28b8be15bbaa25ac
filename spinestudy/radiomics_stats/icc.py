"""Feature robustness to the segmentation, statistics side: ICC(3,1) per feature over the (original, eroded,
dilated) re-extractions of spinestudy.radiomics.robustness across ROIs (pingouin.intraclass_corr, its interval
at full precision); features with ICC >= icc_threshold are kept. No re-extracted feature (no images): one row,
not applicable.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from spinestudy import applicable
from spinestudy.radiomics.extract import KEYS
from spinestudy.radiomics.feature_names import feature_columns
from spinestudy.radiomics_stats.shape import not_applicable
from spinestudy.stats.agreement import intraclass_corr

DEFAULTS = {"icc_threshold": 0.75, "min_rois": 3}
ICC31 = "ICC(C,1)"  # pingouin's name for Shrout & Fleiss ICC(3,1): two-way mixed, consistency, single rater
COLUMNS = ["feature", "icc", "ci_low", "ci_high", "n_rois", "robust", "note"]


def write(perturbed: list[Path], settings: dict, out: Path) -> None:
    """Write icc.csv from the per-patient tables of perturbed_rows."""
    frames = [pd.read_parquet(p) for p in perturbed]
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*KEYS, "perturbation"])
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    icc_table(rows, settings).to_csv(out, index=False)


def icc_table(rows: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """ICC(3,1) of every feature over the ROIs present in every perturbation."""
    if reason := not_applicable(rows):
        return applicable.frame(COLUMNS, reason)
    cfg = DEFAULTS | settings.get("robustness", {})
    rows = rows.assign(roi=rows["centre"] + "/" + rows["patient"] + "/" + rows["structure"])
    return pd.DataFrame([icc(rows, f, cfg) for f in feature_columns(rows.drop(columns="roi"))], columns=COLUMNS)


def icc(rows: pd.DataFrame, feature: str, cfg: dict) -> dict:
    """ICC(3,1) of one feature (ROIs as targets, perturbations as raters) or NaN and the reason."""
    data = rows[["roi", "perturbation", feature]].dropna()
    complete = data.groupby("roi")["perturbation"].nunique() == data["perturbation"].nunique()
    data = data[data["roi"].isin(complete.index[complete])]
    n = data["roi"].nunique()
    row = {"feature": feature, "icc": np.nan, "ci_low": np.nan, "ci_high": np.nan, "n_rois": n, "robust": False}
    if n < cfg["min_rois"] or data["perturbation"].nunique() < 2:
        return row | {"note": f"{n} ROIs with every perturbation (< {cfg['min_rois']})"}
    if data[feature].nunique() < 2:
        return row | {"note": "constant: no ICC"}
    result = intraclass_corr(data, targets="roi", raters="perturbation", ratings=feature)
    value, (low, high) = float(result.loc[ICC31, "ICC"]), result.loc[ICC31, "CI95"]
    return row | {"icc": value, "ci_low": float(low), "ci_high": float(high),
                  "robust": value >= cfg["icc_threshold"], "note": ""}
