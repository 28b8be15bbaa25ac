"""Modic lesion shape by Modic type (the Modic radiomics paper's Tables 1 and 2).

A lesion ROI's Modic type is the grading of its endplate (structure -> level and endplate via the label
table). Table 1: per shape feature of one sequence's lesion ROI, mean (SD) per type, a '*' where
Shapiro-Wilk does not reject normality within the type (p >= normality_alpha), and the Kruskal-Wallis
p-value (scipy). Table 2: Dunn's pairwise p-values (scikit-posthocs, tie-corrected) for every feature
significant in the Kruskal-Wallis test, adjusted over the pairs of each feature (statsmodels).
Types with fewer than `min_lesions` lesions are left out of the tests, with a note on every row. Without
radiomics features (no centre sends images) both tables hold one row: not applicable (spinestudy.applicable).
"""

import warnings
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import scikit_posthocs as sp
from scipy import stats

from spinestudy import applicable
from spinestudy.anatomy import ENDPLATES, LEVELS, label_table, modic_label
from spinestudy.radiomics.feature_names import feature_columns
from spinestudy.stats.posthoc import adjust

DEFAULTS = {"sequence": "T2", "image_type": "original", "alpha": 0.05, "normality_alpha": 0.05,
            "p_adjust": "bonferroni"}
MODIC_TYPES = (1, 2, 3)
ROMAN = {1: "I", 2: "II", 3: "III"}
KEYS = ["centre", "patient", "label", "structure"]
PER_TYPE = ("n", "mean", "sd", "shapiro_p", "normal", "cell")
SHAPE_COLUMNS = ["feature", "column", "kw_h", "kw_p", "significant", "note"]  # and the per-type columns
DUNN_COLUMNS = ["feature", "group1", "group2", "n1", "n2", "p", "p_adjusted", "p_adjust", "significant", "note"]
LESION_SITES = {label_table()[modic_label(level, ep)]: (level, ep) for level in LEVELS for ep in ENDPLATES}


def write(features: Path, gradings: Path, settings: dict, out_shape: Path, out_dunn: Path) -> None:
    """Write shape_by_modic.csv (Table 1) and dunn.csv (Table 2)."""
    lesion_rows, _ = lesions(pd.read_parquet(features), pd.read_parquet(gradings))
    shape = shape_table(lesion_rows, settings)
    Path(out_shape).parent.mkdir(parents=True, exist_ok=True)
    shape.to_csv(out_shape, index=False)
    dunn_table(lesion_rows, shape, settings).to_csv(out_dunn, index=False)


def lesions(features: pd.DataFrame, gradings: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Modic lesion rows of the feature table with their graded type (`modic`, 1-3), sorted; and notes on
    lesion ROIs left out (endplate graded 0 or not graded). A `modic` column already present (the
    harmonised lesion table) is replaced by the grading."""
    site = features["structure"].map(LESION_SITES)
    rows = features[site.notna()].drop(columns="modic", errors="ignore")
    rows["level"], rows["endplate"] = zip(*site.dropna()) if len(rows) else ([], [])
    graded = gradings.melt(id_vars=["patient", "level"], value_vars=["modic_upper", "modic_lower"],
                           var_name="endplate", value_name="modic")
    graded["endplate"] = graded["endplate"].str.removeprefix("modic_")
    rows = rows.merge(graded, on=["patient", "level", "endplate"], how="left")
    modic = pd.to_numeric(rows["modic"], errors="coerce")
    kept = modic.isin(MODIC_TYPES)
    notes = [f"{int((~kept).sum())} lesion ROI(s) left out: endplate graded Modic 0 or not graded"] if (~kept).any() else []
    rows = rows[kept].assign(modic=modic[kept].astype(int)).drop(columns=["level", "endplate"])
    return rows.sort_values(KEYS, kind="stable").reset_index(drop=True), notes


def not_applicable(features: pd.DataFrame) -> str:
    """The not-applicable note of every lesion statistic when the feature table holds no radiomics feature
    (nothing was extracted), else ''."""
    return "" if feature_columns(features) else applicable.NO_FEATURES


def shape_columns(frame: pd.DataFrame, cfg: dict) -> list[str]:
    """The shape feature columns of the configured sequence and image type."""
    return [c for c in frame.columns if c.startswith(f"{cfg['sequence']}_{cfg['image_type']}_shape_")]


def by_type(rows: pd.DataFrame, column: str, types) -> dict[int, np.ndarray]:
    """Non-missing values of one feature per Modic type."""
    return {t: rows.loc[rows["modic"] == t, column].dropna().to_numpy(float) for t in types}


def tested_types(values: dict[int, np.ndarray], min_lesions: int) -> tuple[dict[int, np.ndarray], list[str]]:
    """The types with at least `min_lesions` values, and notes on the types left out."""
    small = [f"type {ROMAN[t]}: {len(v)} lesion(s) (< {min_lesions}), left out of the tests"
             for t, v in values.items() if len(v) < min_lesions]
    return {t: v for t, v in values.items() if len(v) >= min_lesions}, small


def shape_table(rows: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """Table 1: one row per shape feature; per type n, mean, sd, Shapiro-Wilk p, normal, 'mean (SD)*' cell."""
    cfg = DEFAULTS | settings.get("shape", {})
    types, min_lesions = settings.get("modic_types", MODIC_TYPES), settings.get("min_lesions", 2)
    columns = shape_columns(rows, cfg)
    if reason := not_applicable(rows):
        return applicable.frame(SHAPE_COLUMNS, reason)
    if not columns:
        raise ValueError(f"no {cfg['sequence']}_{cfg['image_type']}_shape_* columns in the feature table")
    out = []
    for column in columns:
        values = by_type(rows, column, types)
        row = {"feature": column.split("_shape_", 1)[1], "column": column}
        for t, v in values.items():
            row |= describe(v, cfg["normality_alpha"], f"_{ROMAN[t]}")
        constant = [f"constant within type {ROMAN[t]}" for t, v in values.items() if len(v) > 1 and np.ptp(v) == 0]
        tested, small = tested_types(values, min_lesions)
        row["kw_h"], row["kw_p"], reason = kruskal(tested)
        row["significant"] = bool(row["kw_p"] < cfg["alpha"])
        notes = [*small, *constant, reason] if len(rows) else ["no Modic lesion with a graded type"]
        row["note"] = "; ".join(n for n in notes if n)
        out.append(row)
    return pd.DataFrame(out)


def describe(values: np.ndarray, normality_alpha: float, suffix: str) -> dict:
    """n, mean, SD, Shapiro-Wilk p, normality flag and the 'mean (SD)*' cell of one type's values."""
    n = len(values)
    mean = float(values.mean()) if n else np.nan
    sd = float(values.std(ddof=1)) if n > 1 else np.nan
    shapiro = float(stats.shapiro(values).pvalue) if n >= 3 and np.ptp(values) > 0 else np.nan
    normal = bool(shapiro >= normality_alpha) if np.isfinite(shapiro) else pd.NA
    cell = f"{mean:.3f} ({sd:.3f}){'*' if normal is True else ''}" if n > 1 else (f"{mean:.3f}" if n else "")
    return dict(zip((k + suffix for k in PER_TYPE), (n, mean, sd, shapiro, normal, cell)))


def kruskal(tested: dict[int, np.ndarray]) -> tuple[float, float, str]:
    """Kruskal-Wallis H and p over the tested types, or NaN and the reason."""
    if len(tested) < 2:
        return np.nan, np.nan, "Kruskal-Wallis not computed: fewer than two Modic types with enough lesions"
    if np.ptp(np.concatenate(list(tested.values()))) == 0:
        return np.nan, np.nan, "Kruskal-Wallis not computed: the feature is constant across lesions"
    result = stats.kruskal(*tested.values())
    return float(result.statistic), float(result.pvalue), ""


def dunn_table(rows: pd.DataFrame, shape: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """Table 2: Dunn's test for each feature significant in Table 1, one row per pair of tested types."""
    cfg = DEFAULTS | settings.get("shape", {})
    types, min_lesions = settings.get("modic_types", MODIC_TYPES), settings.get("min_lesions", 2)
    if applicable.note(shape):
        return applicable.frame(DUNN_COLUMNS, applicable.note(shape))
    frames = []
    for feature in shape.loc[shape["significant"], "column"]:
        tested, _ = tested_types(by_type(rows, feature, types), min_lesions)
        data = pd.DataFrame({"value": np.concatenate(list(tested.values())),
                             "group": np.repeat(list(tested), [len(v) for v in tested.values()])})
        with warnings.catch_warnings():  # scikit-posthocs' own pandas FutureWarnings
            warnings.simplefilter("ignore", FutureWarning)
            raw = sp.posthoc_dunn(data, val_col="value", group_col="group")
        pairs = pd.DataFrame([{"feature": feature.split("_shape_", 1)[1], "group1": ROMAN[a], "group2": ROMAN[b],
                               "n1": len(tested[a]), "n2": len(tested[b]), "p": float(raw.loc[a, b]), "note": ""}
                              for a, b in combinations(tested, 2)])
        pairs["p_adjusted"] = adjust(pairs["p"], cfg["p_adjust"])
        frames.append(pairs.assign(p_adjust=cfg["p_adjust"], significant=pairs["p_adjusted"] < cfg["alpha"]))
    return pd.concat(frames, ignore_index=True)[DUNN_COLUMNS] if frames else pd.DataFrame(columns=DUNN_COLUMNS)
