"""Synthetic multi-centre demo cohort: clinical and MRI grading tables calibrated to RuDDS.

Calibration source: Leonova, Elgaeva et al., "Lumbar MRI and Back Pain After Failed Conservative
Treatment: The RuDDS Study", Global Spine J 2025 (doi 10.1177/21925682251373046), n = 912.
"Table 1" below means that paper's Table 1, "Table 2" its regression table, "Figure 2" its
age/level prevalence figure. Every number copied from the paper is cited where it is defined.

Generative model, in short:
* clinical: leading syndrome -> age, sex, BMI, smoking; questionnaires as beta-binomial scores;
  smoking raises back NPRS before the procedure and the odds of MCID (planted, see PLANTED_EFFECTS);
* gradings: one latent disc severity per patient and level = age effect + level shift + patient
  noise + level noise; Pfirrmann, Jarosz, endplate (Rajasekaran) and Modic grades are cut from
  latents that load on it, with cutpoints per syndrome chosen so the expected grade shares equal
  Table 1. Grades therefore rise with age and towards L5-S1 (Figure 2) and correlate within a spine.
"""

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, stats
from statsmodels.stats.inter_rater import cohens_kappa

from spinestudy import study
from spinestudy.anatomy import LEVELS

SYNDROMES = study.load("rudds").group.levels  # the demo is RuDDS's: its groups as the study file names them
CLINICAL_COLUMNS = (
    "study_id",
    "centre",
    "age",
    "sex",
    "bmi",
    "smoking",
    "syndrome",
    "nprs_back_before",
    "nprs_leg_before",
    "nprs_back_after",
    "nprs_leg_after",
    "odi_before",
    "dn4_before",
    "procedure_date",
)
GRADING_COLUMNS = (
    "study_id",
    "centre",
    "level",
    "pfirrmann",
    "jarosz_height",
    "osteophytes",
    "modic_upper",
    "modic_lower",
    "tep_upper",
    "tep_lower",
)

# ---- Table 1 targets, in SYNDROMES order: facet joint pain, disc herniation, stenosis, deformity ----
GROUP_COUNTS = (211, 375, 255, 71)  # Results: 211/375/255/71 of 912 patients
AGE_QUARTILES = ((46.93, 58.79, 68.95), (38.49, 45.43, 59.23), (57.48, 64.63, 71.4), (43.38, 51.57, 59.12))
AGE_RANGE = (18, 89)  # Results: "ranged from 18 to 89 years"
FEMALE_SHARE = (147 / 211, 173 / 375, 166 / 255, 44 / 71)
BMI_QUARTILES = ((24.67, 28.26, 32.03), (24.44, 27.76, 31.23), (27.05, 30.49, 33.97), (25.06, 28.6, 32.95))
BMI_RANGE = (16.0, 55.0)  # plausibility bounds (not in the paper)
SMOKER_SHARE = (22 / 137, 102 / 317, 48 / 208, 15 / 57)
SMOKING_KNOWN = 719 / 912  # smoking status known for 719 of 912
PFIRRMANN_SHARES = (  # % of discs with grade 1..5
    (2.09, 10.62, 25.31, 50.14, 11.85),
    (3.89, 23.41, 35.36, 31.09, 6.24),
    (1.25, 6.59, 24.78, 49.49, 17.88),
    (7.04, 18.87, 29.58, 34.08, 10.42),
)
MODIC_TYPE_SHARES = (  # % of endplates with Modic type 1, 2, 3 (rest: none)
    (1.52, 15.97, 0.09),
    (2.08, 14.69, 0.27),
    (3.02, 19.8, 1.1),
    (3.24, 11.41, 0.99),
)
TEP_SHARES = (  # % of endplates with Rajasekaran defect grade 1..6
    (11.66, 24.98, 31.14, 19.91, 10.33, 1.99),
    (13.88, 31.08, 29.03, 16.79, 6.9, 2.78),
    (3.11, 21.61, 32.56, 21.65, 13.58, 7.8),
    (16.06, 23.1, 32.39, 15.92, 7.75, 4.79),
)
JAROSZ_MEDIAN = (9, 8, 14, 10)  # median Jarosz score (0-30: 5 levels x height 0-3 + osteophytes 0-3)
QUESTIONNAIRE_BEFORE = 518 / 912  # Results: 56.8% completed questionnaires before the procedure
# Share of those who also answered after it, per syndrome (assumption: RuDDS reports no follow-up counts, but
# its facet-joint group was "too small to fit" the MCID model (Table 2, footnote c) and its after-procedure
# IQRs in Table 1 are narrow (NPRS back 4 [1; 4.5]), i.e. few facet-joint patients answered afterwards).
QUESTIONNAIRE_AFTER = (0.05, 0.8, 0.8, 0.85)
# Questionnaire score means as fractions of the scale maximum, set to the Table 1 group medians
# (ODI: +0.015 because a beta with mean < 0.5 has its median below the mean).
NPRS_BACK_MEAN = (0.5, 0.4, 0.45, 0.45)  # stenosis: non-smokers; smokers x exp(beta), median 5
NPRS_LEG_MEAN = (0.4, 0.5, 0.6, 0.5)
DN4_MEAN = (0.25, 0.4, 0.4, 0.3)
ODI_MEAN = (0.355, 0.315, 0.395, 0.30)
SCORE_CONCENTRATION = {"nprs": 4.0, "dn4": 6.0, "odi": 8.0}  # beta concentration: Table 1 IQR widths
PROCEDURE_PERIOD = (date(2021, 1, 1), date(2024, 12, 31))  # RuDDS ran 2021-2024

# ---- Planted effects (what later stages must recover) ----
STENOSIS = SYNDROMES.index("degenerative stenosis")
SMOKING_NPRS_BACK_BETA = 0.307  # Table 2: Poisson beta of smoking on back NPRS before, stenosis
SMOKING_MCID_OR = (1.1, 1.1, 2.03, 1.1)  # Table 2: OR 2.03 in stenosis; 1.1 elsewhere gives ~1.28 overall
SMOKING_MCID_OR_TOTAL = 1.28  # Table 2: OR 1.28 in the total sample (marginal, not syndrome-adjusted)
MCID_BASE_PROBABILITY = 0.55  # P(MCID) of non-smokers with before >= 2 (assumption; fits after-NPRS medians)
MCID_POINTS = 1.2  # Methods: MCID = back NPRS before - after >= 1.2
AGE_LATENT_PER_DECADE = 0.5  # disc severity per decade of age (Figure 2: steep rise with age)
LEVEL_LATENT_SHIFT = (-0.5, -0.25, 0.0, 0.25, 0.5)  # L1-L2..L5-S1 (Figure 2: lower levels worse)
PATIENT_SD, LEVEL_SD = 0.8, 0.6  # latent noise shared by a spine / specific to a disc
# Spines without any degenerative finding (Pfirrmann <= 3, no Modic change, TEP score <= 5 and Jarosz 0 at
# every level), the reference group of Kasch et al.'s finding count: RuDDS does not report their share;
# Kasch et al. found 23.6% in a population cohort. Assumption: this share of patients under CLEAN_MAX_AGE.
CLEAN_SPINE_SHARE, CLEAN_MAX_AGE = 0.15, 45
# Imaging subset (the Modic radiomics study enrolled patients with Modic changes): patients with a Modic
# type 1 lesion fill up to this share of the subset, the rest have type 2 (but no type 1) lesions.
IMAGING_TYPE1_SHARE = 0.5
# Item latent = loading * disc latent + own noise (sd): couples every grade to disc degeneration.
ITEM_LOADINGS = {
    "jarosz_height": (0.9, 0.5),
    "osteophytes": (0.6, 0.8),
    "tep": (0.7, 0.8),
    "modic": (0.6, 0.8),
}
AGE_GRID = stats.norm.ppf((np.arange(400) + 0.5) / 400)  # standard-normal quantiles for expected shares

CENTRE_FORMATS = {
    "A": {
        "format": "csv",
        "files": {"clinical": "A_clinical.csv", "gradings": "A_mri_gradings.csv"},
        "options": {"sep": ","},
        "date_format": "%Y-%m-%d",
        "columns": {
            "clinical": {
                "study_id": "study_id",
                "age": "age_years",
                "sex": "sex",
                "bmi": "bmi",
                "smoking": "smoker",
                "syndrome": "leading_syndrome",
                "nprs_back_before": "nprs_back_pre",
                "nprs_leg_before": "nprs_leg_pre",
                "nprs_back_after": "nprs_back_post",
                "nprs_leg_after": "nprs_leg_post",
                "odi_before": "odi_pre",
                "dn4_before": "dn4_pre",
                "procedure_date": "procedure_date",
            },
            "gradings": {
                "study_id": "study_id",
                "level": "level",
                "pfirrmann": "pfirrmann",
                "jarosz_height": "jarosz_disc_height",
                "osteophytes": "jarosz_osteophytes",
                "modic_upper": "modic_upper",
                "modic_lower": "modic_lower",
                "tep_upper": "endplate_upper",
                "tep_lower": "endplate_lower",
            },
        },
        "codes": {
            "sex": {"F": "F", "M": "M"},
            "smoking": {True: "yes", False: "no"},
            "syndrome": dict(zip(SYNDROMES, ("facet", "herniation", "stenosis", "deformity"))),
        },
    },
    "B": {
        "format": "xlsx",
        "files": {"clinical": "B_patients.xlsx", "gradings": "B_MRI.xlsx"},
        "options": {"sheet_name": "Data"},
        "date_format": "%d.%m.%Y",
        "columns": {
            "clinical": {
                "study_id": "ID",
                "age": "Age",
                "sex": "Sex",
                "bmi": "BMI, kg/m2",
                "smoking": "Smoking",
                "syndrome": "Syndrome",
                "nprs_back_before": "NPRS back 0",
                "nprs_leg_before": "NPRS leg 0",
                "nprs_back_after": "NPRS back 1",
                "nprs_leg_after": "NPRS leg 1",
                "odi_before": "ODI 0",
                "dn4_before": "DN4 0",
                "procedure_date": "Date of procedure",
            },
            "gradings": {
                "study_id": "ID",
                "level": "Level",
                "pfirrmann": "Pfirrmann",
                "jarosz_height": "Disc height (Jarosz)",
                "osteophytes": "Osteophytes (Jarosz)",
                "modic_upper": "Modic upper EP",
                "modic_lower": "Modic lower EP",
                "tep_upper": "Endplate defect upper",
                "tep_lower": "Endplate defect lower",
            },
        },
        "codes": {
            "sex": {"M": 1, "F": 2},
            "smoking": {True: 1, False: 0},
            "syndrome": dict(zip(SYNDROMES, ("FJP", "LDH", "DS", "DD"))),
            "level": {level: level.replace("-", "/") for level in LEVELS},
        },
    },
    "C": {
        "format": "parquet",
        "files": {"clinical": "C_clinical.parquet", "gradings": "C_imaging.parquet"},
        "options": {},
        "date_format": None,  # native timestamp column
        "columns": {
            "clinical": {
                "study_id": "subject",
                "age": "age_at_procedure",
                "sex": "gender",
                "bmi": "body_mass_index",
                "smoking": "smoking_status",
                "syndrome": "diagnosis_code",
                "nprs_back_before": "back_pain_baseline",
                "nprs_leg_before": "leg_pain_baseline",
                "nprs_back_after": "back_pain_followup",
                "nprs_leg_after": "leg_pain_followup",
                "odi_before": "oswestry_baseline",
                "dn4_before": "dn4_baseline",
                "procedure_date": "intervention_date",
            },
            "gradings": {
                "study_id": "subject",
                "level": "segment",
                "pfirrmann": "pfirrmann_grade",
                "jarosz_height": "disc_height_grade",
                "osteophytes": "osteophyte_grade",
                "modic_upper": "modic_cranial",
                "modic_lower": "modic_caudal",
                "tep_upper": "endplate_defect_cranial",
                "tep_lower": "endplate_defect_caudal",
            },
        },
        "codes": {
            "sex": {"F": "female", "M": "male"},
            "smoking": {True: "smoker", False: "non-smoker"},
            "syndrome": {syndrome: code for code, syndrome in enumerate(SYNDROMES, start=1)},
            "level": {level: level.replace("-", "") for level in LEVELS},
        },
    },
    "D": {
        "format": "csv",
        "files": {"clinical": "D_klinik.csv", "gradings": "D_mrt.csv"},
        "options": {"sep": ";", "decimal": ","},
        "date_format": "%d.%m.%Y",
        "columns": {
            "clinical": {
                "study_id": "Pseudonym",
                "age": "Alter",
                "sex": "Geschlecht",
                "bmi": "BMI",
                "smoking": "Raucher",
                "syndrome": "Leitsyndrom",
                "nprs_back_before": "NRS Ruecken prae",
                "nprs_leg_before": "NRS Bein prae",
                "nprs_back_after": "NRS Ruecken post",
                "nprs_leg_after": "NRS Bein post",
                "odi_before": "ODI prae",
                "dn4_before": "DN4 prae",
                "procedure_date": "OP-Datum",
            },
            "gradings": {
                "study_id": "Pseudonym",
                "level": "Segment",
                "pfirrmann": "Pfirrmann",
                "jarosz_height": "Hoehenminderung",
                "osteophytes": "Osteophyten",
                "modic_upper": "Modic oben",
                "modic_lower": "Modic unten",
                "tep_upper": "Endplatte oben",
                "tep_lower": "Endplatte unten",
            },
        },
        "codes": {
            "sex": {"F": "w", "M": "m"},
            "smoking": {True: "ja", False: "nein"},
            "syndrome": dict(
                zip(SYNDROMES, ("Facettensyndrom", "Bandscheibenvorfall", "Spinalkanalstenose", "Deformitaet"))
            ),
            "level": dict(zip(LEVELS, ("L1/2", "L2/3", "L3/4", "L4/5", "L5/S1"))),
        },
    },
}


def simulate_cohort(n_patients: int, centres: list[str], seed: int, imaging_patients: int | None = None,
                    imaging_centres: list[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Canonical clinical (one row per patient) and grading (one row per patient x level) tables, plus the
    planted effects as a plain dict (YAML-serialisable: only str/int/float/list/dict) for truth.yaml.

    Patients go round-robin to the centres; with `imaging_patients`, that many patients with Modic changes
    (see select_imaging) go to `imaging_centres` and all others to the remaining (tables-only) centres.
    With no imaging centre (an empty list) nobody has images (see imaging_count)."""
    imaging_patients = imaging_count(imaging_patients, imaging_centres)
    rng = np.random.default_rng(seed)
    group = rng.permutation(np.repeat(np.arange(len(SYNDROMES)), _apportion(n_patients, GROUP_COUNTS)))
    clinical = _simulate_clinical(rng, group)
    gradings = _simulate_gradings(rng, clinical, group)
    imaging = np.ones(n_patients, bool) if imaging_patients is None else select_imaging(rng, gradings, imaging_patients)
    clinical, gradings = _assign_centres(clinical, gradings, imaging, list(centres), imaging_centres)
    truth = {"seed": int(seed), "n_patients": int(n_patients), "centres": list(centres), **_planted_effects()}
    if imaging_patients is not None:
        truth["imaging_subset"] = {
            "patients": int(imaging.sum()), "centres": list(imaging_centres),
            "selection": f"patients with a Modic type 1 lesion (up to {IMAGING_TYPE1_SHARE:.0%} of the subset), "
            "the rest with type 2 but no type 1 lesions, at random (as the Modic radiomics study enrolled "
            "patients with Modic changes); all other patients have tables only",
        }
    return clinical, gradings, truth


def imaging_count(imaging_patients: int | None, imaging_centres: list[str] | None) -> int | None:
    """The number of imaging patients: as given, or 0 when no centre sends images (imaging_centres empty) and
    none was asked for; asking for some without an imaging centre is an error naming both settings."""
    if imaging_centres is None or len(imaging_centres):
        return imaging_patients
    if imaging_patients:
        raise ValueError(f"demo: {imaging_patients} imaging patients requested but no centre has a dicom or images "
                         "entry (set demo.imaging_patients: 0, or give a centre a dicom folder)")
    return 0


def _apportion(n: int, counts) -> np.ndarray:
    """Split n in proportion to counts, largest remainders first (exact RuDDS counts for n = 912)."""
    quota = n * np.asarray(counts) / sum(counts)
    whole = np.floor(quota).astype(int)
    whole[np.argsort(whole - quota, kind="stable")[: n - whole.sum()]] += 1
    return whole


def select_imaging(rng: np.random.Generator, gradings: pd.DataFrame, n: int) -> np.ndarray:
    """Boolean mask over patients (clinical row order): the imaging subset of n patients with Modic changes."""
    modic = gradings[["modic_upper", "modic_lower"]].to_numpy().reshape(-1, 2 * len(LEVELS))
    type1, type2 = (modic == 1).any(axis=1), (modic == 2).any(axis=1)
    pools = [np.flatnonzero(type1), np.flatnonzero(type2 & ~type1), np.flatnonzero(~type1 & ~type2)]
    wanted = [min(len(pools[0]), round(n * IMAGING_TYPE1_SHARE))]
    wanted.append(min(len(pools[1]), n - wanted[0]))
    wanted.append(n - sum(wanted))  # only when too few patients have Modic changes
    if wanted[2] > len(pools[2]):
        raise ValueError(f"demo: {n} imaging patients requested but the cohort has only {len(modic)} patients "
                         "(demo.imaging_patients must not exceed demo.patients)")
    chosen = np.concatenate([rng.choice(pool, k, replace=False) for pool, k in zip(pools, wanted)])
    mask = np.zeros(len(modic), bool)
    mask[chosen] = True
    return mask


def _assign_centres(clinical: pd.DataFrame, gradings: pd.DataFrame, imaging: np.ndarray, centres: list[str],
                    imaging_centres: list[str] | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Centre (round-robin within the imaging and the tables-only patients) and study id per patient."""
    imaging_centres = centres if imaging_centres is None else list(imaging_centres)
    tables_only = [c for c in centres if c not in imaging_centres]
    if not imaging.all() and not tables_only:
        raise ValueError(f"demo: {int((~imaging).sum())} patients without images need a centre without DICOM "
                         f"among {centres} (imaging centres: {imaging_centres})")
    centre = np.empty(len(imaging), dtype=object)
    for mask, pool in ((imaging, imaging_centres), (~imaging, tables_only)):
        centre[mask] = np.array(pool, dtype=object)[np.arange(mask.sum()) % max(1, len(pool))]
    number = pd.Series(centre).groupby(centre).cumcount().to_numpy() + 1
    ids = pd.array([f"{c}{i:04d}" for c, i in zip(centre, number)], dtype="str")
    clinical = clinical.assign(study_id=ids, centre=pd.array(centre.astype(str), dtype="str"))
    k = len(LEVELS)
    gradings = gradings.assign(study_id=pd.array(np.repeat(ids, k), dtype="str"),
                               centre=pd.array(np.repeat(centre.astype(str), k), dtype="str"))
    order = np.argsort(np.array([list(centres).index(c) for c in centre]), kind="stable")
    rows = (order[:, None] * k + np.arange(k)).ravel()
    return clinical.iloc[order].reset_index(drop=True), gradings.iloc[rows].reset_index(drop=True)


def _planted_effects() -> dict:
    """The effects built into the simulation, with their parameters and sources."""
    return {
        "source": "RuDDS, Leonova et al. Global Spine J 2025, doi:10.1177/21925682251373046",
        "age_pfirrmann": {
            "direction": "positive",
            "per_decade_latent": AGE_LATENT_PER_DECADE,
            "latent_sd_patient": PATIENT_SD,
            "latent_sd_level": LEVEL_SD,
            "expected_spearman_age_mean_pfirrmann_min": 0.3,
        },
        "level_pfirrmann": {
            "direction": "positive towards L5-S1",
            "latent_shift": dict(zip(LEVELS, LEVEL_LATENT_SHIFT)),
        },
        "grade_coupling": {
            "description": "item latent = loading * disc latent + normal noise; all grades rise with "
            "Pfirrmann, age and lower level",
            **{item: {"loading": w, "noise_sd": sd} for item, (w, sd) in ITEM_LOADINGS.items()},
        },
        "smoking_nprs_back_stenosis": {
            "syndrome": SYNDROMES[STENOSIS],
            "poisson_coefficient": SMOKING_NPRS_BACK_BETA,
            "outcome": "nprs_back_before",
            "description": "E[nprs_back_before] of smokers = exp(coefficient) x non-smokers (true log rate "
            "ratio); no smoking effect in the other syndromes",
        },
        "smoking_mcid_stenosis": {
            "syndrome": SYNDROMES[STENOSIS],
            "odds_ratio": SMOKING_MCID_OR[STENOSIS],
            "mcid_points": MCID_POINTS,
            "baseline_probability": MCID_BASE_PROBABILITY,
            "description": "MCID = nprs_back_before - nprs_back_after >= 1.2; odds ratio among patients "
            "who can reach it (nprs_back_before >= 2)",
        },
        "smoking_mcid_other_syndromes": {"odds_ratio": SMOKING_MCID_OR[0]},
        "smoking_mcid_total": {
            "odds_ratio": SMOKING_MCID_OR_TOTAL,
            "description": "marginal odds ratio over all syndromes implied by the per-syndrome odds ratios",
        },
        "clean_spines": {
            "share_under_max_age": CLEAN_SPINE_SHARE,
            "max_age": CLEAN_MAX_AGE,
            "description": "these patients' spines have no finding of the Kasch finding count (0 findings, "
            "the reference category of the associations)",
        },
        "missingness": {
            "smoking_known": SMOKING_KNOWN,
            "questionnaire_before": QUESTIONNAIRE_BEFORE,
            "questionnaire_after_given_before": dict(zip(SYNDROMES, QUESTIONNAIRE_AFTER)),
            "mechanism": "completely at random",
        },
        "null_effects": [
            "MRI grades have no effect on NPRS, ODI, DN4 or MCID (RuDDS Table 2: |beta| < 0.1)",
            "no centre effect on any variable",
            "sex and BMI have no effect on grades or outcomes",
        ],
    }


def write_centre_tables(clinical: pd.DataFrame, gradings: pd.DataFrame, centre: str, out_dir: Path) -> dict[str, Path]:
    """Write one centre's clinical and grading files the way that centre sends them.

    Returns {'clinical': path, 'gradings': path}; rows of other centres are ignored."""
    spec = CENTRE_FORMATS[centre]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for table, frame in (("clinical", clinical), ("gradings", gradings)):
        local = _to_centre_frame(frame[frame["centre"] == centre], spec, table)
        paths[table] = out_dir / spec["files"][table]
        _write(local, paths[table], spec)
    return paths


def _to_centre_frame(frame: pd.DataFrame, spec: dict, table: str) -> pd.DataFrame:
    """Rename columns and recode values from canonical to a centre's conventions (the centre column is implied)."""
    out = frame.reset_index(drop=True).copy()
    for column, codes in spec["codes"].items():
        if column in out:
            out[column] = out[column].map(codes)
    if "procedure_date" in out and spec["date_format"]:
        out["procedure_date"] = out["procedure_date"].dt.strftime(spec["date_format"])
    columns = spec["columns"][table]
    return out[list(columns)].rename(columns=columns)


def _write(frame: pd.DataFrame, path: Path, spec: dict) -> None:
    """Write a frame in the centre's file format with its pandas options."""
    if spec["format"] == "csv":
        frame.to_csv(path, index=False, **spec["options"])
    elif spec["format"] == "xlsx":
        frame.to_excel(path, index=False, engine="openpyxl", **spec["options"])
    else:
        frame.to_parquet(path, index=False, **spec["options"])


def _simulate_clinical(rng: np.random.Generator, group: np.ndarray) -> pd.DataFrame:
    """Demographics, smoking, questionnaires and procedure date for patients of the given syndromes
    (study_id and centre are placeholders until _assign_centres)."""
    n = len(group)
    age = _group_split_normal(rng.standard_normal(n), AGE_QUARTILES, group)
    bmi = _group_split_normal(rng.standard_normal(n), BMI_QUARTILES, group)
    female = rng.random(n) < np.take(FEMALE_SHARE, group)
    smoker = rng.random(n) < np.take(SMOKER_SHARE, group)
    smoking_known = rng.random(n) < SMOKING_KNOWN
    scales = _simulate_scales(rng, group, smoker)
    first, last = (np.datetime64(day, "D") for day in PROCEDURE_PERIOD)
    procedure_date = first + rng.integers(0, (last - first).astype(int) + 1, size=n)
    return pd.DataFrame(
        {
            "study_id": pd.array([f"P{i:04d}" for i in range(1, n + 1)], dtype="str"),
            "centre": pd.array([""] * n, dtype="str"),
            "age": np.clip(np.round(age), *AGE_RANGE).astype("int64"),
            "sex": pd.array(np.where(female, "F", "M"), dtype="str"),
            "bmi": np.round(np.clip(bmi, *BMI_RANGE), 1),
            "smoking": pd.arrays.BooleanArray(smoker, ~smoking_known),
            "syndrome": pd.array(np.take(SYNDROMES, group), dtype="str"),
            **scales,
            "procedure_date": pd.to_datetime(procedure_date).as_unit("us"),
        },
        columns=list(CLINICAL_COLUMNS),
    )


def _simulate_scales(rng: np.random.Generator, group: np.ndarray, smoker: np.ndarray) -> dict:
    """NPRS, ODI and DN4 with missing questionnaires and the planted smoking effects."""
    n = len(group)
    before = np.zeros(n, bool)
    before[rng.permutation(n)[: round(n * QUESTIONNAIRE_BEFORE)]] = True  # exactly 518 of 912
    after = before & (rng.random(n) < np.take(QUESTIONNAIRE_AFTER, group))
    stenosis_smoker = smoker & (group == STENOSIS)
    back_mean = np.take(NPRS_BACK_MEAN, group) * np.exp(SMOKING_NPRS_BACK_BETA * stenosis_smoker)
    back_before = _beta_binomial(rng, 10, back_mean, SCORE_CONCENTRATION["nprs"])
    leg_before = _beta_binomial(rng, 10, np.take(NPRS_LEG_MEAN, group), SCORE_CONCENTRATION["nprs"])
    odi = _beta_binomial(rng, 100, np.take(ODI_MEAN, group), SCORE_CONCENTRATION["odi"])
    dn4 = _beta_binomial(rng, 10, np.take(DN4_MEAN, group), SCORE_CONCENTRATION["dn4"])
    back_after = _back_after(rng, back_before, group, smoker)
    leg_after = rng.binomial(leg_before, 0.4)  # leg pain roughly halves (Table 1: 5 -> 2)
    return {
        "nprs_back_before": _masked(back_before, before),
        "nprs_leg_before": _masked(leg_before, before),
        "nprs_back_after": _masked(back_after, after),
        "nprs_leg_after": _masked(leg_after, after),
        "odi_before": _masked(odi, before),
        "dn4_before": _masked(dn4, before),
    }


def _back_after(rng: np.random.Generator, before: np.ndarray, group: np.ndarray, smoker: np.ndarray) -> np.ndarray:
    """Back NPRS after the procedure; reaching MCID follows a logistic model in smoking per syndrome."""
    n = len(before)
    log_odds = stats.logistic.ppf(MCID_BASE_PROBABILITY) + np.log(np.take(SMOKING_MCID_OR, group)) * smoker
    reachable = before >= np.ceil(MCID_POINTS)
    mcid = reachable & (rng.random(n) < stats.logistic.cdf(log_odds))
    improved = rng.binomial(np.maximum(before - 2, 0), 0.35)  # after <= before - 2
    unchanged = np.clip(before - 1 + rng.binomial(2, 0.5, size=n), 0, 10)  # |before - after| <= 1
    return np.where(mcid, improved, unchanged)


def _simulate_gradings(rng: np.random.Generator, clinical: pd.DataFrame, group: np.ndarray) -> pd.DataFrame:
    """Per-level grades cut from a latent disc severity (age + level + patient and disc noise)."""
    n, k = len(clinical), len(LEVELS)
    age = clinical["age"].to_numpy()
    mean = _latent_mean(age[:, None], np.array(LEVEL_LATENT_SHIFT)[None, :])
    disc = mean + PATIENT_SD * rng.standard_normal((n, 1)) + LEVEL_SD * rng.standard_normal((n, k))
    groups = np.repeat(group[:, None], k, axis=1)
    grades = {"pfirrmann": 1 + _cut(disc, groups, PFIRRMANN_SHARES, loading=1.0, noise_sd=0.0)}
    # Jarosz items 0-3 ~ binomial(3, median/30) per level, so the 10-item score has the Table 1 median.
    shares = [stats.binom.pmf(range(4), 3, median / 30) for median in JAROSZ_MEDIAN]
    for item in ("jarosz_height", "osteophytes"):
        grades[item] = _cut(_item_latent(rng, disc, item), groups, shares, *ITEM_LOADINGS[item])
    for endplate in ("upper", "lower"):
        grades[f"modic_{endplate}"] = _modic(rng, _item_latent(rng, disc, "modic"), groups)
    for endplate in ("upper", "lower"):
        tep = _item_latent(rng, disc, "tep")
        grades[f"tep_{endplate}"] = 1 + _cut(tep, groups, TEP_SHARES, *ITEM_LOADINGS["tep"])
    _clear_findings(grades, (age < CLEAN_MAX_AGE) & (rng.random(n) < CLEAN_SPINE_SHARE))
    return pd.DataFrame(
        {
            "study_id": pd.array(np.repeat(clinical["study_id"].to_numpy(), k), dtype="str"),
            "centre": pd.array(np.repeat(clinical["centre"].to_numpy(), k), dtype="str"),
            "level": pd.array(np.tile(LEVELS, n), dtype="str"),
            **{name: values.ravel().astype("int64") for name, values in grades.items()},
        },
        columns=list(GRADING_COLUMNS),
    )


def _clear_findings(grades: dict[str, np.ndarray], clean: np.ndarray) -> None:
    """Cap the grades of the `clean` patients' spines below every finding of RuDDS's number of findings (its study
    file's n_findings), in place."""
    caps = {"pfirrmann": 3, "jarosz_height": 0, "osteophytes": 0, "modic_upper": 0, "modic_lower": 0,
            "tep_upper": 3, "tep_lower": 2}  # TEP score per level <= 5 < 6
    for name, cap in caps.items():
        grades[name][clean] = np.minimum(grades[name][clean], cap)


def _modic(rng: np.random.Generator, latent: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Modic type 0-3: presence cut from the latent, type 1/2/3 drawn with the syndrome's Table 1 odds."""
    shares = [(100 - sum(types), sum(types)) for types in MODIC_TYPE_SHARES]
    present = _cut(latent, groups, shares, *ITEM_LOADINGS["modic"]).astype(bool)
    modic = np.zeros(latent.shape, dtype="int64")
    for g, types in enumerate(MODIC_TYPE_SHARES):
        hit = present & (groups == g)
        modic[hit] = rng.choice([1, 2, 3], size=int(hit.sum()), p=np.array(types) / sum(types))
    return modic


def _item_latent(rng: np.random.Generator, disc: np.ndarray, item: str) -> np.ndarray:
    """Latent of a grading item: loading x disc latent + its own noise."""
    loading, sd = ITEM_LOADINGS[item]
    return loading * disc + sd * rng.standard_normal(disc.shape)


def _cut(latent: np.ndarray, groups: np.ndarray, shares, loading: float, noise_sd: float) -> np.ndarray:
    """Ordinal grade 0..K-1 per cell, using each syndrome's cutpoints for its expected grade shares."""
    grade = np.zeros(latent.shape, dtype="int64")
    for g in range(len(SYNDROMES)):
        cuts = _cutpoints(g, shares[g], loading, noise_sd)
        grade[groups == g] = np.searchsorted(cuts, latent[groups == g])
    return grade


def _cutpoints(g: int, shares, loading: float, noise_sd: float) -> np.ndarray:
    """Cutpoints where the expected latent distribution of syndrome g reaches the cumulative shares.

    The latent is a normal mixture over the group's age quantiles and the levels, with sd from the
    patient, disc and item noise; cutting it there reproduces the shares in expectation."""
    ages = np.clip(np.round(_split_normal(AGE_GRID, *AGE_QUARTILES[g])), *AGE_RANGE)
    means = loading * _latent_mean(ages[:, None], np.array(LEVEL_LATENT_SHIFT)[None, :]).ravel()
    sd = np.hypot(loading * np.hypot(PATIENT_SD, LEVEL_SD), noise_sd)
    cumulative = np.cumsum(shares)[:-1] / np.sum(shares)
    lo, hi = means.min() - 10 * sd, means.max() + 10 * sd
    return np.array(
        [optimize.brentq(lambda x, p=p: stats.norm.cdf((x - means) / sd).mean() - p, lo, hi) for p in cumulative]
    )


def _latent_mean(age: np.ndarray, level_shift: np.ndarray) -> np.ndarray:
    """Expected disc severity for an age (years) and level shift."""
    return AGE_LATENT_PER_DECADE * (age - 50) / 10 + level_shift


def _group_split_normal(z: np.ndarray, quartiles, group: np.ndarray) -> np.ndarray:
    """Split-normal values with each patient's syndrome quartiles (Table 1 median [Q1; Q3])."""
    q1, median, q3 = (np.take(column, group) for column in zip(*quartiles))
    return _split_normal(z, q1, median, q3)


def _split_normal(z, q1, median, q3):
    """Map standard-normal z to a split normal with the given quartiles and median."""
    scale = np.where(z < 0, median - q1, q3 - median) / stats.norm.ppf(0.75)
    return median + z * scale


def _beta_binomial(rng: np.random.Generator, trials: int, mean: np.ndarray, concentration: float) -> np.ndarray:
    """Integer scores 0..trials with the given mean fraction (beta-binomial)."""
    p = rng.beta(mean * concentration, (1 - mean) * concentration)
    return rng.binomial(trials, p)


def _masked(values: np.ndarray, present: np.ndarray) -> pd.arrays.IntegerArray:
    """Nullable Int64 array, NA where not present."""
    return pd.arrays.IntegerArray(values.astype("int64"), ~present)


# ---- Second reads (inter- and intra-reader agreement, issue 15) ----------------------------------------
# A second reader and a repeat read by the first reader re-grade every disc and endplate: an ordinal grade
# moves by one step with probability step_1 and by two with step_2 (half up, half down; a move off the
# scale leaves the grade), a Modic type is missed (-> 0) with probability miss and a type 2 is added to a
# normal endplate with probability add. Reader 2 is tuned to a quadratically weighted kappa of about 0.8
# for Pfirrmann and lower for TEP; the repeat read disagrees half as often.
READS = {
    "reader2": {"pfirrmann": (0.3, 0.05), "jarosz_height": (0.3, 0.0), "osteophytes": (0.3, 0.0),
                "tep": (0.4, 0.3), "modic": (0.2, 0.04)},
    "repeat": {"pfirrmann": (0.15, 0.025), "jarosz_height": (0.15, 0.0), "osteophytes": (0.15, 0.0),
               "tep": (0.2, 0.15), "modic": (0.1, 0.02)},
}
READ_ITEMS = {"pfirrmann": ("pfirrmann",), "jarosz_height": ("jarosz_height",), "osteophytes": ("osteophytes",),
              "tep": ("tep_upper", "tep_lower"), "modic": ("modic_upper", "modic_lower")}
READ_SCALES = {"pfirrmann": (1, 5), "jarosz_height": (0, 3), "osteophytes": (0, 3), "tep": (1, 6), "modic": (0, 3)}


def plant_reads(gradings: pd.DataFrame, seed: int) -> tuple[dict[str, pd.DataFrame], dict]:
    """The second reader's and the repeat gradings (GRADING_COLUMNS, same rows) drawn from the first
    reader's with READS' disagreement, and their truth: the parameters and the expected Cohen's kappas."""
    rng = np.random.default_rng([seed, 15])
    reads = {}
    for read, items in READS.items():
        frame = gradings.copy()
        for item, columns in READ_ITEMS.items():
            for column in columns:
                frame[column] = _reread(rng, frame[column].to_numpy(), item, *items[item])
        reads[read] = frame
    truth = {read: {item: {"parameters": list(p), **_expected_kappas(item, *p)} for item, p in items.items()}
             for read, items in READS.items()}
    truth["model"] = ("ordinal grade moves one step with probability parameters[0], two with parameters[1] "
                      "(half up, half down; off the scale: unchanged); Modic: type missed with parameters[0], "
                      "type 2 added to a normal endplate with parameters[1]. Expected kappas from the calibrated "
                      "grade shares (statsmodels cohens_kappa on the expected reader 1 x reader 2 table)")
    return reads, truth


def write_read_tables(gradings: pd.DataFrame, centre: str, out_dir: Path, read: str) -> Path:
    """Write one centre's second-read grading file beside its first (<gradings stem>_<read>.<ext>)."""
    spec = CENTRE_FORMATS[centre]
    first = Path(spec["files"]["gradings"])
    path = Path(out_dir) / f"{first.stem}_{read}{first.suffix}"
    _write(_to_centre_frame(gradings[gradings["centre"] == centre], spec, "gradings"), path, spec)
    return path


def _transition(item: str, first: float, second: float) -> np.ndarray:
    """P(second read = column | first read = row) of an item's scale."""
    low, high = READ_SCALES[item]
    q = high - low + 1
    if item == "modic":
        matrix = np.diag([1 - second] + [1 - first] * (q - 1))
        matrix[0, 2], matrix[1:, 0] = second, first
        return matrix
    matrix = np.eye(q) * (1 - first - second)
    for i in range(q):
        for step, p in ((1, first), (2, second)):
            for j in (i - step, i + step):
                matrix[i, j if 0 <= j < q else i] += p / 2
    return matrix


def _reread(rng: np.random.Generator, grades: np.ndarray, item: str, first: float, second: float) -> np.ndarray:
    """A second read of each grade, drawn from the item's transition matrix."""
    low = READ_SCALES[item][0]
    cumulative = np.cumsum(_transition(item, first, second), axis=1)[grades - low]
    return low + (rng.random(len(grades))[:, None] > cumulative).sum(axis=1)


def _expected_kappas(item: str, first: float, second: float) -> dict:
    """Population Cohen's kappas (unweighted, linear, quadratic) of an item's first vs second read, from the
    grade shares the simulation is calibrated to (Table 1 shares weighted by the syndrome counts)."""
    weights = np.array(GROUP_COUNTS) / sum(GROUP_COUNTS)
    shares = {"pfirrmann": PFIRRMANN_SHARES, "tep": TEP_SHARES,
              "modic": [(100 - sum(t), *t) for t in MODIC_TYPE_SHARES],
              "jarosz_height": [stats.binom.pmf(range(4), 3, m / 30) for m in JAROSZ_MEDIAN]}
    shares["osteophytes"] = shares["jarosz_height"]
    rows = np.array(shares[item], dtype=float)
    marginal = weights @ (rows / rows.sum(axis=1, keepdims=True))
    table = 1e6 * marginal[:, None] * _transition(item, first, second)
    kappas = {"kappa": cohens_kappa(table).kappa}
    if item != "modic":  # Modic types are nominal
        kappas |= {f"kappa_{wt}": cohens_kappa(table, wt=wt).kappa for wt in ("linear", "quadratic")}
    return {k: round(float(v), 4) for k, v in kappas.items()}
