"""LASSO: the penalised fits against a second implementation, planted smoking effects, small groups."""

import numpy as np
import pytest
import statsmodels.api as sm
from sklearn.linear_model import LogisticRegression

from spinestudy import study
from spinestudy.stats import lasso
from stats_cohort import cohort

RUDDS = study.load("rudds")

FAST = {"folds": 5, "n_lambdas": 15, "bootstraps": 0, "seed": 1}


def design(n=400, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, 4))
    return rng, np.column_stack([np.ones(n), z]), z


def test_logistic_lasso_matches_scikit_learn_at_the_same_penalty():
    rng, exog, z = design()
    y = (rng.random(len(z)) < 1 / (1 + np.exp(-(0.8 * z[:, 0] - 0.5 * z[:, 1])))).astype(float)
    lam = 0.02
    ours = lasso.fit(y, exog, "logistic", lam)
    # scikit-learn: ||w||_1 + C * sum(log loss), intercept unpenalised by saga -> C = 1 / (lam * n)
    ref = LogisticRegression(l1_ratio=1.0, C=1 / (lam * len(y)), solver="saga", tol=1e-10, max_iter=100000).fit(z, y)
    assert ours[1:] == pytest.approx(ref.coef_[0], abs=1e-4)
    assert ours[0] == pytest.approx(ref.intercept_[0], abs=1e-4)
    assert (ours[3:] == 0).all()  # noise predictors dropped


def test_poisson_lasso_matches_statsmodels_glm_elastic_net():
    rng, exog, z = design(seed=1)
    y = rng.poisson(np.exp(1.2 + 0.3 * z[:, 0]))
    lam = 0.01
    ours = lasso.fit(y, exog, "poisson", lam)
    # a different algorithm (coordinate descent on the mean log-likelihood) for the same objective
    ref = sm.GLM(y, exog, family=sm.families.Poisson()).fit_regularized(
        method="elastic_net", alpha=np.r_[0, np.full(4, lam)], L1_wt=1.0, cnvrg_tol=1e-12).params
    assert ours == pytest.approx(ref, abs=1e-4)


def test_planted_smoking_effects_in_stenosis_are_recovered():
    """truth: smoking raises back NPRS (log rate ratio 0.307) and MCID odds (OR 2.03) in stenosis; n = 3000."""
    analysis, _, truth = cohort(3000, seed=7)
    out = lasso.table(analysis[analysis["syndrome"] == truth["smoking_mcid_stenosis"]["syndrome"]],
                      {"lasso": FAST | {"bootstraps": 20}}, RUDDS)
    smoking = out[(out["predictor"] == "smoking") & (out["group"] == "degenerative stenosis")].set_index("outcome")
    assert 0.1 < smoking.loc["nprs_back_before", "coef"] < 0.6
    assert smoking.loc["mcid", "exp_coef"] > 1.3 and smoking.loc["mcid", "effect"] == "OR"
    assert smoking["selected_share"].min() >= 0.8
    nprs = smoking.loc["nprs_back_before"]
    assert nprs["ci_low"] > 0 and nprs["exp_coef"] == pytest.approx(np.exp(nprs["coef"]))


def test_small_groups_and_constant_predictors_are_not_estimable():
    analysis, _, _ = cohort(150, seed=8)
    analysis["bmi"] = 28.0
    out = lasso.table(analysis, {"lasso": FAST | {"min_cases": 40}}, RUDDS)
    assert not out.loc[out["predictor"] == "bmi", "estimable"].any()
    small = out[out["group"] == "degenerative deformity"]
    assert not small["estimable"].any() and small["note"].str.startswith("not estimable").all()
    assert small["coef"].isna().all()


def test_one_se_rule_penalises_at_least_as_much_as_lambda_min():
    analysis, _, _ = cohort(800, seed=9)
    lam = {rule: lasso.table(analysis, {"lasso": FAST | {"rule": rule}}, RUDDS).groupby(["outcome", "group"])[
        "lambda"].first()
           for rule in lasso.RULES}
    assert (lam["1se"].dropna() >= lam["lambda.min"].dropna()).all()


def test_a_cohort_too_small_for_any_model_gives_noted_rows():
    analysis, _, _ = cohort(20, seed=10)
    out = lasso.table(analysis, {"lasso": FAST}, RUDDS)
    assert list(out.columns) == lasso.COLUMNS and len(out) == 2 * 5 * len(RUDDS.analyses["lasso"]["predictors"])
    assert not out["estimable"].any() and out["note"].str.contains("complete cases").all()
