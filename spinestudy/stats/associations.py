"""Kasch-style associations (Kasch et al., Spine 2022) of MRI findings with pain severity.

The study file names the outcome, a repeated measure (analyses associations measure; RuDDS: back NPRS 0-10),
the adjustment (adjust; RuDDS: age and female sex) and the number of findings (findings: a derived variable of op
findings). Exposures: each of its findings present anywhere in L1-S1 (its count over the levels > 0, missing
unless every level is graded), and the number of distinct findings (1, 2, .., top - 1, >= top versus 0, one
model; RuDDS: 1, 2, 3, 4, >=5). statsmodels OLS: cross-sectionally (the measure at the baseline, all patients),
and longitudinally at each follow-up (adjusted also for the baseline) separately for patients with and without
baseline pain (baseline >= settings baseline_pain, default 1). Complete cases; beta, 95% CI, p and n per row.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm

from spinestudy import study as studies

DEFAULTS = {"baseline_pain": 1, "confidence": 0.95, "min_cases": 10}
COLUMNS = ["analysis", "outcome", "exposure", "term", "beta", "ci_low", "ci_high", "p", "n", "n_exposed", "note"]


def write(analysis: Path, study: Path, settings: dict, out: str | Path) -> None:
    """Write results/stats/associations.csv from the analysis table."""
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    table(pd.read_parquet(analysis), settings, studies.load(study)).to_csv(out, index=False)


def analyses(study: studies.Study) -> dict[str, tuple[str, list[str], str]]:
    """name -> (outcome, extra covariates, stratum): the measure at the baseline cross-sectionally, at each
    follow-up longitudinally (adjusted for the baseline) with and without baseline pain."""
    measure = study.analyses["associations"]["measure"]
    at = {v.time_point: v.name for v in study.variables.values() if v.measure == measure}
    baseline, follow_ups = at[study.time_points[0]], [t for t in study.time_points[1:] if t in at]
    found = {"cross-sectional": (baseline, [], "all")}
    for time in follow_ups:
        when = f" ({time})" if len(follow_ups) > 1 else ""
        found[f"longitudinal{when}, baseline pain"] = (at[time], [baseline], "pain")
        found[f"longitudinal{when}, no baseline pain"] = (at[time], [baseline], "no pain")
    return found


def uses(study: studies.Study) -> set[str]:
    """The study variables the associations read (besides the derived findings)."""
    spec = study.analyses.get("associations")
    if not spec:
        return set()
    adjust = {a["variable"] for a in spec["adjust"]}
    return {v.name for v in study.variables.values() if v.measure == spec["measure"]} | adjust


def table(patients: pd.DataFrame, settings: dict, study: studies.Study) -> pd.DataFrame:
    """One row per analysis, exposure and exposure term."""
    cfg = DEFAULTS | settings.get("associations", {})
    found = analyses(study)
    data = exposures(patients, study)
    number = study.derived[study.analyses["associations"]["findings"]]
    baseline = data[found["cross-sectional"][0]]
    adjust = [a["name"] for a in study.analyses["associations"]["adjust"]]
    strata = {"all": baseline.notna(), "pain": baseline >= cfg["baseline_pain"],
              "no pain": baseline < cfg["baseline_pain"]}
    rows = []
    for name, (outcome, extra, stratum) in found.items():
        part = data[strata[stratum].fillna(False).astype(bool)]
        for exposure in (*number.of, number.name):
            terms = [f"{number.name}={k}" for k in categories(number)] if exposure == number.name else [exposure]
            for row in regress(part, outcome, terms, [*adjust, *extra], cfg):
                rows.append({"analysis": name, "outcome": outcome, "exposure": exposure, **row})
    return pd.DataFrame(rows, columns=COLUMNS).astype({"n": "int64", "n_exposed": "int64"})


def exposures(patients: pd.DataFrame, study: studies.Study) -> pd.DataFrame:
    """Numeric outcome, covariate and exposure columns (NaN = missing): the measure at every time point, the
    adjustment (a variable's level as 0/1 under its name), findings 0/1, count dummies."""
    spec = study.analyses["associations"]
    measured = [v.name for v in study.variables.values() if v.measure == spec["measure"]]
    numeric = [a["name"] for a in spec["adjust"] if "level" not in a]
    out = patients[[*measured, *numeric]].astype("Float64").astype(float)
    for level in (a for a in spec["adjust"] if "level" in a):
        values = patients[level["variable"]]
        out[level["name"]] = (values == level["level"]).astype(float).where(values.notna())
    number = study.derived[spec["findings"]]
    for finding in number.of:
        n = patients[study.count_of(finding).name].astype("Float64").astype(float)
        out[finding] = (n > 0).astype(float).where(n.notna())
    count = patients[number.name].astype("Float64").astype(float)
    top = number.spec.get("top")
    for k in categories(number):
        hit = count >= top if k == f">={top}" else count == int(k)
        out[f"{number.name}={k}"] = hit.astype(float).where(count.notna())
    return out


def categories(number: studies.Derived) -> list[str]:
    """The exposure categories of a number of findings besides the reference 0: 1 .. top - 1 and '>=top' (without
    top: 1 .. the number of findings)."""
    top = number.spec.get("top")
    return [str(k) for k in range(1, top)] + [f">={top}"] if top else [str(k) for k in range(1, len(number.of) + 1)]


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
