"""Inter- and intra-reader agreement of the MRI gradings: results/stats/agreement.csv and the reader 1 x
reader 2 tables behind it (agreement_confusion.csv), from the tables stage's reads_long.parquet.

Pairs of reads (PAIRS): the first reader against the second (inter-reader) and against the first reader's
repeat (intra-reader). The study file names the scales (analyses agreement scales: grades and binary variables per
level or endplate) and the scores (derived variables per patient, e.g. RuDDS's TEP total and Jarosz score). A unit
is a disc or an endplate graded in both reads; each scale is reported per level and pooled over the levels
("all"), the scores per patient. A grade is ordinal unless its scale says `ordered: false` (Modic types).

Statistics, one row each: percent agreement; Cohen's kappa, and for ordinal scales linearly and
quadratically weighted kappa (statsmodels cohens_kappa); Gwet's AC1 and, for ordinal scales, AC2 with
quadratic weights; ICC(2,1) (two-way random, absolute agreement) and ICC(3,1) (two-way mixed,
consistency) of the continuous scores (pingouin intraclass_corr). Categories are the whole scale, also
where a grade was never given (AC1's chance agreement and the kappa weights depend on them).

95% confidence intervals: analytic where each patient gives one unit (a disc scale at one level, a score):
statsmodels' asymptotic kappa interval, Gwet's (2008) variance for AC1/AC2 (t interval), Wilson for percent
agreement, pingouin's F-based ICC interval (at full precision, not pingouin's 2-decimal display). Where a
patient gives several units (pooled levels, the two endplates of a level) those units are not independent
and the interval is a percentile bootstrap over patients, a patient's units staying together (column
ci_method says which).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pingouin as pg
from scipy import stats
from statsmodels.stats.inter_rater import cohens_kappa
from statsmodels.stats.proportion import proportion_confint

from spinestudy import applicable
from spinestudy import study as studies
from spinestudy.anatomy import ENDPLATES, LEVELS
from spinestudy.tables.derived import patient_scores
from spinestudy.tables.schemas import KEY

DEFAULTS = {"bootstraps": 1000, "seed": 1, "min_units": 10}
CONFIDENCE = 0.95  # statsmodels' kappa and pingouin's ICC intervals are 95% only; the others match them
PAIRS = {"inter-reader": ("reader1", "reader2"), "intra-reader": ("reader1", "repeat")}
BINARY = (False, True)
STATISTICS = {
    "percent_agreement": "Percent agreement",
    "kappa": "Cohen's kappa",
    "kappa_linear": "Linearly weighted kappa",
    "kappa_quadratic": "Quadratically weighted kappa",
    "ac1": "Gwet's AC1",
    "ac2": "Gwet's AC2 (quadratic weights)",
    "icc2_1": "ICC(2,1)",
    "icc3_1": "ICC(3,1)",
}
ICC_TYPES = {"icc2_1": "ICC(A,1)", "icc3_1": "ICC(C,1)"}  # pingouin's names of Shrout & Fleiss ICC(2,1), (3,1)
LANDIS_KOCH = ((0.0, "poor"), (0.2, "slight"), (0.4, "fair"), (0.6, "moderate"), (0.8, "substantial"),
               (1.0, "almost perfect"))  # upper limits (Landis & Koch 1977)
KOO_LI = ((0.5, "poor"), (0.75, "moderate"), (0.9, "good"), (1.0, "excellent"))  # Koo & Li 2016, for ICCs
COLUMNS = ["comparison", "scale", "label", "level", "statistic", "statistic_label", "n_units", "n_patients",
           "estimate", "ci_low", "ci_high", "ci_method", "interpretation", "interpretation_scale", "note"]
CONFUSION = ["comparison", "scale", "first", "second", "n"]
NO_READS = applicable.PREFIX + ("no centre sends a second read of its gradings (config gradings_reader2, "
                               "gradings_repeat)")


def write(reads: Path, study: Path, settings: dict, out: str | Path, confusion: str | Path) -> None:
    """Write agreement.csv and agreement_confusion.csv from reads_long.parquet."""
    rows, the_study = pd.read_parquet(reads), studies.load(study)
    cfg = DEFAULTS | settings.get("agreement", {})
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    table(rows, cfg, the_study).to_csv(out, index=False)
    confusion_tables(rows, scales(the_study)).to_csv(confusion, index=False)


def scales(study: studies.Study) -> dict[str, tuple]:
    """The study's agreement scales: name -> (label, ordinal or nominal, categories, unit disc or endplate)."""
    found = {}
    for name in study.analyses.get("agreement", {}).get("scales", []):
        var = study.variables[name]
        kind, categories = (("nominal", BINARY) if var.kind == "binary" else
                            ("ordinal" if var.scale.ordered else "nominal", var.scale.codes))
        found[name] = (var.label, kind, categories, "disc" if var.per == "level" else "endplate")
    return found


def scores(study: studies.Study) -> dict[str, str]:
    """The study's agreement scores (derived patient variables): name -> label."""
    return {name: study.derived[name].label for name in study.analyses.get("agreement", {}).get("scores", [])}


def table(reads: pd.DataFrame, cfg: dict, study: studies.Study) -> pd.DataFrame:
    """Every statistic of every pair of reads present, scale graded in both, and level (then 'all');
    one row saying why when no pair of reads exists."""
    cfg = DEFAULTS | cfg
    rng = np.random.default_rng(cfg["seed"])
    found, named_scores = scales(study), scores(study)
    rows = []
    for comparison, (a, b) in PAIRS.items():
        for scale, units in paired_units(reads, a, b, found).items():
            _, kind, categories, _ = found[scale]
            for level in (*LEVELS, "all"):
                part = units if level == "all" else units[units["level"] == level]
                where = {"comparison": comparison, "scale": scale, "level": level}
                rows += [where | row for row in categorical(part, categories, kind == "ordinal", cfg, rng)]
        per_patient = paired_scores(reads, a, b, study)
        for score in named_scores if len(per_patient) else ():
            where = {"comparison": comparison, "scale": score, "level": "all"}
            rows += [where | row for row in continuous(per_patient[["patient", "read", score]].dropna(), score, cfg)]
    if not rows:
        return applicable.frame(COLUMNS, NO_READS)
    out = pd.DataFrame(rows, columns=COLUMNS)
    out["label"] = out["scale"].map(lambda s: found[s][0] if s in found else named_scores[s])
    out["statistic_label"] = out["statistic"].map(STATISTICS)
    return out


def paired_units(reads: pd.DataFrame, a: str, b: str, found: dict[str, tuple]) -> dict[str, pd.DataFrame]:
    """Scale -> units graded in both reads: patient (centre/pseudonym), level, first, second."""
    first, second = reads[reads["read"] == a], reads[reads["read"] == b]
    both = first.merge(second, on=KEY + ["level"], suffixes=("_a", "_b"))
    units = {}
    for scale, (_, _, _, unit) in found.items():
        columns = [f"{scale}_{e}" for e in ENDPLATES] if unit == "endplate" else [scale]
        frames = [pd.DataFrame({"patient": both["centre"] + "/" + both["patient"], "level": both["level"],
                                "first": both[f"{c}_a"], "second": both[f"{c}_b"]}) for c in columns
                  if f"{c}_a" in both]
        found = pd.concat(frames, ignore_index=True).dropna(subset=["first", "second"]) if frames else None
        if found is not None and len(found):
            units[scale] = found.reset_index(drop=True)
    return units


def paired_scores(reads: pd.DataFrame, a: str, b: str, study: studies.Study) -> pd.DataFrame:
    """Patient scores (tables.derived.patient_scores) of both reads, long: patient, read, tep_total, ..."""
    pair = reads[reads["read"].isin([a, b])]
    if pair.empty or pair["read"].nunique() < 2:
        return pd.DataFrame()
    found = pd.concat([patient_scores(part.drop(columns="read"), study).assign(read=read)
                       for read, part in pair.groupby("read", sort=True)], ignore_index=True)
    found["patient"] = found["centre"] + "/" + found["patient"]
    both = found.groupby("patient")["read"].transform("nunique") == 2
    return found[both].astype({s: float for s in scores(study)})


def contingency(first, second, categories, groups: np.ndarray | None = None) -> np.ndarray:
    """Counts of the reader 1 x reader 2 table over the scale's categories; one table per group (0..G-1)
    when groups are given."""
    index = {c: i for i, c in enumerate(categories)}
    cells = ([index[v] for v in first], [index[v] for v in second])
    if groups is None:
        table = np.zeros((len(index), len(index)))
    else:
        table, cells = np.zeros((groups.max() + 1, len(index), len(index))), (groups, *cells)
    np.add.at(table, cells, 1)
    return table


def quadratic_weights(q: int) -> np.ndarray:
    """Agreement weights 1 - (k - l)^2 / (q - 1)^2 (Cohen 1968; Gwet 2014 ch. 3)."""
    k = np.arange(q)
    return 1 - (k[:, None] - k[None, :]) ** 2 / (q - 1) ** 2


def gwet(table: np.ndarray, weights: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Gwet's AC1 (identity weights) or AC2 and its (1 - f = 1) analytic t interval (Gwet 2008, 2014).

    Written here: the irrCAC package pins scipy==1.12 and pandas<3, which cannot coexist with this
    project's pins; tests check it against the values of Gwet's handbook examples (irrCAC R package)."""
    n, q = table.sum(), len(table)
    p = table / n
    pa = float((weights * p).sum())
    pi = (p.sum(axis=1) + p.sum(axis=0)) / 2
    tw = weights.sum()
    pe = float(tw * (pi * (1 - pi)).sum() / (q * (q - 1)))
    ac = (pa - pe) / (1 - pe)
    term = weights - 2 * (1 - ac) * tw * (1 - (pi[:, None] + pi[None, :]) / 2) / (q * (q - 1))
    variance = ((p * term ** 2).sum() - (pa - 2 * (1 - ac) * pe) ** 2) / (n * (1 - pe) ** 2)
    half = stats.t.ppf((1 + confidence) / 2, n - 1) * np.sqrt(max(variance, 0.0))
    return ac, ac - half, min(ac + half, 1.0)


def coefficients(table: np.ndarray, ordinal: bool) -> dict[str, float]:
    """Point estimates from a reader 1 x reader 2 table (NaN where a kappa is undefined)."""
    q, single = len(table), _one_category(table)
    out = {"percent_agreement": np.trace(table) / table.sum()}
    for name, wt in _kappas(ordinal).items():
        out[name] = np.nan if single else float(cohens_kappa(table, wt=wt, return_results=False))
    out["ac1"] = gwet(table, np.eye(q))[0]
    if ordinal:
        out["ac2"] = gwet(table, quadratic_weights(q))[0]
    return out


def analytic(table: np.ndarray, ordinal: bool) -> dict[str, tuple[float, float]]:
    """Analytic 95% intervals of coefficients() for independent units."""
    q, single = len(table), _one_category(table)
    out = {"percent_agreement": proportion_confint(np.trace(table), table.sum(), 1 - CONFIDENCE, method="wilson")}
    for name, wt in _kappas(ordinal).items():
        result = None if single else cohens_kappa(table, wt=wt)  # asymptotic standard error, 95% interval
        out[name] = (np.nan, np.nan) if result is None else (result.kappa_low, min(result.kappa_upp, 1.0))
    out["ac1"] = gwet(table, np.eye(q))[1:]
    if ordinal:
        out["ac2"] = gwet(table, quadratic_weights(q))[1:]
    return out


def _kappas(ordinal: bool) -> dict[str, str | None]:
    """Kappa statistic -> statsmodels weighting: unweighted, and linear and quadratic for ordinal scales."""
    return {"kappa": None} | ({"kappa_linear": "linear", "kappa_quadratic": "quadratic"} if ordinal else {})


def _one_category(table: np.ndarray) -> bool:
    """Both reads used one and the same category: chance agreement is 1 and kappa undefined."""
    return bool(np.isclose((table.sum(axis=1) * table.sum(axis=0)).sum(), table.sum() ** 2))


def bootstrap(units: pd.DataFrame, categories, ordinal: bool, cfg: dict,
              rng: np.random.Generator) -> dict[str, tuple[float, float]]:
    """Percentile intervals of coefficients() over patient resamples (a patient's units together)."""
    patients, codes = np.unique(units["patient"], return_inverse=True)
    per_patient = contingency(units["first"], units["second"], categories, codes)
    draws = rng.multinomial(len(patients), np.full(len(patients), 1 / len(patients)), size=cfg["bootstraps"])
    replicates = pd.DataFrame([coefficients(t, ordinal) for t in np.tensordot(draws, per_patient, axes=1)])
    tail = (1 - CONFIDENCE) / 2
    return {name: (float(values.quantile(tail)), float(values.quantile(1 - tail))) if values.notna().all()
            else (np.nan, np.nan) for name, values in replicates.items()}


def categorical(units: pd.DataFrame, categories, ordinal: bool, cfg: dict, rng: np.random.Generator) -> list[dict]:
    """One row per statistic of units (patient, first, second) graded on a scale of these categories."""
    n, patients = len(units), units["patient"].nunique()
    base = {"n_units": n, "n_patients": patients}
    if n < cfg["min_units"]:
        return [base | {"statistic": "kappa", "note": f"{n} units graded in both reads (< {cfg['min_units']})"}]
    table = contingency(units["first"], units["second"], categories)
    estimates = coefficients(table, ordinal)
    if patients == n:
        intervals, method = analytic(table, ordinal), "analytic"
    else:
        intervals = bootstrap(units, categories, ordinal, cfg, rng)
        method = f"patient bootstrap ({cfg['bootstraps']} resamples, percentile)"
    note = "" if not np.isnan(estimates["kappa"]) else "one category in both reads: kappa undefined"
    return [base | {"statistic": name, "estimate": value, "ci_low": intervals[name][0],
                    "ci_high": intervals[name][1], "ci_method": method, "note": note,
                    **interpretation(name, value)} for name, value in estimates.items()]


def continuous(scores: pd.DataFrame, score: str, cfg: dict) -> list[dict]:
    """ICC(2,1) and ICC(3,1) of a patient score (columns patient, read, score) over the reads (pingouin,
    F-based intervals)."""
    n = scores["patient"].nunique()
    base = {"n_units": n, "n_patients": n}
    if n < cfg["min_units"] or scores[score].nunique() < 2:
        reason = f"{n} patients scored in both reads (< {cfg['min_units']})" if n < cfg["min_units"] else "constant"
        return [base | {"statistic": name, "note": reason} for name in ICC_TYPES]
    result = intraclass_corr(scores, targets="patient", raters="read", ratings=score)
    rows = []
    for name, kind in ICC_TYPES.items():
        value, (low, high) = float(result.loc[kind, "ICC"]), result.loc[kind, "CI95"]
        rows.append(base | {"statistic": name, "estimate": value, "ci_low": float(low), "ci_high": float(high),
                            "ci_method": "analytic (F distribution)", "note": "", **interpretation(name, value)})
    return rows


def intraclass_corr(data: pd.DataFrame, targets: str, raters: str, ratings: str) -> pd.DataFrame:
    """pingouin.intraclass_corr indexed by Type, its CI95 limits at full precision: pingouin rounds that column
    to 2 decimals for display (option round.column.CI95), which is lifted for the call."""
    saved = pg.options.get("round.column.CI95")
    pg.options["round.column.CI95"] = None
    try:
        return pg.intraclass_corr(data, targets=targets, raters=raters, ratings=ratings).set_index("Type")
    finally:
        pg.options["round.column.CI95"] = saved


def interpretation(statistic: str, value: float) -> dict:
    """Landis & Koch's label of a chance-corrected coefficient, Koo & Li's of an ICC; none for percent agreement."""
    if statistic == "percent_agreement" or np.isnan(value):
        return {"interpretation": "", "interpretation_scale": ""}
    scale, source = (KOO_LI, "Koo & Li 2016") if statistic in ICC_TYPES else (LANDIS_KOCH, "Landis & Koch 1977")
    label = next((name for limit, name in scale if value <= limit), scale[-1][1])
    return {"interpretation": label, "interpretation_scale": source}


def confusion_tables(reads: pd.DataFrame, found: dict[str, tuple]) -> pd.DataFrame:
    """Reader 1 x reader 2 counts per comparison and scale, pooled over levels and endplates (every
    category pair of the scale, zeros included)."""
    frames = []
    for comparison, (a, b) in PAIRS.items():
        for scale, units in paired_units(reads, a, b, found).items():
            categories = list(found[scale][2])
            table = contingency(units["first"], units["second"], categories)
            grid = pd.MultiIndex.from_product([categories, categories], names=["first", "second"])
            frames.append(pd.DataFrame({"n": table.ravel().astype(int)}, index=grid).reset_index()
                          .assign(comparison=comparison, scale=scale))
    return pd.concat(frames, ignore_index=True)[CONFUSION] if frames else pd.DataFrame(columns=CONFUSION)
