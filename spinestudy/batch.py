"""One Snakemake job for a batch of patients: a per-patient function writes into temporary files, which are
then merged into the job's outputs (config batch_digits sets how many patients a batch holds)."""

import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

Merge = Callable[[list[Path], str | Path], None]


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
