"""A data version: what one complete run analysed and what it found, pseudonymous.

A snapshot holds, per centre and patient, a digest of each stage's data (imaging: the volumes' voxels and
geometry, so a re-export with identical pixels is no change; clinical: the patient's clinical variables;
gradings: the patient's graded levels), the manuscript numbers as the result files print them (Table 1
cells and P-values, post hoc P-values, prevalences, LASSO coefficients, association estimates, classifier
metrics), the config hash and the package versions. Its version id is a digest of all of that, so the same
inputs, config and packages give the same version; the git commit and the date are recorded beside it.
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import SimpleITK as sitk

from spinestudy.provenance.build import provenance
from spinestudy import study
from spinestudy.tables.schemas import KEY
from spinestudy.tables.schemas import tables as study_tables

STAGES = ("imaging", "clinical", "gradings")
PATIENT_COLUMNS = ["centre", "patient", "stage", "digest"]
NUMBER_COLUMNS = ["table", "row", "column", "value"]
# Result table -> (columns that name a row, columns whose values are manuscript numbers; table1: besides its group
# columns, those from "n" to "P-value").
TABLES = {
    "table1": (["variable", "characteristic"], ["n", "P-value", "Test", "significant"]),
    "posthoc": (["variable", "characteristic", "group1", "group2"], ["test", "p", "p_adjusted", "significant"]),
    "prevalence": (["finding", "age_decade", "level"], ["n", "total", "prevalence", "ci_low", "ci_high"]),
    "lasso": (["outcome", "model", "group", "predictor"],
              ["n", "events", "coef", "exp_coef", "exp_ci_low", "exp_ci_high", "selected_share", "estimable"]),
    "associations": (["analysis", "outcome", "exposure", "term"], ["n", "beta", "ci_low", "ci_high", "p"]),
}
CLASSIFIER_PROTOCOLS = ("paper", "nested")


@dataclass
class Snapshot:
    meta: dict  # version, commit, date, config_sha256, packages, patients per centre
    patients: pd.DataFrame  # PATIENT_COLUMNS
    numbers: pd.DataFrame  # NUMBER_COLUMNS, values as the result files print them

    @property
    def version(self) -> str:
        return self.meta["version"]


def digest(*parts) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()


def volume_digest(path: str | Path) -> str:
    """Voxels, pixel type and geometry of one volume (not its file bytes: a re-export with identical
    pixels gives the same digest)."""
    image = sitk.ReadImage(str(path))
    voxels = hashlib.sha256(sitk.GetArrayViewFromImage(image).tobytes()).hexdigest()
    geometry = [np.round(v, 6).tolist() for v in (image.GetSpacing(), image.GetOrigin(), image.GetDirection())]
    return digest(image.GetPixelIDTypeAsString(), image.GetSize(), geometry, voxels)


def row_digests(frame: pd.DataFrame, columns: list[str], stage: str) -> pd.DataFrame:
    """One digest per patient over its rows (sorted) of the given columns."""
    if frame.empty:
        return pd.DataFrame(columns=PATIENT_COLUMNS)
    text = frame[columns].astype("string").fillna("<NA>").agg("\x1e".join, axis=1)
    rows = frame[KEY].assign(text=text).sort_values([*KEY, "text"])
    out = rows.groupby(KEY, sort=True)["text"].agg(lambda t: digest(*t)).rename("digest").reset_index()
    return out.assign(stage=stage)[PATIENT_COLUMNS]


def patient_digests(series_index: Path, analysis: Path, gradings: Path, clinical: list[str]) -> pd.DataFrame:
    """Per centre, patient and stage (imaging, clinical, gradings) a digest of that stage's data; `clinical`: the
    study's clinical variables."""
    index = pd.read_parquet(series_index)
    volumes = index[index["status"] == "volume"]
    imaging = volumes.assign(volume_digest=volumes["volume"].map(volume_digest))
    patients = pd.read_parquet(analysis)
    long = pd.read_parquet(gradings)
    frames = [row_digests(imaging, ["sequence", "volume_digest"], "imaging"),
              row_digests(patients, clinical, "clinical"),
              row_digests(long, sorted(c for c in long.columns if c not in KEY), "gradings")]
    return pd.concat(frames, ignore_index=True).sort_values(["centre", "patient", "stage"], ignore_index=True)


def group_columns(table1: pd.DataFrame) -> list[str]:
    """Table 1's columns of the total and the groups: between "n" and "P-value"."""
    columns = list(table1.columns)
    return columns[columns.index("n") + 1:columns.index("P-value")]


def table_numbers(name: str, path: Path) -> pd.DataFrame:
    """A result table's manuscript numbers, one row per cell, as the CSV prints them."""
    keys, values = TABLES[name]
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if name == "table1":
        values = [c for c in frame if c in values or c in group_columns(frame)]
    row = pd.Series([" | ".join(v) for v in frame[keys].itertuples(index=False)], index=frame.index, dtype=object)
    row = row + row.groupby(row).cumcount().map(lambda k: f" #{k + 1}" if k else "")  # repeated labels
    cells = frame[[c for c in values if c in frame]].assign(row=row).melt("row", var_name="column")
    return cells.assign(table=name)[NUMBER_COLUMNS]


def classifier_numbers(path: Path) -> pd.DataFrame:
    """Classifier metrics (estimate and interval) of the paper's protocol and of nested validation."""
    report = json.loads(Path(path).read_text())
    rows = [{"table": "classifier", "row": f"{protocol} | {metric}", "column": part, "value": str(values[part])}
            for protocol in CLASSIFIER_PROTOCOLS if isinstance(report.get(protocol), dict)
            for metric, values in report[protocol].get("metrics", {}).items()
            for part in ("estimate", "ci_low", "ci_high")]
    return pd.DataFrame(rows, columns=NUMBER_COLUMNS)


def manuscript_numbers(tables: dict[str, Path], classifier: Path | None) -> pd.DataFrame:
    frames = [table_numbers(name, path) for name, path in tables.items()]
    if classifier is not None:
        frames.append(classifier_numbers(classifier))
    return pd.concat(frames, ignore_index=True).sort_values(["table", "row", "column"], ignore_index=True)


def take(series_index: Path, analysis: Path, gradings: Path, tables: dict[str, Path], classifier: Path | None,
         config: dict, *, commit: str | None = None, date: str | None = None) -> Snapshot:
    """The snapshot of one complete run's results."""
    patients = patient_digests(series_index, analysis, gradings, study_tables(study.of(config)).clinical_columns)
    numbers = manuscript_numbers(tables, classifier)
    build = provenance(config, commit, date)
    content = digest(build["config_sha256"], json.dumps(build["packages"], sort_keys=True),
                     patients.to_csv(index=False), numbers.to_csv(index=False))
    per_centre = patients.groupby("centre")["patient"].nunique().astype(int).to_dict()
    meta = {"version": content[:12], "commit": build["commit"], "date": build["date"],
            "config_sha256": build["config_sha256"], "packages": build["packages"], "patients": per_centre}
    return Snapshot(meta, patients, numbers)
