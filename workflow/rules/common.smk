# Shared by every stage: config validation, the pseudonymous patient list, input helpers.
import functools
import gc
import hashlib
import re
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from spinestudy import ids, pseudonym, study
from spinestudy.batch import auto_digits
from spinestudy.ingest import images
from spinestudy.ingest.sources import walk
from spinestudy.tables.procedure_dates import procedure_dates

validate(config, "../schemas/config.schema.yaml")
try:  # the study file, checked before anything runs: its errors name the file and the key
    STUDY = study.of(config)
except study.StudyError as exc:
    raise WorkflowError(str(exc)) from None

# Python's cyclic garbage collector in the Snakemake process: the DAG of a large study is millions of
# long-lived objects, and with the default thresholds (700, 10, 10) every full collection walks all of
# them, about 20 times while a 10,000-patient DAG is built (8 s). Rarer collections free the same garbage.
gc.set_threshold(20_000, 10, 100)

KEY = pseudonym.key_from_config(config)
CENTRES = sorted(config["centres"])
IMAGE_CENTRES = [c for c in CENTRES if "images" in config["centres"][c]]  # converted images, not DICOM
IMAGING_CENTRES = [c for c in CENTRES if {"dicom", "images"} & set(config["centres"][c])]


def one_of(names):
    """A wildcard constraint matching exactly these names; none: a regex that never matches (Snakemake reads an
    empty constraint as no constraint, so two rules would both claim every centre's files)."""
    return "|".join(map(re.escape, names)) or "(?!)"


wildcard_constraints:
    centre=one_of(CENTRES),
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


@functools.cache
def folder_digest(folder):
    """SHA-256 of every file's path, size and mtime under a patient folder (links followed) or of its ZIP
    archive. As a job parameter it makes the job rerun when any file is added, removed or changed, while the
    job's input stays one folder (thousands of per-file inputs would dominate DAG construction in large studies)."""
    folder = Path(folder)
    files = [folder] if folder.is_file() else walk(folder)[0]
    listing = sorted((p.relative_to(folder.parent).as_posix(), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    return hashlib.sha256(repr(listing).encode()).hexdigest()


def patient_folders(centre):
    """Patient folder -> its id in the centre's form (config centres/<centre>/ids), as the tables see it."""
    try:
        return ids.folder_ids(dicom_root(centre), config["centres"][centre].get("ids"))
    except ids.IdError as exc:
        raise WorkflowError(f"centre {centre}: {exc} (config: centres/{centre}/ids)")


@functools.cache
def _patients(centre):
    """Pseudonym -> patient folder or archive (DICOM centres) or images.PatientImages (`images:` centres)."""
    if centre not in IMAGE_CENTRES:
        return {pseudonym.patient(KEY, centre, i): folder for folder, i in patient_folders(centre).items()}
    found = images.find_patients(config["centres"][centre]["images"], config["ingest"]["sequences"])
    patients = {}
    for name, files in found.items():
        try:
            identifier = ids.normalise(name, config["centres"][centre].get("ids"))
        except ids.IdError as exc:
            raise WorkflowError(f"centre {centre}: image id {name!r} {exc} (config: centres/{centre}/ids)")
        patients[pseudonym.patient(KEY, centre, identifier)] = files
    return patients


@functools.cache
def batch_digits():
    """config batch_digits; `auto`: chosen from the study's patients with images (batch.auto_digits)."""
    if config["batch_digits"] != "auto":
        return config["batch_digits"]
    return auto_digits(sum(len(_patients(c)) for c in IMAGING_CENTRES))


@functools.cache
def _batches(centre):
    groups = {}
    for patient, source in _patients(centre).items():
        groups.setdefault(patient[: 1 + batch_digits()], {})[patient] = source
    return groups


def batches(centre):
    """Batch -> {pseudonym: patient folder, archive or images.PatientImages} for a centre. A batch is the
    patients whose pseudonyms share their first batch_digits() hex digits, so a new patient never moves
    another to a different batch (unless `auto` changes the digits: batch.auto_digits)."""
    cohort_ready()
    return _batches(centre)


def batch(wildcards):
    """Pseudonym -> patient folder of one ingestion, radiomics or robustness job."""
    return batches(wildcards.centre)[wildcards.batch]


def stray_files(centre):
    """Files lying directly in a centre's DICOM root, outside any patient folder."""
    if centre in IMAGE_CENTRES:  # no DICOM root: every file matching the images: pattern is a patient's
        return []
    cohort_ready()
    return sorted(p.name for p in dicom_root(centre).iterdir() if p.is_file() and not ids.is_patient(p))


def per_batch(pattern, keep=lambda patient: True):
    """Input function: pattern expanded over every centre's batches that hold a patient `keep` accepts."""

    def inputs(wildcards):
        return [pattern.format(centre=c, batch=b) for c, groups in delivery(wildcards, keep).items() for b in groups]

    return inputs


def delivery(wildcards, keep=lambda patient: True):
    """Centre -> batch -> pseudonyms delivered now, of the batches that hold a patient `keep` accepts."""
    return {
        c: {b: sorted(patients) for b, patients in batches(c).items() if any(map(keep, patients))}
        for c in IMAGING_CENTRES
    }


def demo_manifest(wildcards):
    """In demo mode the generated cohort's manifest (waits for the demo_cohort checkpoint), else nothing."""
    return [checkpoints.demo_cohort.get().output[0]] if config["cohort"] == "demo" else []


def batch_files(*batch_rules):
    """The output and log patterns of per-batch rules: what a batch's jobs write, under results/ and logs/."""
    return list(dict.fromkeys(str(f) for r in batch_rules for f in [*r.output, *r.log]))


def table_files(wildcards):
    """Every clinical and grading file the centres send (other reads included): the tables stage's input."""
    cohort_ready()
    tables = ("clinical", "gradings", "gradings_reader2", "gradings_repeat", "gradings_consensus")
    return [cfg[t]["path"] for c, cfg in sorted(config["centres"].items()) for t in tables if t in cfg]


def table_digests(wildcards):
    """SHA-256 of each table file's content: as a parameter it reruns the tables stage when a file changes,
    also when a corrected file arrives with an older modification time (cp -p, unzipped deliveries)."""
    return {
        path: hashlib.sha256(Path(path).read_bytes()).hexdigest() if Path(path).is_file() else None
        for path in table_files(wildcards)
    }


def batch_masks(wildcards, keep=lambda patient: True):
    """Pseudonym -> ROI mask file (None when the centre has none for the patient) of a batch's patients."""
    pattern = config["centres"][wildcards.centre].get("masks")
    masks = {}
    for patient, source in batch(wildcards).items():  # a patient folder or archive, or images.PatientImages
        if keep(patient):
            name = source.name if wildcards.centre in IMAGE_CENTRES else ids.entry_name(source)
            path = Path(pattern.format(id=name)) if pattern else None
            masks[patient] = str(path) if path and path.is_file() else None
    return masks


def radiomics_settings(wildcards):
    """A centre's radiomics job settings: config radiomics plus the centre's segment_names and label_descriptions
    if it has them (without, the jobs' params stay those of config radiomics)."""
    centre = config["centres"][wildcards.centre]
    return config["radiomics"] | {k: centre[k] for k in ("segment_names", "label_descriptions") if centre.get(k)}


def label_descriptions(wildcards):
    """The centre's ITK-SNAP label description file, an input of its radiomics jobs (none: no input)."""
    return config["centres"][wildcards.centre].get("label_descriptions") or []


# Robustness re-extraction runs on a stable share of the patients (radiomics_stats.robustness.sample): a
# patient is in when its pseudonym (a keyed hash) read as a number in [0, 1) is below the share, so a new
# patient never changes whether another is in. A batch's job sees only which of its patients are in:
# changing the share adds or drops jobs and reruns just the batches whose sampled patients change (with one
# patient per batch, none).
ROBUSTNESS = config["radiomics_stats"]["robustness"]


def in_robustness_sample(patient):
    return int(patient.removeprefix("p"), 16) < ROBUSTNESS["sample"] * 16 ** (len(patient) - 1)


@functools.cache
def centre_procedure_dates(centre):
    cohort_ready()
    spec = config["centres"][centre]
    return procedure_dates(centre, spec.get("clinical"), KEY, spec.get("ids"))


def batch_procedure_dates(wc):
    """Pseudonym -> procedure date of a batch's patients (only when the study choice rule uses it)."""
    if config["ingest"]["study_choice"] != "latest_on_or_before_procedure":
        return {}
    dates = centre_procedure_dates(wc.centre)
    return {p: dates.get(p) for p in batch(wc)}
