"""The RuDDS-sized demo tables (config demo: 912 patients) make Table 2 and the Kasch associations estimable,
and the statistics recover the effects planted in truth.yaml (smoking in degenerative stenosis)."""

import numpy as np
import pandas as pd
import pytest

from spinestudy.demo.tables import SYNDROMES
from stats_cohort import rudds_results

FACET, _, STENOSIS, _ = SYNDROMES


@pytest.fixture(scope="module")
def results(tmp_path_factory, config):
    paths, truth = rudds_results(tmp_path_factory.mktemp("rudds"), config)
    return pd.read_csv(paths["lasso"]), pd.read_csv(paths["associations"]), truth


def test_table2_is_estimable_in_every_group_but_facet_joint_mcid(results):
    lasso, _, _ = results
    fits = lasso.groupby(["outcome", "group"])["estimable"].first()
    assert len(fits) == 10 and not fits[("mcid", FACET)]  # as in RuDDS Table 2, footnote c
    assert "complete cases" in lasso.loc[(lasso.outcome == "mcid") & (lasso.group == FACET), "note"].iloc[0]
    estimable = lasso[lasso["estimable"]]
    assert fits.drop(("mcid", FACET)).all() and len(estimable) == 9 * 6
    assert np.isfinite(estimable[["coef", "ci_low", "ci_high"]]).all().all()
    assert (estimable["ci_low"] <= estimable["coef"]).all() and (estimable["coef"] <= estimable["ci_high"]).all()


def test_planted_smoking_effects_are_recovered(results):
    lasso, _, truth = results
    smoking = lasso[lasso["predictor"] == "smoking"].set_index(["outcome", "group"])
    beta = truth["smoking_nprs_back_stenosis"]["poisson_coefficient"]
    poisson = smoking.loc[("nprs_back_before", STENOSIS)]
    assert poisson["ci_low"] > 0 and poisson["ci_low"] <= beta <= poisson["ci_high"]
    for group, planted in ((STENOSIS, "smoking_mcid_stenosis"), ("Total", "smoking_mcid_total")):
        odds = smoking.loc[("mcid", group)]
        assert odds["ci_low"] <= np.log(truth[planted]["odds_ratio"]) <= odds["ci_high"], group


def test_kasch_associations_have_the_zero_findings_reference(results):
    _, assoc, _ = results
    counts = assoc[assoc["exposure"] == "n_findings"]
    for name, part in counts.groupby("analysis"):
        reference = part["n"].iloc[0] - part["n_exposed"].sum()  # patients with 0 findings
        assert reference >= (3 if name.endswith("no baseline pain") else 10), name
    main = assoc[assoc["analysis"] != "longitudinal, no baseline pain"]
    assert main["beta"].notna().all() and (main["ci_low"] < main["ci_high"]).all()
    assert set(assoc["analysis"]) == {"cross-sectional", "longitudinal, baseline pain", "longitudinal, no baseline pain"}
    assert assoc.loc[assoc["analysis"] == "longitudinal, no baseline pain", "beta"].notna().sum() >= 5
