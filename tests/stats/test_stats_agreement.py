"""Reader agreement (stats.agreement): every statistic against a published worked example or a second
implementation, the patient bootstrap, the planted demo agreement recovered, and the no-second-reader case."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import cohen_kappa_score

from spinestudy import study
from spinestudy.stats import agreement
from stats_cohort import reads

CFG = agreement.DEFAULTS | {"bootstraps": 200}
SAS_TABLE = [[0, 4, 1], [0, 8, 0], [0, 1, 5]]  # SAS/STAT PROC FREQ, AGREE example (19 units)
ABSTRACTORS = [[13, 0, 0], [0, 20, 7], [0, 4, 56]]  # Gwet 2014, cont3x3abstractors (100 pregnancies)
DIAGNOSIS = [[40, 4, 4, 17], [6, 25, 2, 13], [4, 1, 21, 12], [15, 5, 9, 45]]  # Gwet 2014, cont4x4diagnosis
SHROUT_FLEISS = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
# R psych 2.2.9, ICC(SHROUT_FLEISS, lmer = FALSE), printed with digits = 15: estimate, lower and upper bound.
PSYCH_ICC = {"icc2_1": (0.289763779527559, 0.0187865133747120, 0.761084369648953),
             "icc3_1": (0.714840714840715, 0.3424647650339254, 0.945858259955360)}


def units(table, categories, patients=None) -> pd.DataFrame:
    """One unit per count of a reader 1 x reader 2 table (each its own patient unless patients are given)."""
    pairs = [(a, b) for i, a in enumerate(categories) for j, b in enumerate(categories) for _ in range(table[i][j])]
    first, second = zip(*pairs)
    patients = [f"p{i}" for i in range(len(pairs))] if patients is None else patients
    return pd.DataFrame({"patient": patients, "first": first, "second": second})


def rows(frame: pd.DataFrame, categories, ordinal: bool = True, seed: int = 0) -> pd.DataFrame:
    found = agreement.categorical(frame, categories, ordinal, CFG, np.random.default_rng(seed))
    return pd.DataFrame(found, columns=agreement.COLUMNS).set_index("statistic")


def estimate(frame: pd.DataFrame, statistic: str) -> list[float]:
    return frame.loc[statistic, ["estimate", "ci_low", "ci_high"]].astype(float).tolist()


def test_kappas_and_intervals_match_the_sas_worked_example():
    """SAS PROC FREQ: simple kappa 0.4842 [0.2137; 0.7547]; weighted kappa with Cicchetti-Allison (= linear)
    weights 0.4701 [0.1845; 0.7558]."""
    out = rows(units(SAS_TABLE, [1, 2, 3]), [1, 2, 3])
    assert (out["ci_method"] == "analytic").all() and (out["n_units"] == 19).all()
    assert estimate(out, "kappa") == pytest.approx([0.4842, 0.2137, 0.7547], abs=1e-4)
    assert estimate(out, "kappa_linear") == pytest.approx([0.4701, 0.1845, 0.7558], abs=1e-4)


def test_kappas_match_scikit_learn_on_a_whole_scale():
    """Unweighted, linear and quadratic kappa as scikit-learn computes them over the scale's categories, here
    Pfirrmann 1-5 with grade 1 never given (weights depend on the whole scale)."""
    rng = np.random.default_rng(4)
    first = rng.integers(2, 6, 200)
    second = np.clip(first + rng.integers(-1, 2, 200), 2, 5)
    out = rows(pd.DataFrame({"patient": range(200), "first": first, "second": second}), range(1, 6))
    for statistic, weights in (("kappa", None), ("kappa_linear", "linear"), ("kappa_quadratic", "quadratic")):
        assert out.loc[statistic, "estimate"] == pytest.approx(
            cohen_kappa_score(first, second, labels=range(1, 6), weights=weights), abs=1e-12)
    assert out.loc["percent_agreement", "estimate"] == np.mean(first == second)


def test_percent_agreement_interval_is_wilson():
    out = rows(units(ABSTRACTORS, ["E", "A", "N"]), ["E", "A", "N"], ordinal=False)
    n, p, z = 100, 0.89, stats.norm.ppf(0.975)
    centre, half = (p + z * z / (2 * n)) / (1 + z * z / n), z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (
        1 + z * z / n)
    assert estimate(out, "percent_agreement") == pytest.approx([0.89, centre - half, centre + half], abs=1e-12)
    assert "kappa_linear" not in out.index and "ac2" not in out.index  # nominal scale: no weighted coefficients


@pytest.mark.parametrize("table, weights, expected", [
    (ABSTRACTORS, "identity", (0.849, 0.764, 0.935)),
    (ABSTRACTORS, "quadratic", (0.940, 0.905, 0.976)),
    (DIAGNOSIS, "identity", (0.456, 0.371, 0.542)),
    (DIAGNOSIS, "quadratic", (0.299, 0.150, 0.447)),
])
def test_gwet_matches_the_handbook_examples(table, weights, expected):
    """Gwet's AC1 / AC2 with their t intervals as his irrCAC R package gives them for the handbook's
    contingency tables (Gwet 2014; gwet.ac1.table)."""
    q = len(table)
    w = np.eye(q) if weights == "identity" else agreement.quadratic_weights(q)
    assert agreement.gwet(np.array(table, float), w) == pytest.approx(expected, abs=6e-4)


def test_ac1_ac2_rows_use_the_whole_scale():
    """AC1's chance agreement counts every category of the scale: Pfirrmann 1-5 with grades 2-4 used."""
    out = rows(units(ABSTRACTORS, [2, 3, 4]), range(1, 6))
    padded = np.zeros((5, 5))
    padded[1:4, 1:4] = ABSTRACTORS
    assert out.loc["ac1", "estimate"] == pytest.approx(agreement.gwet(padded, np.eye(5))[0])
    assert out.loc["ac1", "estimate"] != pytest.approx(agreement.gwet(np.array(ABSTRACTORS, float), np.eye(3))[0])


def test_icc_matches_shrout_and_fleiss():
    """Shrout & Fleiss 1979, Table 2 (6 targets, 4 judges): ICC(2,1) = 0.29, ICC(3,1) = 0.71."""
    scores = pd.DataFrame(SHROUT_FLEISS).rename_axis("patient").reset_index().melt(
        id_vars="patient", var_name="read", value_name="tep_total")
    out = pd.DataFrame(agreement.continuous(scores, "tep_total", agreement.DEFAULTS | {"min_units": 5}))
    out = out.set_index("statistic")
    assert out.loc["icc2_1", "estimate"] == pytest.approx(0.29, abs=0.005)
    assert out.loc["icc3_1", "estimate"] == pytest.approx(0.71, abs=0.005)
    for statistic, expected in PSYCH_ICC.items():  # the F-based limits at full precision, not to 2 decimals
        assert out.loc[statistic, ["estimate", "ci_low", "ci_high"]].tolist() == pytest.approx(expected, abs=1e-9)
    assert out["interpretation"].tolist() == ["poor", "moderate"]  # Koo & Li: < 0.5 poor, 0.5-0.75 moderate
    assert (out["interpretation_scale"] == "Koo & Li 2016").all()
    assert (out["ci_low"] < out["estimate"]).all() and (out["estimate"] < out["ci_high"]).all()


@pytest.mark.parametrize("value, label", [(-0.1, "poor"), (0.0, "poor"), (0.2, "slight"), (0.41, "moderate"),
                                          (0.6, "moderate"), (0.61, "substantial"), (0.81, "almost perfect")])
def test_landis_koch_labels(value, label):
    assert agreement.interpretation("kappa", value) == {"interpretation": label,
                                                        "interpretation_scale": "Landis & Koch 1977"}


def test_patient_bootstrap_keeps_a_patients_units_together():
    """Five identical units per patient carry one patient's information: the pooled interval (patient
    bootstrap) is about as wide as the analytic interval of one unit per patient, about sqrt(5) times wider
    than the analytic interval that wrongly counts 5 x n independent units."""
    rng = np.random.default_rng(1)
    first = rng.integers(1, 6, 150)
    second = np.where(rng.random(150) < 0.6, first, rng.integers(1, 6, 150))
    one = pd.DataFrame({"patient": range(150), "first": first, "second": second})
    five = one.loc[one.index.repeat(5)]
    naive = rows(five.assign(patient=range(750)), range(1, 6))
    per_patient, pooled = rows(one, range(1, 6)), rows(five, range(1, 6))
    assert pooled.loc["kappa", "ci_method"].startswith("patient bootstrap (200 resamples")
    assert pooled.loc["kappa", "estimate"] == pytest.approx(per_patient.loc["kappa", "estimate"])
    width = {name: frame.loc["kappa", "ci_high"] - frame.loc["kappa", "ci_low"]
             for name, frame in (("naive", naive), ("patient", per_patient), ("pooled", pooled))}
    assert width["pooled"] == pytest.approx(width["patient"], rel=0.25)
    assert width["pooled"] > 1.8 * width["naive"]


@pytest.fixture(scope="module")
def planted():
    """The RuDDS-sized demo cohort (912 patients) read again by a second reader and by the first."""
    frame, truth = reads(912, seed=20241121)
    return agreement.table(frame, CFG, study.load("rudds")), agreement.confusion_tables(frame, agreement.scales(study.load("rudds"))), truth


def test_planted_agreement_is_recovered(planted):
    """truth.yaml's expected kappas (from the calibrated grade shares) lie in the pooled 95% intervals."""
    out, _, truth = planted
    pooled = out[out["level"] == "all"].set_index(["comparison", "scale", "statistic"])
    for comparison, read in (("inter-reader", "reader2"), ("intra-reader", "repeat")):
        for scale, statistic in (("pfirrmann", "kappa_quadratic"), ("tep", "kappa_quadratic"), ("modic", "kappa"),
                                 ("jarosz_height", "kappa_linear")):
            row = pooled.loc[(comparison, scale, statistic)]
            assert row["ci_low"] <= truth[read][scale][statistic] <= row["ci_high"], (comparison, scale, statistic)
    inter = pooled.loc["inter-reader"]
    assert 0.75 < inter.loc[("pfirrmann", "kappa_quadratic"), "estimate"] < 0.85
    assert inter.loc[("tep", "kappa_quadratic"), "estimate"] < inter.loc[("pfirrmann", "kappa_quadratic"), "estimate"]
    assert (pooled.loc["intra-reader", "estimate"] > inter["estimate"]).loc[["pfirrmann", "tep", "modic"]].all()
    # Modic 0 dominates: AC1 stays high where kappa is pulled down by the skewed marginals
    assert inter.loc[("modic", "ac1"), "estimate"] > inter.loc[("modic", "kappa"), "estimate"] + 0.1
    assert pooled.loc[("inter-reader", "tep_total", "icc2_1"), "ci_method"] == "analytic (F distribution)"


def test_rows_cover_every_level_and_the_confusion_tables_add_up(planted):
    out, confusion, _ = planted
    kappas = out[out["statistic"] == "kappa"]
    assert set(kappas["level"]) == {"L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1", "all"}
    disc = kappas[(kappas["scale"] == "pfirrmann") & (kappas["comparison"] == "inter-reader")].set_index("level")
    assert (disc.drop(index="all")["n_units"] == 912).all() and disc.loc["all", "n_units"] == 5 * 912
    assert (disc.drop(index="all")["ci_method"] == "analytic").all()
    tep = kappas[(kappas["scale"] == "tep") & (kappas["level"] == "L4-L5")]
    assert (tep["n_units"] == 2 * 912).all() and tep["ci_method"].str.startswith("patient bootstrap").all()
    totals = confusion.groupby(["comparison", "scale"])["n"].sum()
    assert totals.loc[("inter-reader", "pfirrmann")] == 5 * 912 and totals.loc[("inter-reader", "modic")] == 10 * 912
    assert len(confusion[(confusion["comparison"] == "inter-reader") & (confusion["scale"] == "tep")]) == 36


def test_without_second_reads_the_outputs_say_so(tmp_path):
    frame, _ = reads(5, seed=1)
    path = tmp_path / "reads_long.parquet"
    frame[frame["read"] == "reader1"].to_parquet(path)
    agreement.write(path, study.path_of("rudds"), {}, tmp_path / "agreement.csv", tmp_path / "confusion.csv")
    out = pd.read_csv(tmp_path / "agreement.csv")
    assert out["note"].tolist() == [agreement.NO_READS] and list(out.columns) == agreement.COLUMNS
    assert pd.read_csv(tmp_path / "confusion.csv").empty


def test_too_few_units_give_a_note_not_a_coefficient():
    out = rows(units([[3, 1], [0, 2]], [False, True]), [False, True], ordinal=False)
    assert out["estimate"].isna().all() and out["note"].iloc[0] == "6 units graded in both reads (< 10)"


def test_one_category_leaves_kappa_undefined_but_not_ac1():
    """Every endplate graded Modic 0 by both readers: kappa is 0/0, Gwet's AC1 is 1 (perfect agreement)."""
    out = rows(units([[12, 0, 0, 0], [0] * 4, [0] * 4, [0] * 4], range(4)), range(4), ordinal=False)
    assert np.isnan(out.loc["kappa", "estimate"]) and out.loc["kappa", "note"].startswith("one category")
    assert out.loc["ac1", "estimate"] == 1.0 and out.loc["percent_agreement", "estimate"] == 1.0
