"""Post hoc comparisons against closed-form formulas and published values."""

from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from spinestudy import study
from spinestudy.stats import posthoc, table1
from stats_cohort import cohort

RUDDS = study.load("rudds")
SYNDROMES = RUDDS.group.levels


def test_dunn_matches_dunn_1964_formula_without_ties():
    rng = np.random.default_rng(0)
    groups = np.repeat(SYNDROMES, [12, 15, 10, 8])
    values = rng.permutation(len(groups)).astype(float) + 100 * (groups == SYNDROMES[2])  # distinct values
    var = table1.Variable("x", "X", "graded", "discs", pd.DataFrame({"value": values, "group": groups}),
                             SYNDROMES)
    out = posthoc.pairs(var, table1.Result(0.0, "K", ""), posthoc.DEFAULTS | {"p_adjust": "bonferroni"})
    ranks, n = stats.rankdata(values), len(values)
    for row in out.itertuples():  # z = mean rank difference / sqrt(N(N+1)/12 (1/ni + 1/nj))
        a, b = groups == row.group1, groups == row.group2
        z = (ranks[a].mean() - ranks[b].mean()) / np.sqrt(n * (n + 1) / 12 * (1 / a.sum() + 1 / b.sum()))
        assert row.p == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)
        assert row.p_adjusted == pytest.approx(min(1, 6 * row.p), rel=1e-9)
    assert len(out) == 6 and (out["test"] == "Dunn").all()


def test_pairwise_t_test_uses_the_pooled_sd_of_all_groups():
    rng = np.random.default_rng(1)
    groups = np.repeat(SYNDROMES, 20)
    values = rng.normal(np.repeat([0, 0.5, 1, 1.5], 20), 1)
    data = pd.DataFrame({"value": values, "group": groups})
    var = table1.Variable("x", "X", "continuous", "patients", data, SYNDROMES)
    result = table1.Result(0.0, "A", "", transformed=pd.Series(values))
    out = posthoc.pairs(var, result, posthoc.DEFAULTS | {"p_adjust": "none"})
    resid = values - data.groupby("group")["value"].transform("mean")
    mse, df = (resid ** 2).sum() / (len(values) - 4), len(values) - 4  # R pairwise.t.test(pool.sd = TRUE)
    for row in out.itertuples():
        a, b = values[groups == row.group1], values[groups == row.group2]
        t = (a.mean() - b.mean()) / np.sqrt(mse * (1 / len(a) + 1 / len(b)))
        assert row.p == pytest.approx(2 * stats.t.sf(abs(t), df), rel=1e-9)


def test_binary_pairs_use_fisher_exact():
    # Fisher (1935), lady tasting tea: [[3, 1], [1, 3]], two-sided p = 0.4857
    data = pd.DataFrame({"value": [1, 1, 1, 0, 1, 0, 0, 0.0], "group": [SYNDROMES[0]] * 4 + [SYNDROMES[1]] * 4})
    var = table1.Variable("x", "X", "binary", "patients", data, SYNDROMES)
    out = posthoc.pairs(var, table1.Result(0.0, "K", ""), posthoc.DEFAULTS | {"fisher_resamples": 99, "seed": 1})
    assert out["p"].iloc[0] == pytest.approx(0.4857, abs=1e-4) and out["test"].iloc[0] == "Fisher's exact"


def test_only_variables_passing_the_threshold_are_compared():
    analysis, long, _ = cohort(600, seed=2)
    t1 = table1.table(analysis, long, {"alpha": 0.003}, RUDDS)
    passed = set(t1.loc[t1["significant"].fillna(False).astype(bool), "variable"])
    out = posthoc.table(analysis, long, {"alpha": 0.003, "posthoc": {"alpha": 0.005, "p_adjust": "holm"}},
                         RUDDS)
    assert set(out["variable"]) == passed and {"age", "pfirrmann"} <= passed
    assert len(out) == 6 * len(passed)
    assert (out["significant"] == (out["p_adjusted"] < 0.005)).all()
    assert set(zip(out["group1"], out["group2"])) == set(combinations(SYNDROMES, 2))
