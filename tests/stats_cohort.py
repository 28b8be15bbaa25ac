"""Analysis-shaped tables from the demo generator, in memory (shared by the statistics and report tests and
benchmarks/statistics.py; tests/stats/test_stats_cohort.py checks their shape), and the RuDDS-sized demo's
Table 2 and associations (shared by the demo recovery and browser tests)."""

from pathlib import Path

import pandas as pd

from spinestudy import study
from spinestudy.demo import tables as demo_tables
from spinestudy.stats import associations, lasso
from spinestudy.tables import derived, merge
from spinestudy.tables.schemas import KEY, dtypes
from spinestudy.tables.schemas import tables as study_tables

STUDY = study.load("rudds")
RUDDS = study_tables(STUDY)


def cohort(n: int, seed: int, centres=("A", "B")) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """(analysis, gradings_long, truth) as merge.build_tables would write them, without files or validation."""
    clinical, gradings, truth = demo_tables.simulate_cohort(n, list(centres), seed)
    ids = clinical[["study_id", "centre"]].assign(patient=[f"p{i:012x}" for i in range(len(clinical))])
    clinical = clinical.merge(ids).drop(columns="study_id")
    levels, endplates = grading_tables(gradings.merge(ids).drop(columns="study_id"))
    long = merge.gradings_long({"levels": levels, "endplates": endplates}, STUDY)
    analysis = clinical.merge(derived.patient_scores(long, STUDY), on=KEY).assign(n_volumes=pd.NA)
    analysis = derived.patient_derived(analysis.assign(age=analysis["age"].astype(float)), STUDY)
    analysis = analysis[list(dtypes(RUDDS.analysis))].astype(dtypes(RUDDS.analysis))
    return analysis.sort_values(KEY).reset_index(drop=True), long, truth


def reads(n: int, seed: int, centres=("A", "B")) -> tuple[pd.DataFrame, dict]:
    """(reads_long, truth['agreement']) as merge.build_tables would write them for a demo cohort whose every
    patient is read again by a second reader and by the first reader (demo_tables.plant_reads)."""
    clinical, gradings, _ = demo_tables.simulate_cohort(n, list(centres), seed)
    again, truth = demo_tables.plant_reads(gradings, seed)
    ids = clinical[["study_id", "centre"]].assign(patient=[f"p{i:012x}" for i in range(len(clinical))])
    frames = [merge.gradings_long(dict(zip(("levels", "endplates"), grading_tables(
        frame.merge(ids).drop(columns="study_id")))), STUDY).assign(read=read)
        for read, frame in {"reader1": gradings, **again}.items()]
    return pd.concat(frames, ignore_index=True), truth


def grading_tables(graded: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Level- and endplate-grading-shaped tables of canonical demo gradings with pseudonyms."""
    na_int, na_bool = pd.array([pd.NA] * len(graded), "Int64"), pd.array([pd.NA] * len(graded), "boolean")
    levels = graded[KEY + ["level"]].assign(
        **{c: graded[c].astype("Int64") for c in ("pfirrmann", "jarosz_height", "osteophytes")},
        modic_disc=na_int, disc_narrowing=na_bool, disc_bulging=na_bool, disc_herniation=na_bool,
        spondylolisthesis=na_bool,
    )
    endplates = pd.concat([
        graded[KEY + ["level"]].assign(endplate=side, modic=graded[f"modic_{side}"].astype("Int64"),
                                       tep=graded[f"tep_{side}"].astype("Int64"), endplate_change=na_bool)
        for side in ("upper", "lower")
    ], ignore_index=True)
    return levels, endplates


def rudds_results(folder: Path, config: dict) -> tuple[dict[str, Path], dict]:
    """results/stats/lasso.csv and associations.csv of the RuDDS-sized demo tables (config demo.patients and
    seed, the statistics settings of `config`), written under folder; and the demo's truth."""
    analysis, _, truth = cohort(config["demo"]["patients"], config["demo"]["seed"], centres=("A", "B", "C"))
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"lasso": folder / "lasso.csv", "associations": folder / "associations.csv"}
    lasso.table(analysis, config["stats"], study.load()).to_csv(paths["lasso"], index=False)
    associations.table(analysis, config["stats"], study.load()).to_csv(paths["associations"], index=False)
    return paths, truth
