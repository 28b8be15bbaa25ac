# Shared by every stage: config validation, the pseudonymous patient list, input helpers.
import functools
import gc
import hashlib
import re
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from spinestudy import pseudonym


validate(config, "../schemas/config.schema.yaml")

# Python's cyclic garbage collector in the Snakemake process: the DAG of a large study is millions of
# long-lived objects, and with the default thresholds (700, 10, 10) every full collection walks all of
# them, about 20 times while a 10,000-patient DAG is built (8 s). Rarer collections free the same garbage.
gc.set_threshold(20_000, 10, 100)

KEY = pseudonym.key_from_config(config)
CENTRES = sorted(config["centres"])
IMAGING_CENTRES = [c for c in CENTRES if "dicom" in config["centres"][c]]


wildcard_constraints:
    centre="|".join(map(re.escape, CENTRES)),
    patient="p[0-9a-f]{12}",


def cohort_ready():
    """In demo mode, make the caller wait for the demo_cohort checkpoint before listing files."""
    if config["cohort"] == "demo":
        checkpoints.demo_cohort.get()


def dicom_root(centre):
    root = Path(config["centres"][centre]["dicom"])
    if not root.is_dir():
        raise WorkflowError(f"centre {centre}: DICOM folder {root} does not exist (config: centres/{centre}/dicom)")
    return root


@functools.cache
def _folders(centre):
    return {pseudonym.patient(KEY, centre, d.name): d for d in sorted(dicom_root(centre).iterdir()) if d.is_dir()}


def patient_folders(centre):
    """Pseudonym -> patient folder for a centre (one folder per patient under its DICOM root)."""
    cohort_ready()
    return _folders(centre)


@functools.cache
def folder_digest(folder):
    """SHA-256 of every file's path, size and mtime under a patient folder. As a job parameter it makes
    the job rerun when any file is added, removed or changed, while the job's input stays one folder
    (thousands of per-file inputs would dominate DAG construction in large studies)."""
    listing = sorted(
        (p.relative_to(folder).as_posix(), p.stat().st_size, p.stat().st_mtime_ns)
        for p in Path(folder).rglob("*")
        if p.is_file()
    )
    return hashlib.sha256(repr(listing).encode()).hexdigest()


def patient_folder(wildcards):
    """One patient's DICOM folder: the ingestion job's input."""
    return str(patient_folders(wildcards.centre)[wildcards.patient])


def stray_files(centre):
    """Files lying directly in a centre's DICOM root, outside any patient folder."""
    cohort_ready()
    return sorted(p.name for p in dicom_root(centre).iterdir() if p.is_file())


def per_patient(pattern, keep=lambda patient: True):
    """Input function: pattern expanded over every centre's patients (those `keep` accepts)."""

    def inputs(wildcards):
        return [pattern.format(centre=c, patient=p) for c in IMAGING_CENTRES for p in patient_folders(c) if keep(p)]

    return inputs


def table_files(wildcards):
    """Every clinical and grading file the centres send: the tables stage's input."""
    cohort_ready()
    return [cfg[t]["path"] for c, cfg in sorted(config["centres"].items()) for t in ("clinical", "gradings") if t in cfg]


def patient_mask(wildcards):
    """The patient's ROI mask file, or nothing when the centre has none for this patient."""
    pattern = config["centres"][wildcards.centre].get("masks")
    if not pattern:
        return []
    path = Path(pattern.format(id=patient_folders(wildcards.centre)[wildcards.patient].name))
    return [str(path)] if path.is_file() else []
