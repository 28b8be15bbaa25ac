"""Post hoc pairwise group comparisons (RuDDS Supplemental Table 1) for the Table 1 variables that passed
its threshold: pairwise t-tests on the transformed variable after ANOVA (scikit-posthocs, SD pooled over
all groups as R's pairwise.t.test), Dunn's test after Kruskal-Wallis on continuous and graded variables
(scikit-posthocs, tie-corrected), and per pair Fisher's exact or chi-squared 2 x c tests (scipy) for binary
variables and for variables Table 1 tested on contingency tables. P-values are adjusted over the pairs
of each variable (statsmodels multipletests, settings["posthoc"]["p_adjust"])."""

from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import scikit_posthocs as sp
from scipy import stats
from statsmodels.stats.multitest import multipletests

from spinestudy import study as studies
from spinestudy.stats import table1

DEFAULTS = {"alpha": 0.005, "p_adjust": "holm", "binary_test": "fisher"}  # RuDDS: post hoc P < 0.005
PAIR_TESTS = ("fisher", "chi2")
COLUMNS = ["variable", "characteristic", "group1", "group2", "n1", "n2", "test", "p", "p_adjusted", "p_adjust",
           "significant", "note"]


def write(analysis: Path, gradings: Path, study: Path, settings: dict, out: str | Path) -> None:
    """Write the post hoc table (results/stats/posthoc.csv)."""
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    table(*table1.read(analysis, gradings), settings, studies.load(study)).to_csv(out, index=False)


def table(patients: pd.DataFrame, gradings: pd.DataFrame, settings: dict, study: studies.Study) -> pd.DataFrame:
    """One row per variable passing the Table 1 threshold and pair of groups with data."""
    base = table1.settings_with_defaults(settings)
    cfg = DEFAULTS | settings.get("posthoc", {}) | {k: base[k] for k in ("fisher_resamples", "seed")}
    if cfg["binary_test"] not in PAIR_TESTS:
        raise ValueError(f"posthoc binary_test must be one of {PAIR_TESTS}, not {cfg['binary_test']!r}")
    frames = []
    for var in table1.variables(patients, gradings, study):
        result = table1.test(var, base)
        if np.isfinite(result.p) and result.p < base["alpha"]:
            frames.append(pairs(var, result, cfg))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    return out[COLUMNS].astype({"n1": "Int64", "n2": "Int64", "significant": "boolean"})


def pairs(var: table1.Variable, result: table1.Result, cfg: dict) -> pd.DataFrame:
    """Pairwise comparisons of one variable, with the test that follows its Table 1 test."""
    data = var.data.dropna(subset=["value"])
    if result.test == "A":
        data = data.assign(value=result.transformed)
        name = "pairwise t-test (pooled SD, transformed)"
        raw = sp.posthoc_ttest(data, val_col="value", group_col="group", pool_sd=True)
    elif result.test == "K" and var.kind != "binary":
        name, raw = "Dunn", sp.posthoc_dunn(data, val_col="value", group_col="group")
    else:  # a table test follows Table 1's own (chi2 / Fisher), Kruskal-Wallis on a binary one the config's
        test = "chi2" if result.test == "chi2" else "fisher" if result.test.startswith("Fisher") else cfg["binary_test"]
        cfg = cfg | {"binary_test": test}
        name, raw = ("Fisher's exact" if test == "fisher" else "chi-squared"), None
    sizes = data["group"].value_counts()
    groups = [g for g in var.groups if g in sizes.index]
    rows = []
    for a, b in combinations(groups, 2):
        p, note = (raw.loc[a, b], "") if raw is not None else _pair_table(data, a, b, cfg)
        rows.append({"variable": var.name, "characteristic": var.label, "group1": a, "group2": b,
                     "n1": sizes[a], "n2": sizes[b], "test": name, "p": float(p), "note": note})
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["p_adjusted"] = adjust(frame["p"], cfg["p_adjust"])
    frame["p_adjust"] = cfg["p_adjust"]
    frame["significant"] = frame["p_adjusted"] < cfg["alpha"]
    return frame


def adjust(p: pd.Series, method: str) -> np.ndarray:
    """P-values adjusted over one variable's pairs ('none' leaves them)."""
    if method == "none" or p.empty:
        return p.to_numpy(dtype=float)
    return multipletests(p.to_numpy(dtype=float), method=method)[1]


def _pair_table(data: pd.DataFrame, a: str, b: str, cfg: dict) -> tuple[float, str]:
    """P-value of one pair's group x value table: Fisher's exact (2 x 2; Monte Carlo beyond) or chi-squared."""
    counts = pd.crosstab(data["group"], data["value"]).loc[[a, b]]
    counts = counts.loc[:, counts.sum() > 0].to_numpy()
    if counts.shape[1] < 2:
        return 1.0, "both groups have the same single value"
    if cfg["binary_test"] == "chi2":
        return float(stats.chi2_contingency(counts, correction=False).pvalue), ""
    if counts.shape == (2, 2):
        return float(stats.fisher_exact(counts).pvalue), ""
    method = stats.MonteCarloMethod(n_resamples=cfg["fisher_resamples"], rng=cfg["seed"])
    return float(stats.fisher_exact(counts, method=method).pvalue), "Fisher's test by Monte Carlo (2 x c table)"
