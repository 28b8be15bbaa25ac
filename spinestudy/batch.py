"""One Snakemake job for a batch of patients: a per-patient function writes into temporary files, which are
then merged into the job's outputs (config batch_digits sets how many patients a batch holds; `auto`:
auto_digits)."""

import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

Merge = Callable[[list[Path], str | Path], None]
ONE_JOB_PER_PATIENT = 1000  # patients with images up to which `batch_digits: auto` gives each patient a job


def auto_digits(patients: int) -> int:
    """batch_digits for `auto` from the study's patients with images: 12 (one job per patient) up to 1,000;
    beyond, batches by the pseudonyms' first 2 hex digits (at most 256 per centre) below 16**4 = 65,536
    patients and one digit more per 16-fold growth (3 digits from 65,536, 4 from 16**5), so a batch holds
    at most a few hundred patients. A step function of the size: batches change only when a cohort crosses
    one of these sizes."""
    if patients <= ONE_JOB_PER_PATIENT:
        return 12
    return max(2, (patients.bit_length() - 1) // 4 - 1)  # floor(log16(patients)) - 1, in exact integers


def run(patients: Iterable[str], per_patient: Callable[[str, dict[str, Path]], None],
        outputs: dict[str, tuple[str | Path, Merge]]) -> None:
    """Call per_patient(patient, {name: temporary path}) for each patient in sorted order, then write each
    output with its merge function (output name -> (path, merge)) from the patients' temporary files."""
    with tempfile.TemporaryDirectory() as tmp:
        parts = {name: [] for name in outputs}
        for patient in sorted(patients):
            paths = {name: Path(tmp) / f"{patient}.{name}{Path(out).suffix}" for name, (out, _) in outputs.items()}
            per_patient(patient, paths)
            for name, path in paths.items():
                parts[name].append(path)
        for name, (out, merge) in outputs.items():
            merge(parts[name], out)
