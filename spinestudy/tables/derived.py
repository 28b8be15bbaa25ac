"""Derived variables of the analysis table: each defined once in DEFINITIONS, with its source.

"RuDDS" = Leonova, Elgaeva et al., Global Spine J 2025, doi:10.1177/21925682251373046 (Methods and
Figure 2). Per-level variables come from level_scores; patient sums from patient_scores. A patient
sum is missing unless all five levels are graded for it (no partial sums passed off as totals).
"""

import pandas as pd

from spinestudy.anatomy import ENDPLATES, LEVELS
from spinestudy.tables.schemas import KEY

MCID_THRESHOLD = 1.2  # RuDDS Methods, after Copay et al. 2008
SEVERE_TEP = 6  # RuDDS: "severe endplate defects (TEP score >= 6)"
SEVERE_PFIRRMANN = 4  # RuDDS: "severely degenerated discs with Pfirrmann grade >= 4"

DEFINITIONS = {
    "mcid": "back NPRS before - after >= threshold (default 1.2 points); missing unless both exist. "
    "RuDDS Methods (Copay et al. 2008)",
    "age_decade": "age band of the study file (derived age_decade; RuDDS: '10-19' .. '80-89', age in completed "
    "years); missing outside the bands. RuDDS Statistical Analysis and Figure 2",
    "tep": "per level: Rajasekaran grade of the upper + lower endplate (2-12). RuDDS Methods (TEP score)",
    "tep_total": "sum of the level TEP scores over L1-L2..L5-S1 (10-60). RuDDS Methods",
    "pfirrmann_sum": "sum of the Pfirrmann grades over the five levels (5-25). RuDDS Table 1/Table 2",
    "pfirrmann_ge4": "per level: Pfirrmann grade >= 4 (severe disc degeneration). RuDDS Figure 2",
    "modic_any": "per level: Modic change of any type at either endplate (or in a per-disc grading). "
    "RuDDS Figure 2",
    "modic_type1": "per level: Modic type 1 at either endplate or in a per-disc grading; likewise "
    "modic_type2, modic_type3. RuDDS Table 1 (types)",
    "jarosz": "per level: Jarosz disc height grade + osteophyte grade (0-6)",
    "jarosz_score": "sum of the level Jarosz values over the five levels (0-30). RuDDS Methods (Jarosz)",
    "endplate_defect": "per level: TEP score >= 6 or, where a source grades endplates only as "
    "present/absent (SPIDER), an endplate change at either endplate. RuDDS Figure 2",
    "height_reduction": "per level: Jarosz disc height grade >= 1, or binary disc narrowing (SPIDER)",
    "osteophytes_present": "per level: Jarosz osteophyte grade >= 1",
    "<flag>_n": "number of levels with a per-level flag (pfirrmann_ge4_n, modic_any_n, modic_type1_n.., "
    "endplate_defect_n, height_reduction_n, osteophytes_n)",
    "n_findings": "number of distinct MRI findings anywhere in L1-S1 among: disc degeneration "
    "(pfirrmann_ge4), Modic change (modic_any), endplate defect, disc height reduction, osteophytes "
    "(after Kasch et al.'s count of distinct degenerative findings); counts the findings a source "
    "grades, missing only if it grades none",
}
SOURCES = {"age", "nprs_back_before", "nprs_back_after", "pfirrmann", "jarosz_height", "osteophytes", "modic_disc",
           "disc_narrowing", "modic", "tep", "endplate_defect"}  # the study variables the definitions read
FINDINGS = ("pfirrmann_ge4", "modic_any", "endplate_defect", "height_reduction", "osteophytes_present")
FLAG_SUMS = {f: f"{f}_n" for f in FINDINGS} | {"osteophytes_present": "osteophytes_n"}
FLAG_SUMS |= {f"modic_type{k}": f"modic_type{k}_n" for k in (1, 2, 3)}
SCORE_SUMS = {"pfirrmann": "pfirrmann_sum", "tep": "tep_total", "jarosz": "jarosz_score"}


def mcid(before: pd.Series, after: pd.Series, threshold: float = MCID_THRESHOLD) -> pd.Series:
    """MCID of back pain reached (nullable boolean; see DEFINITIONS['mcid'])."""
    reached = (before.astype("Float64") - after.astype("Float64")) >= threshold
    return reached.astype("boolean").where(before.notna() & after.notna(), pd.NA)


def age_decade(age: pd.Series, bands: tuple[tuple[int, int], ...]) -> pd.Series:
    """Age band label '<lowest>-<highest>' of each age in completed years (bands: the study's); missing outside."""
    years = (age // 1).astype("Float64")
    label = pd.Series(pd.NA, index=age.index, dtype="string")
    for low, high in bands:
        label = label.mask(((years >= low) & (years <= high)).fillna(False), f"{low}-{high}")
    return label


def level_scores(levels: pd.DataFrame, endplates: pd.DataFrame) -> pd.DataFrame:
    """Per-level scores and finding flags from LevelGradings and EndplateGradings (one row per level)."""
    by_level = KEY + ["level"]
    disc, plate = levels.set_index(by_level), endplates.set_index(by_level)
    out = disc[["pfirrmann"]].copy()
    out["tep"] = plate["tep"].groupby(level=by_level).sum(min_count=len(ENDPLATES))
    out["jarosz"] = disc["jarosz_height"] + disc["osteophytes"]
    modic = pd.concat([plate["modic"], disc["modic_disc"]])
    out["modic_any"] = _any(modic > 0, by_level)
    for k in (1, 2, 3):
        out[f"modic_type{k}"] = _any(modic == k, by_level)
    out["pfirrmann_ge4"] = out["pfirrmann"] >= SEVERE_PFIRRMANN
    out["endplate_defect"] = _any(pd.concat([out["tep"] >= SEVERE_TEP, plate["endplate_defect"]]), by_level)
    out["height_reduction"] = _any(pd.concat([disc["jarosz_height"] >= 1, disc["disc_narrowing"]]), by_level)
    out["osteophytes_present"] = disc["osteophytes"] >= 1
    return out.reset_index().sort_values(by_level, kind="stable").reset_index(drop=True)


def patient_scores(levels: pd.DataFrame) -> pd.DataFrame:
    """Per-patient sums of level_scores (see DEFINITIONS) and n_findings; one row per patient."""
    flags = levels[list(FLAG_SUMS)].astype("Int64")
    per_patient = pd.concat([levels[KEY + list(SCORE_SUMS)], flags], axis=1).groupby(KEY, sort=True)
    out = per_patient.sum(min_count=len(LEVELS)).rename(columns=SCORE_SUMS | FLAG_SUMS)
    present = per_patient[list(FINDINGS)].max()  # per finding: 1 anywhere, 0 nowhere, NA never graded
    out["n_findings"] = present.sum(axis=1, min_count=1).astype("Int64")
    return out.astype("Int64").reset_index()


def _any(flags: pd.Series, by: list[str]) -> pd.Series:
    """Per group: True if any flag is True, False if all known flags are False, NA if none known."""
    return flags.astype("boolean").astype("Int8").groupby(level=by, sort=True).max().astype("boolean")
