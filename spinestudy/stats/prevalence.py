"""Prevalence of severe findings by age decade and lumbar level (RuDDS Figure 2): Pfirrmann grade >= 4,
Modic change of any type, TEP score >= 6, each as n/total of the graded discs with a Wilson interval
(statsmodels proportion_confint). Age decades are the study file's age bands (derived age_decade); the discs of
patients outside them are left out and counted in every row's note."""

from pathlib import Path

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from spinestudy.anatomy import LEVELS
from spinestudy.stats import table1
from spinestudy.tables.schemas import KEY
from spinestudy.tables.derived import SEVERE_TEP
from spinestudy import study as studies

DEFAULTS = {"confidence": 0.95}
FINDINGS = {
    "pfirrmann_ge4": "Pfirrmann grade >= 4",
    "modic_any": "Modic change of any type",
    "tep_ge6": f"TEP score >= {SEVERE_TEP}",
}
COLUMNS = ["finding", "label", "age_decade", "level", "n", "total", "prevalence", "ci_low", "ci_high", "note"]


def write(analysis: Path, gradings: Path, study: Path, settings: dict, out: str | Path) -> None:
    """Write results/stats/prevalence_by_decade.csv."""
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    table(*table1.read(analysis, gradings), settings, studies.load(study)).to_csv(out, index=False)


def table(patients: pd.DataFrame, gradings: pd.DataFrame, settings: dict, study: studies.Study) -> pd.DataFrame:
    """One row per finding, age band of the study (RuDDS: 10-19 .. 80-89) and level, every combination present;
    patients outside the bands have no decade, are left out and counted in the notes."""
    levels = table1.graded(patients, gradings)
    cfg = DEFAULTS | settings.get("prevalence", {})
    flags = pd.DataFrame({
        "age_decade": levels["age_decade"], "level": levels["level"],
        "pfirrmann_ge4": levels["pfirrmann_ge4"], "modic_any": levels["modic_any"],
        "tep_ge6": (levels["tep"] >= SEVERE_TEP).astype("boolean"),
    }).melt(id_vars=["age_decade", "level"], var_name="finding", value_name="flag").dropna(subset=["flag"])
    counts = flags.assign(flag=flags["flag"].astype(int)).groupby(["finding", "age_decade", "level"])["flag"].agg(
        n="sum", total="size")
    grid = pd.MultiIndex.from_product([list(FINDINGS), study.age_band_labels, LEVELS], names=counts.index.names)
    out = counts.reindex(grid, fill_value=0).reset_index()
    has = out["total"] > 0
    out["prevalence"] = np.where(has, out["n"] / out["total"].where(has, 1), np.nan)
    low, high = proportion_confint(out["n"], out["total"].where(has, 1), alpha=1 - cfg["confidence"],
                                   method="wilson")
    out["ci_low"], out["ci_high"] = np.where(has, np.clip(low, 0, 1), np.nan), np.where(has, np.clip(high, 0, 1), np.nan)
    out["note"] = np.where(has, "", "no graded discs in this age decade and level")
    outside = levels.loc[levels["age_decade"].isna(), KEY].drop_duplicates()
    if len(outside):
        bands = study.age_bands
        left = (f"left out: {len(outside)} patient(s) ({(levels['age_decade'].isna()).sum()} graded discs) aged "
                f"outside {bands[0][0]}-{bands[-1][1]} years (no age decade)" if bands else "no age bands in the study")
        out["note"] = [f"{note}; {left}" if note else left for note in out["note"]]
    out["label"] = out["finding"].map(FINDINGS)
    return out[COLUMNS].astype({"n": "int64", "total": "int64"})
