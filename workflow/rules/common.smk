# Shared by every stage: config validation, the pseudonymous patient list, input helpers.
import functools
import gc
import hashlib
import re
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from spinestudy import pseudonym
from spinestudy.ingest.sources import walk


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
    batch="p[0-9a-f]{0,12}",


def cohort_ready():
    """In demo mode, make the caller wait for the demo_cohort checkpoint before listing files."""
    if config["cohort"] == "demo":
        checkpoints.demo_cohort.get()


def dicom_root(centre):
    root = Path(config["centres"][centre]["dicom"])
    if not root.is_dir():
        raise WorkflowError(f"centre {centre}: DICOM folder {root} does not exist (config: centres/{centre}/dicom)")
    return root


def study_id(entry):
    """The study id a patient folder (or a patient's ZIP archive <id>.zip) in a DICOM root stands for."""
    return entry.stem if entry.is_file() else entry.name


def is_patient(entry):
    return entry.is_dir() or (entry.is_file() and entry.suffix.lower() == ".zip")


@functools.cache
def folder_digest(folder):
    """SHA-256 of every file's path, size and mtime under a patient folder (links followed) or of its ZIP
    archive. As a job parameter it makes the job rerun when any file is added, removed or changed, while the
    job's input stays one folder (thousands of per-file inputs would dominate DAG construction in large studies)."""
    folder = Path(folder)
    files = [folder] if folder.is_file() else walk(folder)[0]
    listing = sorted((p.relative_to(folder.parent).as_posix(), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    return hashlib.sha256(repr(listing).encode()).hexdigest()


@functools.cache
def _batches(centre):
    groups = {}
    for folder in sorted(dicom_root(centre).iterdir()):
        if is_patient(folder):
            patient = pseudonym.patient(KEY, centre, study_id(folder))
            groups.setdefault(patient[: 1 + config["batch_digits"]], {})[patient] = folder
    return groups


def batches(centre):
    """Batch -> {pseudonym: patient folder} for a centre (one folder or <id>.zip per patient under its DICOM root). A
    batch is the patients whose pseudonyms share their first `batch_digits` hex digits, so a new patient
    never moves another to a different batch."""
    cohort_ready()
    return _batches(centre)


def batch(wildcards):
    """Pseudonym -> patient folder of one ingestion, radiomics or robustness job."""
    return batches(wildcards.centre)[wildcards.batch]


def stray_files(centre):
    """Files lying directly in a centre's DICOM root, outside any patient folder."""
    cohort_ready()
    return sorted(p.name for p in dicom_root(centre).iterdir() if p.is_file() and not is_patient(p))


def per_batch(pattern, keep=lambda patient: True):
    """Input function: pattern expanded over every centre's batches that hold a patient `keep` accepts."""

    def inputs(wildcards):
        return [pattern.format(centre=c, batch=b) for c in IMAGING_CENTRES for b, patients in batches(c).items()
                if any(map(keep, patients))]

    return inputs


def table_files(wildcards):
    """Every clinical and grading file the centres send: the tables stage's input."""
    cohort_ready()
    return [cfg[t]["path"] for c, cfg in sorted(config["centres"].items()) for t in ("clinical", "gradings") if t in cfg]


def batch_masks(wildcards, keep=lambda patient: True):
    """Pseudonym -> ROI mask file (None when the centre has none for the patient) of a batch's patients."""
    pattern = config["centres"][wildcards.centre].get("masks")
    masks = {}
    for patient, folder in batch(wildcards).items():
        if keep(patient):
            path = Path(pattern.format(id=study_id(folder))) if pattern else None
            masks[patient] = str(path) if path and path.is_file() else None
    return masks
