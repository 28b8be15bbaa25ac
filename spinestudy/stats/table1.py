"""Table 1: the total sample and the groups of the study's grouping variable (RuDDS: the leading syndromes), with
one group test per row. The rows and their order come from the study file (analyses table1 rows).

Summaries: continuous -> median [Q1; Q3] (numpy's linear quantiles = R's type 7); binary -> % (n/total)
with the non-missing denominator; graded -> % (n/total) per grade with discs (Pfirrmann) or endplates
(Modic types, endplate defect grades) as units, as RuDDS Table 1 does.

Tests (RuDDS Statistical Analysis): a continuous variable is Yeo-Johnson transformed (scipy, lambda by
maximum likelihood; Box-Cox when settings say so and all values are positive); if the within-group
residuals pass a normality check (Shapiro-Wilk up to 5000 values, D'Agostino-Pearson above, where
Shapiro-Wilk p-values are unreliable) and Levene's test (median-centred) finds equal variances, a
one-way ANOVA on the transformed values ("A"), otherwise Kruskal-Wallis ("K"). Binary and graded
variables use settings["binary_test"]: kruskal ("K", as RuDDS), chi2 (chi-squared on the group x value
table) or fisher (exact for 2 x 2; for larger tables scipy's fisher_exact only resamples, so Monte Carlo
with a fixed seed). Disc and endplate units are tested as independent observations, as RuDDS did.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from spinestudy import study as studies
from spinestudy.anatomy import ENDPLATES
from spinestudy.tables.schemas import KEY

DEFAULTS = {
    "alpha": 0.003,  # RuDDS: common significance threshold P < 0.003
    "binary_test": "kruskal",  # kruskal | chi2 | fisher
    "transform": "yeo-johnson",  # yeo-johnson | box-cox
    "normality_alpha": 0.05,
    "levene_alpha": 0.05,
    "fisher_resamples": 9999,
    "seed": 1,
}
BINARY_TESTS = ("kruskal", "chi2", "fisher")
TOTAL = "Total"
SUMMARIES = {"median": ("continuous", ", med [IQR]"), "share": ("binary", ", % (n/total)"), "grades": ("graded", "")}
UNITS = {"patient": "patients", "level": "discs", "endplate": "endplates"}
SHAPIRO_MAX = 5000  # scipy: Shapiro-Wilk p-values may be inaccurate above 5000 values
@dataclass(frozen=True)
class Variable:
    """One Table 1 variable: a value per unit (patient, disc or endplate; NA = missing) and its group."""

    name: str
    label: str
    kind: str  # continuous | binary | graded
    unit: str  # patients | discs | endplates
    data: pd.DataFrame  # columns: value (float, NaN = missing), group (level of the grouping variable)
    groups: tuple  # the grouping variable's levels, in the study's order


@dataclass(frozen=True)
class Result:
    """A group test: p-value (NaN when not testable, with the reason in note), mark and detail."""

    p: float
    test: str  # A | K | chi2 | Fisher | Fisher (Monte Carlo) | none
    detail: str
    note: str = ""
    transformed: pd.Series | None = None  # the transformed values behind an ANOVA


def write(analysis: Path, gradings: Path, study: Path, settings: dict, out: str | Path) -> None:
    """Write Table 1 (results/stats/table1.csv) from the analysis and gradings tables."""
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    table(*read(analysis, gradings), settings, studies.load(study)).to_csv(out, index=False)


def read(analysis: Path, gradings: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The analysis table and the gradings table (gradings_long.parquet)."""
    return pd.read_parquet(analysis), pd.read_parquet(gradings)


def graded(patients: pd.DataFrame, gradings: pd.DataFrame, group: str | None = None,
           bands: str | None = None) -> pd.DataFrame:
    """The gradings of the analysed patients with (`group`) their grouping variable and (`bands`) their age band
    as column age_decade."""
    extra = patients[KEY + [c for c in (group, bands) if c]].rename(columns={bands: "age_decade"} if bands else {})
    return gradings.merge(extra, on=KEY, how="inner")


def columns(study: studies.Study) -> list[str]:
    """Table 1's columns: the total and one per level of the study's grouping variable."""
    return ["variable", "characteristic", "unit", "n", TOTAL, *groups(study), "P-value", "Test", "test_detail",
            "significant", "note"]


def groups(study: studies.Study) -> tuple:
    """The levels of the study's Table 1 grouping variable (none: the total only)."""
    return study.group.levels if study.group else ()


def settings_with_defaults(settings: dict) -> dict:
    """Settings over DEFAULTS, with the choices checked."""
    merged = DEFAULTS | {k: v for k, v in settings.items() if k in DEFAULTS}
    if merged["binary_test"] not in BINARY_TESTS:
        raise ValueError(f"binary_test must be one of {BINARY_TESTS}, not {merged['binary_test']!r}")
    return merged


def table(patients: pd.DataFrame, gradings: pd.DataFrame, settings: dict, study: studies.Study) -> pd.DataFrame:
    """Table 1: one row per characteristic (per grade for graded variables), in the study file's order."""
    settings = settings_with_defaults(settings)
    rows = []
    for var in variables(patients, gradings, study):
        result = test(var, settings)
        for i, (label, cells, n, note) in enumerate(summaries(var)):
            first = i == 0
            rows.append({
                "variable": var.name, "characteristic": label, "unit": var.unit, "n": n, **cells,
                "P-value": result.p if first else np.nan, "Test": result.test if first else "",
                "test_detail": result.detail if first else "",
                "significant": bool(result.p < settings["alpha"]) if first and np.isfinite(result.p) else pd.NA,
                "note": "; ".join(filter(None, [note, result.note if first else ""])),
            })
    return pd.DataFrame(rows, columns=columns(study)).astype({"n": "Int64", "significant": "boolean"})


def variables(patients: pd.DataFrame, gradings: pd.DataFrame, study: studies.Study) -> list[Variable]:
    """The study's Table 1 rows (analyses table1 rows) as Variables: values per unit with their group."""
    group = study.group.name if study.group else None
    levels = graded(patients, gradings, group)
    found = []
    for row in study.analyses["table1"]["rows"]:
        name = row["variable"]
        source = study.variables.get(name)
        per = source.per if source else "patient"
        summary = row.get("summary") or _summary(source, row)
        unit = f", {source.unit}" if source and source.unit and summary == "median" else ""
        if per == "patient":
            values, by = patients[name], patients[group] if group else None
        elif per == "level":
            values, by = levels[name], levels[group] if group else None
        else:
            values = pd.concat([levels[f"{name}_{side}"] for side in ENDPLATES], ignore_index=True)
            by = pd.concat([levels[group]] * len(ENDPLATES), ignore_index=True) if group else None
        if "level" in row:
            values = (values == row["level"]).astype("boolean").where(values.notna())
        kind, suffix = SUMMARIES[summary]
        label = (row.get("label") or source.label) + unit + suffix
        found.append(Variable(row["name"], label, kind, UNITS[per], _frame(values, by), groups(study)))
    return found


def _summary(source: studies.Variable, row: dict) -> str:
    """A row's summary by its variable's kind: a level's share, a binary share, grades, else the median (a row of
    a derived variable names its summary: the study file's check makes sure)."""
    if "level" in row or source.kind == "binary":
        return "share"
    return "grades" if source.kind == "grade" else "median"


def _frame(values: pd.Series, groups: pd.Series | None) -> pd.DataFrame:
    """A Variable's data: numeric values (NaN = missing) and their groups (None without a grouping variable)."""
    return pd.DataFrame({"value": pd.to_numeric(values, errors="coerce").astype("Float64").astype(float).to_numpy(),
                         "group": groups.to_numpy() if groups is not None else None})


def summaries(var: Variable) -> list[tuple[str, dict, int, str]]:
    """(characteristic, {column: cell}, non-missing n, note) per output row of a variable."""
    data = var.data
    parts = {TOTAL: data} | {g: data[data["group"] == g] for g in var.groups}
    known = data["value"].notna()
    missing = int((~known).sum())
    note = f"missing in {missing} of {len(data)} {var.unit}" if missing else ""
    if not known.any():
        note = f"all values missing ({len(data)} {var.unit})" if len(data) else f"no {var.unit}"
    if var.kind == "continuous":
        return [(var.label, {c: _median_iqr(p["value"]) for c, p in parts.items()}, int(known.sum()), note)]
    if var.kind == "binary":
        return [(var.label, {c: _share(p["value"], 1) for c, p in parts.items()}, int(known.sum()), note)]
    grades = sorted(data.loc[known, "value"].unique()) or [np.nan]
    return [(f"{var.label} {g:.0f}" if np.isfinite(g) else var.label,
             {c: _share(p["value"], g) for c, p in parts.items()}, int(known.sum()), note) for g in grades]


def test(var: Variable, settings: dict) -> Result:
    """The RuDDS group test of a variable over the groups with data (see the module docstring)."""
    data = var.data.dropna(subset=["value"])
    groups = [g for g in var.groups if (data["group"] == g).any()]
    absent = [g for g in var.groups if g not in groups]
    note = f"no data in group(s): {', '.join(absent)}; tested over the others" if absent and len(groups) > 1 else ""
    if len(groups) < 2:
        return Result(np.nan, "none", "", "not testable: fewer than two groups with data")
    if data["value"].nunique() < 2:
        return Result(np.nan, "none", "", "not testable: all values identical")
    samples = [data.loc[data["group"] == g, "value"].to_numpy() for g in groups]
    if var.kind == "continuous":
        result = _continuous(data, samples, groups, settings)
    elif settings["binary_test"] == "kruskal":
        result = _kruskal(samples, "")
    else:
        result = _contingency(data, settings)
    return Result(result.p, result.test, result.detail, "; ".join(filter(None, [note, result.note])),
                  result.transformed)


def _continuous(data: pd.DataFrame, samples: list, groups: list, settings: dict) -> Result:
    """ANOVA on the transformed variable if its residuals look normal with equal variances, else Kruskal-Wallis."""
    values, name = transform(data["value"], settings["transform"])
    parts = [values[data["group"].to_numpy() == g] for g in groups]
    if min(len(p) for p in parts) < 2:
        return _kruskal(samples, f"{name}; a group has fewer than 2 values, so no ANOVA")
    residuals = np.concatenate([p - p.mean() for p in parts])
    check, normal_p = normality(residuals)
    levene_p = stats.levene(*parts, center="median").pvalue if residuals.std() > 0 else np.nan
    detail = f"{name}; {check} p={normal_p:.3g} on residuals; Levene p={levene_p:.3g}"
    if normal_p >= settings["normality_alpha"] and levene_p >= settings["levene_alpha"]:
        anova = stats.f_oneway(*parts)
        return Result(float(anova.pvalue), "A", f"one-way ANOVA F={anova.statistic:.4g}; {detail}",
                      transformed=pd.Series(values, index=data.index))
    return _kruskal(samples, detail)


def transform(values: pd.Series, method: str) -> tuple[np.ndarray, str]:
    """Values transformed towards normality (lambda by maximum likelihood), and a description."""
    x = values.to_numpy(dtype=float)
    if method == "box-cox" and (x > 0).all() and np.ptp(x) > 0:
        y, lam = stats.boxcox(x)
        return y, f"Box-Cox lambda={lam:.3g}"
    if np.ptp(x) == 0:
        return x, "no transform (constant)"
    y, lam = stats.yeojohnson(x)
    fallback = " (Box-Cox needs positive values)" if method == "box-cox" else ""
    return y, f"Yeo-Johnson lambda={lam:.3g}{fallback}"


def normality(residuals: np.ndarray) -> tuple[str, float]:
    """(name, p) of the normality check: Shapiro-Wilk up to SHAPIRO_MAX values, D'Agostino-Pearson above."""
    if len(residuals) < 3 or residuals.std() == 0:
        return "normality not checkable (n < 3 or constant)", np.nan
    if len(residuals) <= SHAPIRO_MAX:
        return "Shapiro-Wilk", float(stats.shapiro(residuals).pvalue)
    return "D'Agostino-Pearson", float(stats.normaltest(residuals).pvalue)


def _kruskal(samples: list, detail: str) -> Result:
    """Kruskal-Wallis H test (tie-corrected) over the samples."""
    h = stats.kruskal(*samples)
    return Result(float(h.pvalue), "K", "; ".join(filter(None, [f"Kruskal-Wallis H={h.statistic:.4g}", detail])))


def _contingency(data: pd.DataFrame, settings: dict) -> Result:
    """Chi-squared or Fisher's exact test on the group x value table (settings['binary_test'])."""
    counts = pd.crosstab(data["group"], data["value"]).to_numpy()
    shape = f"{counts.shape[0]} x {counts.shape[1]} table"
    if settings["binary_test"] == "chi2":
        chi2 = stats.chi2_contingency(counts, correction=False)
        low = (chi2.expected_freq < 5).mean()
        note = f"{low:.0%} of expected counts < 5" if low > 0.2 else ""
        return Result(float(chi2.pvalue), "chi2", f"chi-squared={chi2.statistic:.4g}, df={chi2.dof}, {shape}", note)
    if counts.shape == (2, 2):
        return Result(float(stats.fisher_exact(counts).pvalue), "Fisher", f"Fisher's exact test, {shape}")
    method = stats.MonteCarloMethod(n_resamples=settings["fisher_resamples"], rng=settings["seed"])
    p = stats.fisher_exact(counts, method=method).pvalue
    return Result(float(p), "Fisher (Monte Carlo)",
                  f"Fisher's test, {shape}, {settings['fisher_resamples']} Monte Carlo tables, seed {settings['seed']}")


def _median_iqr(values: pd.Series) -> str:
    """'median [Q1; Q3]' of the non-missing values, or 'no data'."""
    x = values.dropna().to_numpy()
    if not len(x):
        return "no data"
    q1, med, q3 = np.quantile(x, [0.25, 0.5, 0.75])
    return f"{_num(med)} [{_num(q1)}; {_num(q3)}]"


def _share(values: pd.Series, level: float) -> str:
    """'% (n/total)' of values equal to level among the non-missing, or 'no data'."""
    x = values.dropna()
    if not len(x):
        return "no data"
    n = int((x == level).sum())
    return f"{_num(100 * n / len(x))}% ({n}/{len(x)})"


def _num(x: float) -> str:
    """Up to two decimals, trailing zeros dropped (as RuDDS Table 1 prints)."""
    return f"{x:.2f}".rstrip("0").rstrip(".")
