"""Prevalence by age decade and level: Wilson intervals and the planted age effect."""

import numpy as np
import pytest
from scipy import stats

from spinestudy.stats import prevalence
from spinestudy import study
from stats_cohort import cohort

RUDDS = study.load("rudds")


def wilson(n: int, total: int, z: float = stats.norm.ppf(0.975)) -> tuple[float, float]:
    """Wilson (1927) score interval, closed form."""
    p = n / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z / (1 + z * z / total) * np.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
    return centre - half, centre + half


def test_wilson_interval_matches_newcombe_1998_and_the_formula():
    analysis, long, _ = cohort(400, seed=1)
    out = prevalence.table(analysis, long, {}, RUDDS)
    # Newcombe (1998) Stat Med 17:857, example 81/263: Wilson 0.2553 to 0.3662
    assert wilson(81, 263) == pytest.approx((0.2553, 0.3662), abs=5e-5)
    for row in out[out["total"] > 0].sample(20, random_state=0).itertuples():
        assert (row.ci_low, row.ci_high) == pytest.approx(wilson(row.n, row.total), abs=1e-12)
        assert row.prevalence == row.n / row.total


def test_every_decade_level_and_finding_present_with_notes_for_empty_cells():
    analysis, long, _ = cohort(60, seed=2)
    out = prevalence.table(analysis, long, {}, RUDDS)
    assert len(out) == 3 * len(RUDDS.age_band_labels) * 5
    empty = out[out["total"] == 0]
    assert len(empty) and empty["prevalence"].isna().all() and (empty["note"] != "").all()
    assert out[out["total"] > 0]["prevalence"].notna().all()


def test_planted_age_effect_on_pfirrmann_is_recovered():
    """simulate_cohort plants disc degeneration rising with age (truth['age_pfirrmann']); n = 3000."""
    analysis, long, truth = cohort(3000, seed=3)
    assert truth["age_pfirrmann"]["direction"] == "positive"
    out = prevalence.table(analysis, long, {}, RUDDS)
    severe = out[(out["finding"] == "pfirrmann_ge4") & (out["total"] >= 30)]
    for level, rows in severe.groupby("level"):
        rho = stats.spearmanr(rows["age_decade"].str[:2].astype(int), rows["prevalence"]).statistic
        assert rho > 0.8, level


def test_patients_outside_the_age_bands_are_counted_in_every_note():
    analysis, long, _ = cohort(60, seed=2)
    old = analysis.index[:2]
    analysis.loc[old, "age"] = [91.0, 104.0]  # RuDDS's bands end at 89
    analysis.loc[old, "age_decade"] = None
    out = prevalence.table(analysis, long, {}, RUDDS)
    discs = long.merge(analysis.loc[old, ["centre", "patient"]]).shape[0]  # their graded levels
    left = f"left out: 2 patient(s) ({discs} graded discs) aged outside 10-89 years (no age decade)"
    assert discs == 10 and out["note"].str.endswith(left).all()
    assert out["total"].sum() == 3 * (len(long.merge(analysis[["centre", "patient"]])) - discs)
