"""Correlation of LASSO-selected and morphological lesion features with ODI, back NPRS and age (the Modic
radiomics paper's section 3.3), one value per patient, limited to the configured Modic types (the paper
left out type III with one patient). Spearman and Pearson (scipy); p-values adjusted over all features and
outcomes of a method (statsmodels, Benjamini-Hochberg by default). The long table is the heatmap's data
(without radiomics features: one row, not applicable).
"""

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from spinestudy import applicable
from spinestudy.radiomics_stats.shape import DEFAULTS as SHAPE
from spinestudy.radiomics_stats.shape import lesions, not_applicable, shape_columns
from spinestudy.stats.posthoc import adjust

DEFAULTS = {"outcomes": ["odi_before", "nprs_back_before", "age"], "modic_types": [1, 2],
            "methods": ["spearman", "pearson"], "aggregate": "largest", "p_adjust": "fdr_bh", "min_patients": 5}
TESTS = {"spearman": stats.spearmanr, "pearson": stats.pearsonr}
COLUMNS = ["feature", "kind", "outcome", "method", "n", "r", "p", "p_adjusted", "p_adjust", "note"]


def write(features: Path, gradings: Path, analysis: Path, lasso: Path, settings: dict, out: Path) -> None:
    """Write correlations.csv."""
    rows, _ = lesions(pd.read_parquet(features), pd.read_parquet(gradings))
    selected = pd.read_csv(lasso)["feature"].drop_duplicates().tolist()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    table(rows, pd.read_parquet(analysis), selected, settings).to_csv(out, index=False)


def per_patient(rows: pd.DataFrame, columns: list[str], cfg: dict, size: str) -> pd.DataFrame:
    """One row per patient: the features of its largest lesion (by `size`), or the mean over its lesions."""
    part = rows[rows["modic"].isin(cfg["modic_types"])]
    if cfg["aggregate"] == "mean":
        return part.groupby(["centre", "patient"])[columns].mean().reset_index()
    largest = part.sort_values(size, ascending=False, kind="stable").groupby(["centre", "patient"]).head(1)
    return largest[["centre", "patient", *columns]].reset_index(drop=True)


def table(rows: pd.DataFrame, patients: pd.DataFrame, selected: list[str], settings: dict) -> pd.DataFrame:
    """One row per feature, outcome and method."""
    if reason := not_applicable(rows):
        return applicable.frame(COLUMNS, reason)
    cfg = DEFAULTS | settings.get("correlations", {})
    shape = SHAPE | settings.get("shape", {})
    morphological = shape_columns(rows, shape)
    kinds = {f: "morphological" for f in morphological} | {f: "selected" for f in selected if f in rows}
    size = f"{shape['sequence']}_{shape['image_type']}_shape_VoxelVolume"
    data = per_patient(rows, list(kinds), cfg, size).merge(patients, on=["centre", "patient"], how="left")
    out = []
    for method in cfg["methods"]:
        frame = pd.DataFrame([correlate(data, f, kind, o, method, cfg) for f, kind in kinds.items()
                              for o in cfg["outcomes"]], columns=COLUMNS)
        tested = frame["p"].notna()
        frame.loc[tested, "p_adjusted"] = adjust(frame.loc[tested, "p"], cfg["p_adjust"])
        out.append(frame.assign(p_adjust=cfg["p_adjust"]))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=COLUMNS)


def correlate(data: pd.DataFrame, feature: str, kind: str, outcome: str, method: str, cfg: dict) -> dict:
    """r and p of one feature with one outcome over complete patients, or NaN and the reason."""
    pair = data[[feature, outcome]].apply(pd.to_numeric, errors="coerce").dropna()
    row = {"feature": feature, "kind": kind, "outcome": outcome, "method": method, "n": len(pair),
           "r": np.nan, "p": np.nan, "p_adjusted": np.nan, "note": ""}
    if len(pair) < cfg["min_patients"]:
        return row | {"note": f"{len(pair)} patients with both values (< {cfg['min_patients']})"}
    if pair.nunique().min() < 2:
        return row | {"note": "constant over patients: no correlation"}
    result = TESTS[method](pair[feature], pair[outcome])
    return row | {"r": float(result.statistic), "p": float(result.pvalue)}
