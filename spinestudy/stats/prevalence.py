"""Prevalence of findings by age band and lumbar level (RuDDS Figure 2): each finding the study file names
(analyses prevalence findings: per-level binary variables; RuDDS: Pfirrmann grade >= 4, Modic change of any type,
TEP score >= 6) as n/total of the graded discs with a Wilson interval (statsmodels proportion_confint). The bands
are the study's age bands (analyses prevalence by; the column keeps the name age_decade); the discs of patients
outside them are left out and counted in every row's note."""

from pathlib import Path

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from spinestudy.anatomy import LEVELS
from spinestudy.stats import table1
from spinestudy.tables.schemas import KEY
from spinestudy import study as studies

DEFAULTS = {"confidence": 0.95}
COLUMNS = ["finding", "label", "age_decade", "level", "n", "total", "prevalence", "ci_low", "ci_high", "note"]


def write(analysis: Path, gradings: Path, study: Path, settings: dict, out: str | Path) -> None:
    """Write results/stats/prevalence_by_decade.csv."""
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    table(*table1.read(analysis, gradings), settings, studies.load(study)).to_csv(out, index=False)


def table(patients: pd.DataFrame, gradings: pd.DataFrame, settings: dict, study: studies.Study) -> pd.DataFrame:
    """One row per finding, age band of the study (RuDDS: 10-19 .. 80-89) and level, every combination present;
    patients outside the bands have no decade, are left out and counted in the notes."""
    spec = study.analyses["prevalence"]
    findings = {item["name"]: label(study, item["name"]) for item in spec["findings"]}
    levels = table1.graded(patients, gradings, bands=spec["by"])
    cfg = DEFAULTS | settings.get("prevalence", {})
    flags = levels[["age_decade", "level", *findings]].astype({f: "boolean" for f in findings}).melt(
        id_vars=["age_decade", "level"], var_name="finding", value_name="flag").dropna(subset=["flag"])
    counts = flags.assign(flag=flags["flag"].astype(int)).groupby(["finding", "age_decade", "level"])["flag"].agg(
        n="sum", total="size")
    grid = pd.MultiIndex.from_product([list(findings), study.age_band_labels, LEVELS], names=counts.index.names)
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
    out["label"] = out["finding"].map(findings)
    return out[COLUMNS].astype({"n": "int64", "total": "int64"})


def titles(study: studies.Study) -> dict[str, str]:
    """Finding -> its heading in Figure 2 and the manuscript table: its `title`, else its label with ≥ and ≤."""
    return {item["name"]: item.get("title") or label(study, item["name"]).replace(">=", "≥").replace("<=", "≤")
            for item in study.analyses["prevalence"]["findings"]}


def label(study: studies.Study, name: str) -> str:
    """The label of a study or derived variable."""
    return (study.variables.get(name) or study.derived[name]).label
