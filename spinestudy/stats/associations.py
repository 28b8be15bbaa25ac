"""Kasch-style associations (Kasch et al., Spine 2022) of MRI findings with back-pain severity (NPRS 0-10).

Exposures: each finding of derived.FINDINGS present anywhere in L1-S1 (its per-patient count > 0), and the
number of distinct findings (1, 2, 3, 4, >=5 versus 0, one model). statsmodels OLS, adjusted for age and
sex: cross-sectionally (back NPRS before the procedure, all patients), and longitudinally where follow-up
exists (back NPRS after, adjusted also for NPRS before) separately for patients with and without baseline
pain (NPRS before >= settings baseline_pain, default 1). Complete cases; beta, 95% CI, p and n per row.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm

from spinestudy.tables.derived import FINDINGS, FLAG_SUMS

USES = {"nprs_back_before", "nprs_back_after", "age", "sex"}  # besides the derived findings
DEFAULTS = {"baseline_pain": 1, "confidence": 0.95, "min_cases": 10}
COUNT_LEVELS = ("1", "2", "3", "4", ">=5")
ANALYSES = {  # name: (outcome, extra covariates, stratum)
    "cross-sectional": ("nprs_back_before", [], "all"),
    "longitudinal, baseline pain": ("nprs_back_after", ["nprs_back_before"], "pain"),
    "longitudinal, no baseline pain": ("nprs_back_after", ["nprs_back_before"], "no pain"),
}
COLUMNS = ["analysis", "outcome", "exposure", "term", "beta", "ci_low", "ci_high", "p", "n", "n_exposed", "note"]


def write(analysis: Path, settings: dict, out: str | Path) -> None:
    """Write results/stats/associations.csv from the analysis table."""
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    table(pd.read_parquet(analysis), settings).to_csv(out, index=False)


def table(patients: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """One row per analysis, exposure and exposure term."""
    cfg = DEFAULTS | settings.get("associations", {})
    data = exposures(patients)
    baseline = data["nprs_back_before"]
    strata = {"all": baseline.notna(), "pain": baseline >= cfg["baseline_pain"],
              "no pain": baseline < cfg["baseline_pain"]}
    rows = []
    for name, (outcome, extra, stratum) in ANALYSES.items():
        part = data[strata[stratum].fillna(False).astype(bool)]
        for exposure in (*FINDINGS, "n_findings"):
            terms = [f"{exposure}={k}" for k in COUNT_LEVELS] if exposure == "n_findings" else [exposure]
            for row in regress(part, outcome, terms, ["age", "female", *extra], cfg):
                rows.append({"analysis": name, "outcome": outcome, "exposure": exposure, **row})
    return pd.DataFrame(rows, columns=COLUMNS).astype({"n": "int64", "n_exposed": "int64"})


def exposures(patients: pd.DataFrame) -> pd.DataFrame:
    """Numeric outcome, covariate and exposure columns (NaN = missing): findings 0/1, count dummies."""
    out = patients[["nprs_back_before", "nprs_back_after", "age"]].astype("Float64").astype(float)
    out["female"] = (patients["sex"] == "F").astype(float).where(patients["sex"].notna())
    for finding in FINDINGS:
        n = patients[FLAG_SUMS[finding]].astype("Float64").astype(float)
        out[finding] = (n > 0).astype(float).where(n.notna())
    count = patients["n_findings"].astype("Float64").astype(float)
    for k in COUNT_LEVELS:
        hit = count >= 5 if k == ">=5" else count == int(k)
        out[f"n_findings={k}"] = hit.astype(float).where(count.notna())
    return out


def regress(data: pd.DataFrame, outcome: str, terms: list[str], covariates: list[str], cfg: dict) -> list[dict]:
    """OLS of outcome on the exposure terms and covariates; one dict per term, with a note when not estimable."""
    complete = data[[outcome, *terms, *covariates]].dropna()
    n = len(complete)
    exposed = {t: int(complete[t].sum()) for t in terms}
    constant = [c for c in covariates if complete[c].nunique() < 2]  # e.g. NPRS before within 'no pain'
    x = complete[[t for t in terms if exposed[t]] + [c for c in covariates if c not in constant]]
    note = f"constant covariate dropped: {', '.join(constant)}" if constant and n else ""
    reason = (f"{n} complete cases" if n < cfg["min_cases"] or n <= x.shape[1] + 1
              else "no patient in the reference (finding absent / 0 findings)" if sum(exposed.values()) == n else "")
    if reason:
        return [_row(t, n, exposed[t], f"not estimable: {reason}") for t in terms]
    fit = sm.OLS(complete[outcome], sm.add_constant(x, has_constant="add")).fit()
    ci = fit.conf_int(alpha=1 - cfg["confidence"])
    return [_row(t, n, exposed[t], note, fit.params[t], *ci.loc[t], fit.pvalues[t]) if exposed[t]
            else _row(t, n, 0, f"not estimable: no patient with {t}") for t in terms]


def _row(term: str, n: int, exposed: int, note: str, beta=np.nan, low=np.nan, high=np.nan, p=np.nan) -> dict:
    return {"term": term, "beta": float(beta), "ci_low": float(low), "ci_high": float(high), "p": float(p),
            "n": n, "n_exposed": exposed, "note": note}
