"""Prevalence of severe findings by age decade and lumbar level (RuDDS Figure 2): Pfirrmann grade >= 4,
Modic change of any type, TEP score >= 6, each as n/total of the graded discs with a Wilson interval
(statsmodels proportion_confint). Age decades come from the analysis table (derived.age_decade)."""

from pathlib import Path

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from spinestudy.anatomy import LEVELS
from spinestudy.stats import table1
from spinestudy.tables.derived import SEVERE_TEP
from spinestudy.tables.schemas import AGE_DECADES

DEFAULTS = {"confidence": 0.95}
FINDINGS = {
    "pfirrmann_ge4": "Pfirrmann grade >= 4",
    "modic_any": "Modic change of any type",
    "tep_ge6": f"TEP score >= {SEVERE_TEP}",
}
COLUMNS = ["finding", "label", "age_decade", "level", "n", "total", "prevalence", "ci_low", "ci_high", "note"]


def write(analysis: Path, gradings: Path, settings: dict, out: str | Path) -> None:
    """Write results/stats/prevalence_by_decade.csv."""
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    table(*table1.read(analysis, gradings), settings).to_csv(out, index=False)


def table(patients: pd.DataFrame, gradings: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """One row per finding, age decade (10-19 .. 80-89) and level, every combination present; patients
    outside 10-89 years have no decade and are left out."""
    levels = table1.graded(patients, gradings)
    cfg = DEFAULTS | settings.get("prevalence", {})
    flags = pd.DataFrame({
        "age_decade": levels["age_decade"], "level": levels["level"],
        "pfirrmann_ge4": levels["pfirrmann_ge4"], "modic_any": levels["modic_any"],
        "tep_ge6": (levels["tep"] >= SEVERE_TEP).astype("boolean"),
    }).melt(id_vars=["age_decade", "level"], var_name="finding", value_name="flag").dropna(subset=["flag"])
    counts = flags.assign(flag=flags["flag"].astype(int)).groupby(["finding", "age_decade", "level"])["flag"].agg(
        n="sum", total="size")
    grid = pd.MultiIndex.from_product([list(FINDINGS), AGE_DECADES, LEVELS], names=counts.index.names)
    out = counts.reindex(grid, fill_value=0).reset_index()
    has = out["total"] > 0
    out["prevalence"] = np.where(has, out["n"] / out["total"].where(has, 1), np.nan)
    low, high = proportion_confint(out["n"], out["total"].where(has, 1), alpha=1 - cfg["confidence"],
                                   method="wilson")
    out["ci_low"], out["ci_high"] = np.where(has, np.clip(low, 0, 1), np.nan), np.where(has, np.clip(high, 0, 1), np.nan)
    out["note"] = np.where(has, "", "no graded discs in this age decade and level")
    out["label"] = out["finding"].map(FINDINGS)
    return out[COLUMNS].astype({"n": "int64", "total": "int64"})
