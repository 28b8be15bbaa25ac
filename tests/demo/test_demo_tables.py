"""Tests of the synthetic demo cohort tables: schema, determinism, RuDDS calibration, planted effects,
and the per-centre file formats."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import yaml
from scipy import stats
from sklearn.metrics import cohen_kappa_score

from spinestudy.anatomy import LEVELS
from spinestudy.demo.tables import SYNDROMES
from spinestudy.demo import tables as dt

CENTRES = ["A", "B", "C", "D"]
FACET, HERNIATION, STENOSIS, DEFORMITY = SYNDROMES

# RuDDS Table 1 (Leonova et al. 2025), typed in independently of the module under test.
TABLE1 = {
    FACET: {"share": 23.13, "age": 58.79, "female": 69.67, "bmi": 28.26, "smoking": 16.06, "jarosz": 9,
            "pfirrmann": (2.09, 10.62, 25.31, 50.14, 11.85), "modic": (1.52, 15.97, 0.09),
            "tep": (11.66, 24.98, 31.14, 19.91, 10.33, 1.99), "back": 5, "leg": 4, "dn4": 2.5, "odi": 34},
    HERNIATION: {"share": 41.11, "age": 45.43, "female": 46.13, "bmi": 27.76, "smoking": 32.18, "jarosz": 8,
                 "pfirrmann": (3.89, 23.41, 35.36, 31.09, 6.24), "modic": (2.08, 14.69, 0.27),
                 "tep": (13.88, 31.08, 29.03, 16.79, 6.9, 2.78), "back": 4, "leg": 5, "dn4": 4, "odi": 30},
    STENOSIS: {"share": 27.96, "age": 64.63, "female": 65.1, "bmi": 30.49, "smoking": 23.08, "jarosz": 14,
               "pfirrmann": (1.25, 6.59, 24.78, 49.49, 17.88), "modic": (3.02, 19.8, 1.1),
               "tep": (3.11, 21.61, 32.56, 21.65, 13.58, 7.8), "back": 5, "leg": 6, "dn4": 4, "odi": 38},
    DEFORMITY: {"share": 7.78, "age": 51.57, "female": 61.97, "bmi": 28.6, "smoking": 26.32, "jarosz": 10,
                "pfirrmann": (7.04, 18.87, 29.58, 34.08, 10.42), "modic": (3.24, 11.41, 0.99),
                "tep": (16.06, 23.1, 32.39, 15.92, 7.75, 4.79), "back": 4.5, "leg": 5, "dn4": 3, "odi": 28.5},
}
BEFORE = ["nprs_back_before", "nprs_leg_before", "odi_before", "dn4_before"]
AFTER = ["nprs_back_after", "nprs_leg_after"]


@pytest.fixture(scope="module")
def large():
    """A 20,000-patient cohort for calibration and effect recovery."""
    return dt.simulate_cohort(20_000, CENTRES, seed=2025)


@pytest.fixture(scope="module")
def small():
    """A small cohort for schema and file round trips."""
    return dt.simulate_cohort(120, CENTRES, seed=7)


def with_syndrome(large):
    """Gradings joined with each patient's syndrome and age."""
    clinical, gradings, _ = large
    return gradings.merge(clinical[["study_id", "syndrome", "age"]], on="study_id", validate="many_to_one")


def endplates(gradings, prefix):
    """Stack the upper and lower endplate values of a grade into one frame (syndrome, value)."""
    return pd.concat(
        [gradings[["syndrome", f"{prefix}_{e}"]].set_axis(["syndrome", "value"], axis=1) for e in ("upper", "lower")]
    )


def shares_by_syndrome(frame, column):
    """Percent of rows per value of a column within each syndrome."""
    return pd.crosstab(frame["syndrome"], frame[column], normalize="index") * 100


def mcid_frame(clinical):
    """Patients with smoking and both back NPRS known who can reach MCID (before >= 2), with MCID flag."""
    known = clinical.dropna(subset=["smoking", "nprs_back_before", "nprs_back_after"])
    known = known[known["nprs_back_before"] >= 2]
    mcid = (known["nprs_back_before"] - known["nprs_back_after"]) >= 1.2
    return known.assign(mcid=mcid.astype(float), smoker=known["smoking"].astype(float))


# ---- determinism and schema ----


def test_same_seed_identical_and_other_seed_differs():
    first = dt.simulate_cohort(300, CENTRES, seed=11)
    second = dt.simulate_cohort(300, CENTRES, seed=11)
    pd.testing.assert_frame_equal(first[0], second[0])
    pd.testing.assert_frame_equal(first[1], second[1])
    assert first[2] == second[2]
    other = dt.simulate_cohort(300, CENTRES, seed=12)
    assert not first[0].equals(other[0])
    assert not first[1].equals(other[1])


def test_clinical_schema(large):
    clinical = large[0]
    assert tuple(clinical.columns) == dt.CLINICAL_COLUMNS
    assert clinical["study_id"].is_unique
    assert (clinical["study_id"].str[0] == clinical["centre"]).all()
    assert clinical["study_id"].str.fullmatch(r"[A-D]\d{4,}").all()
    assert set(clinical["centre"]) == set(CENTRES)
    assert clinical["age"].dtype == "int64" and clinical["age"].between(18, 89).all()
    assert set(clinical["sex"]) == {"F", "M"}
    assert clinical["bmi"].dtype == "float64" and (clinical["bmi"] == clinical["bmi"].round(1)).all()
    assert clinical["smoking"].dtype == "boolean" and clinical["smoking"].isna().any()
    assert set(clinical["syndrome"]) == set(SYNDROMES)
    for column, high in {**dict.fromkeys(BEFORE + AFTER, 10), "odi_before": 100}.items():
        assert clinical[column].dtype == "Int64"
        assert clinical[column].dropna().between(0, high).all()
    assert clinical["procedure_date"].dtype.kind == "M"
    assert clinical["procedure_date"].between("2021-01-01", "2024-12-31").all()


def test_grading_schema(large):
    clinical, gradings, _ = large
    assert tuple(gradings.columns) == dt.GRADING_COLUMNS
    assert len(gradings) == 5 * len(clinical)
    assert not gradings.duplicated(["study_id", "level"]).any()
    assert (gradings.groupby("study_id", sort=False)["level"].agg(tuple) == LEVELS).all()
    ranges = {"pfirrmann": (1, 5), "jarosz_height": (0, 3), "osteophytes": (0, 3), "modic_upper": (0, 3),
              "modic_lower": (0, 3), "tep_upper": (1, 6), "tep_lower": (1, 6)}
    for column, (low, high) in ranges.items():
        assert gradings[column].dtype == "int64"
        assert gradings[column].min() == low and gradings[column].max() == high
    centres = gradings.drop_duplicates("study_id").set_index("study_id")["centre"]
    assert centres.equals(clinical.set_index("study_id")["centre"])


def test_truth_is_plain_yaml(large):
    truth = large[2]
    assert yaml.safe_load(yaml.safe_dump(truth)) == truth
    assert truth["n_patients"] == 20_000 and truth["centres"] == CENTRES
    for key in ("age_pfirrmann", "smoking_mcid_stenosis", "smoking_mcid_total", "smoking_nprs_back_stenosis"):
        assert key in truth


# ---- calibration against RuDDS Table 1 ----


def test_syndrome_shares(large):
    shares = large[0]["syndrome"].value_counts(normalize=True) * 100
    for syndrome, target in TABLE1.items():
        assert shares[syndrome] == pytest.approx(target["share"], abs=1.5)


def test_demographics_per_syndrome(large):
    clinical = large[0]
    assert clinical["smoking"].notna().mean() == pytest.approx(719 / 912, abs=0.02)
    for syndrome, group in clinical.groupby("syndrome"):
        target = TABLE1[syndrome]
        assert group["age"].median() == pytest.approx(target["age"], abs=2.5)
        assert (group["sex"] == "F").mean() * 100 == pytest.approx(target["female"], abs=4)
        assert group["bmi"].median() == pytest.approx(target["bmi"], abs=1.0)
        assert group["smoking"].mean() * 100 == pytest.approx(target["smoking"], abs=4)


def test_pfirrmann_and_endplate_grade_shares(large):
    gradings = with_syndrome(large)
    pfirrmann = shares_by_syndrome(gradings, "pfirrmann")
    tep = shares_by_syndrome(endplates(gradings, "tep"), "value")
    modic = shares_by_syndrome(endplates(gradings, "modic"), "value")
    for syndrome, target in TABLE1.items():
        np.testing.assert_allclose(pfirrmann.loc[syndrome, [1, 2, 3, 4, 5]], target["pfirrmann"], atol=4)
        np.testing.assert_allclose(tep.loc[syndrome, [1, 2, 3, 4, 5, 6]], target["tep"], atol=4)
        assert (abs(modic.loc[syndrome, [1, 2, 3]].to_numpy() - target["modic"]) <= [1, 2, 0.5]).all()
    total_modic = endplates(gradings, "modic")["value"].value_counts(normalize=True) * 100
    assert (abs(total_modic.loc[[1, 2, 3]].to_numpy() - [2.3, 16.16, 0.52]) <= [0.5, 1.5, 0.3]).all()


def test_jarosz_score_medians(large):
    gradings = with_syndrome(large)
    score = (gradings["jarosz_height"] + gradings["osteophytes"]).groupby(
        [gradings["study_id"], gradings["syndrome"]]).sum().reset_index(level="syndrome", name="score")
    assert score["score"].between(0, 30).all()
    assert score["score"].median() == pytest.approx(10, abs=2)
    for syndrome, group in score.groupby("syndrome"):
        assert group["score"].median() == pytest.approx(TABLE1[syndrome]["jarosz"], abs=2)


def test_questionnaire_missingness(large):
    clinical = large[0]
    before = clinical[BEFORE].notna()
    after = clinical[AFTER].notna()
    assert before.nunique(axis=1).eq(1).all() and after.nunique(axis=1).eq(1).all()
    assert not (after.iloc[:, 0] & ~before.iloc[:, 0]).any()
    assert before.iloc[:, 0].mean() == pytest.approx(0.568, abs=0.001)
    # follow-up among responders: rare in facet joint pain (RuDDS Table 2 footnote c), 80-85% elsewhere
    followed = after.iloc[:, 0][before.iloc[:, 0]].groupby(clinical["syndrome"]).mean()
    np.testing.assert_allclose(followed[[FACET, HERNIATION, STENOSIS, DEFORMITY]], [0.05, 0.8, 0.8, 0.85], atol=0.03)


def test_rudds_sized_cohort_has_the_exact_counts():
    clinical, gradings, _ = dt.simulate_cohort(912, ["A", "B", "C"], seed=3)
    assert clinical["syndrome"].value_counts().to_dict() == {HERNIATION: 375, STENOSIS: 255, FACET: 211, DEFORMITY: 71}
    assert clinical["nprs_back_before"].notna().sum() == 518
    assert len(gradings) == 912 * 5 and clinical["study_id"].is_unique


def test_imaging_subset_has_modic_changes_and_its_own_centres():
    clinical, gradings, truth = dt.simulate_cohort(300, ["A", "B", "C"], seed=4, imaging_patients=20,
                                                   imaging_centres=["A", "B"])
    assert clinical["centre"].value_counts().to_dict() == {"C": 280, "A": 10, "B": 10}
    imaged = gradings[gradings["centre"].isin(["A", "B"])]
    types = imaged[["modic_upper", "modic_lower"]].groupby(imaged["study_id"]).max().max(axis=1)
    assert len(types) == 20 and (types > 0).all()
    type1 = imaged[["modic_upper", "modic_lower"]].eq(1).groupby(imaged["study_id"]).any().any(axis=1)
    assert type1.sum() == 10  # half the subset has a type 1 lesion
    assert truth["imaging_subset"]["patients"] == 20
    with pytest.raises(ValueError, match="need a centre without DICOM"):
        dt.simulate_cohort(30, ["A", "B"], seed=4, imaging_patients=20, imaging_centres=["A", "B"])


def test_no_imaging_centre_means_a_tables_only_cohort():
    """Issue 23: no centre has dicom or images (the workflow passes an empty list): nobody has images and the
    patients go round-robin to every centre; asking for imaging patients then names both settings."""
    clinical, gradings, truth = dt.simulate_cohort(30, ["A", "B", "C"], seed=4, imaging_centres=[])
    assert clinical["centre"].value_counts().to_dict() == {"A": 10, "B": 10, "C": 10}
    assert truth["imaging_subset"]["patients"] == 0 and len(gradings) == 30 * 5
    with pytest.raises(ValueError, match=r"demo: 6 imaging patients requested but no centre has a dicom or images "
                                         r"entry \(set demo.imaging_patients: 0, or give a centre a dicom folder\)"):
        dt.simulate_cohort(30, ["A", "B", "C"], seed=4, imaging_patients=6, imaging_centres=[])
    clinical, _, _ = dt.simulate_cohort(30, ["A", "B", "C"], seed=4, imaging_patients=0, imaging_centres=["A", "B"])
    assert clinical["centre"].value_counts().to_dict() == {"C": 30}  # imaging centres stay empty


def test_clean_spines_form_the_zero_findings_reference():
    _, gradings, truth = dt.simulate_cohort(2000, ["A"], seed=5)
    worst = gradings.groupby("study_id").max(numeric_only=True)
    tep = (gradings["tep_upper"] + gradings["tep_lower"]).groupby(gradings["study_id"]).max()
    clean = ((worst["pfirrmann"] <= 3) & (worst[["modic_upper", "modic_lower"]].max(axis=1) == 0) & (tep < 6)
             & (worst[["jarosz_height", "osteophytes"]].max(axis=1) == 0))
    assert 0.02 < clean.mean() < 0.1 and truth["clean_spines"]["max_age"] == 45


def test_questionnaire_medians(large):
    clinical = large[0]
    for syndrome, group in clinical.groupby("syndrome"):
        target = TABLE1[syndrome]
        assert group["nprs_back_before"].median() == pytest.approx(target["back"], abs=1)
        assert group["nprs_leg_before"].median() == pytest.approx(target["leg"], abs=1)
        assert group["dn4_before"].median() == pytest.approx(target["dn4"], abs=1)
        assert group["odi_before"].median() == pytest.approx(target["odi"], abs=3)
    totals = {"nprs_back_before": 4, "nprs_leg_before": 5, "nprs_back_after": 2, "nprs_leg_after": 2,
              "dn4_before": 3, "odi_before": 33}
    for column, target in totals.items():
        assert clinical[column].median() == pytest.approx(target, abs=1 if column != "odi_before" else 3)


def test_grades_rise_with_level_and_age(large):
    """RuDDS Figure 2: degeneration more prevalent at lower levels and in older decades."""
    gradings = with_syndrome(large)
    by_level = gradings.groupby("level").agg(
        pfirrmann4=("pfirrmann", lambda s: (s >= 4).mean()),
        modic=("modic_upper", lambda s: (s > 0).mean()),
    ).loc[list(LEVELS)]
    tep6 = (gradings["tep_upper"] + gradings["tep_lower"] >= 6).groupby(gradings["level"]).mean().loc[list(LEVELS)]
    assert by_level["pfirrmann4"].is_monotonic_increasing and tep6.is_monotonic_increasing
    assert by_level["modic"].idxmax() == "L5-S1"
    decade = (gradings["age"] // 10).clip(2, 7)
    assert (gradings["pfirrmann"] >= 4).groupby(decade).mean().is_monotonic_increasing


def test_endplate_grades_follow_pfirrmann(large):
    gradings = with_syndrome(large)
    rho, _ = stats.spearmanr(gradings["pfirrmann"], gradings["tep_upper"] + gradings["tep_lower"])
    assert rho > 0.3
    modic_any = (gradings["modic_upper"] > 0) | (gradings["modic_lower"] > 0)
    rate = modic_any.groupby(gradings["pfirrmann"] >= 4).mean()
    assert rate[True] > 1.5 * rate[False]


# ---- planted effects, recovered with independent tools ----


def test_age_pfirrmann_effect_at_n2000():
    clinical, gradings, truth = dt.simulate_cohort(2000, CENTRES, seed=99)
    mean_pfirrmann = gradings.groupby("study_id")["pfirrmann"].mean()
    rho, p = stats.spearmanr(clinical["age"], mean_pfirrmann.loc[clinical["study_id"]])
    assert truth["age_pfirrmann"]["direction"] == "positive"
    assert rho > truth["age_pfirrmann"]["expected_spearman_age_mean_pfirrmann_min"] and p < 1e-10


def logit_odds_ratio(frame):
    """Odds ratio of MCID for smokers and its 95% CI from a statsmodels logistic regression."""
    fit = sm.Logit(frame["mcid"], sm.add_constant(frame["smoker"])).fit(disp=0)
    return np.exp(fit.params["smoker"]), np.exp(fit.conf_int().loc["smoker"].to_numpy())


def test_smoking_mcid_odds_ratio(large):
    clinical, _, truth = large
    frame = mcid_frame(clinical)
    odds_ratio, (low, high) = logit_odds_ratio(frame[frame["syndrome"] == STENOSIS])
    assert low < truth["smoking_mcid_stenosis"]["odds_ratio"] < high and low > 1
    odds_ratio, (low, high) = logit_odds_ratio(frame)
    assert low < truth["smoking_mcid_total"]["odds_ratio"] < high and low > 1


def test_smoking_back_pain_poisson_in_stenosis(large):
    clinical, _, truth = large
    frame = clinical.dropna(subset=["smoking", "nprs_back_before"])
    frame = frame[frame["syndrome"] == STENOSIS]
    exog = sm.add_constant(frame["smoking"].astype(float).rename("smoker"))
    fit = sm.GLM(frame["nprs_back_before"].astype(float), exog, family=sm.families.Poisson()).fit(cov_type="HC0")
    low, high = fit.conf_int().loc["smoker"]
    assert low < truth["smoking_nprs_back_stenosis"]["poisson_coefficient"] < high and low > 0


# ---- centre files ----


def read_centre_tables(paths, centre):
    """Read a centre's files back and translate them to canonical names, codes and dtypes via CENTRE_FORMATS."""
    spec = dt.CENTRE_FORMATS[centre]
    reader = {"csv": pd.read_csv, "xlsx": pd.read_excel, "parquet": pd.read_parquet}[spec["format"]]
    tables = {}
    for table, path in paths.items():
        columns = spec["columns"][table]
        frame = reader(path, **spec["options"]).rename(columns={v: k for k, v in columns.items()})
        for column, codes in spec["codes"].items():
            if column in frame:
                frame[column] = frame[column].map({v: k for k, v in codes.items()})
        if "procedure_date" in frame and spec["date_format"]:
            frame["procedure_date"] = pd.to_datetime(frame["procedure_date"], format=spec["date_format"])
        tables[table] = frame.assign(centre=centre)
    return tables


@pytest.mark.parametrize("centre", CENTRES)
def test_centre_files_round_trip(small, centre, tmp_path):
    clinical, gradings, _ = small
    paths = dt.write_centre_tables(clinical, gradings, centre, tmp_path)
    assert set(paths) == {"clinical", "gradings"}
    assert all(path.exists() and path.parent == tmp_path for path in paths.values())
    tables = read_centre_tables(paths, centre)
    for table, canonical, columns in (("clinical", clinical, dt.CLINICAL_COLUMNS),
                                      ("gradings", gradings, dt.GRADING_COLUMNS)):
        expected = canonical[canonical["centre"] == centre].reset_index(drop=True)
        got = tables[table][list(columns)].astype(expected.dtypes.to_dict())
        pd.testing.assert_frame_equal(got, expected)
    assert tables["clinical"]["smoking"].isna().any()


def test_centre_files_use_local_conventions(small, tmp_path):
    clinical, gradings, _ = small
    paths = {centre: dt.write_centre_tables(clinical, gradings, centre, tmp_path / centre) for centre in CENTRES}
    header, first = paths["D"]["clinical"].read_text(encoding="utf-8").splitlines()[:2]
    assert header.startswith("Pseudonym;Alter;Geschlecht;BMI;") and "," in first.split(";")[3]
    b = pd.read_excel(paths["B"]["clinical"], sheet_name="Data", dtype=str)
    assert b["Date of procedure"].str.fullmatch(r"\d{2}\.\d{2}\.\d{4}").all()
    assert set(pd.read_excel(paths["B"]["gradings"], sheet_name="Data")["Level"]) == {"L1/L2", "L2/L3", "L3/L4",
                                                                                    "L4/L5", "L5/S1"}
    a = pd.read_csv(paths["A"]["clinical"])
    assert set(a["smoker"].dropna()) == {"yes", "no"} and set(a["leading_syndrome"]) <= {
        "facet", "herniation", "stenosis", "deformity"}
    assert pd.read_parquet(paths["C"]["clinical"])["intervention_date"].dtype.kind == "M"


def test_centre_formats_complete_and_yaml_ready():
    assert yaml.safe_load(yaml.safe_dump(dt.CENTRE_FORMATS)) == dt.CENTRE_FORMATS
    for spec in dt.CENTRE_FORMATS.values():
        for table, canonical in (("clinical", dt.CLINICAL_COLUMNS), ("gradings", dt.GRADING_COLUMNS)):
            names = spec["columns"][table]
            assert set(names) == set(canonical) - {"centre"}
            assert len(set(names.values())) == len(names)
        for column, codes in spec["codes"].items():
            assert len(set(codes.values())) == len(codes)


def test_only_listed_centres(tmp_path):
    clinical, gradings, _ = dt.simulate_cohort(10, ["B", "D"], seed=1)
    assert set(clinical["centre"]) == {"B", "D"} and set(gradings["centre"]) == {"B", "D"}
    paths = dt.write_centre_tables(clinical, gradings, "D", tmp_path)
    assert len(pd.read_csv(paths["clinical"], sep=";", decimal=",")) == (clinical["centre"] == "D").sum()


def test_planted_reads_follow_their_model(large):
    """plant_reads: the same discs, grades on their scales, one- and two-step moves as often as READS says,
    and truth's expected kappas met on 100,000 discs (scikit-learn)."""
    _, gradings, _ = large
    reads, truth = dt.plant_reads(gradings, seed=5)
    pd.testing.assert_frame_equal(reads["reader2"], dt.plant_reads(gradings, seed=5)[0]["reader2"])
    for read, frame in reads.items():
        assert frame[["study_id", "centre", "level"]].equals(gradings[["study_id", "centre", "level"]])
        for item, columns in dt.READ_ITEMS.items():
            low, high = dt.READ_SCALES[item]
            assert frame[list(columns)].isin(range(low, high + 1)).all().all(), (read, item)
    step = (reads["reader2"]["pfirrmann"] - gradings["pfirrmann"]).abs()[gradings["pfirrmann"] == 3]
    assert (step == 1).mean() == pytest.approx(0.3, abs=0.01) and (step == 2).mean() == pytest.approx(0.05, abs=0.01)
    for read, frame in reads.items():
        for column, item, weights in (("pfirrmann", "pfirrmann", "quadratic"), ("tep_upper", "tep", "quadratic"),
                                      ("modic_lower", "modic", None), ("osteophytes", "osteophytes", "linear")):
            expected = truth[read][item]["kappa" if weights is None else f"kappa_{weights}"]
            assert cohen_kappa_score(gradings[column], frame[column], weights=weights) == pytest.approx(
                expected, abs=0.01), (read, column)


def test_more_imaging_patients_than_patients_names_the_settings():
    with pytest.raises(ValueError, match=r"9 imaging patients requested but the cohort has only 8 patients "
                                         r"\(demo.imaging_patients must not exceed demo.patients\)"):
        dt.simulate_cohort(8, ["A", "B", "C"], 11, 9, ["A", "B"])
