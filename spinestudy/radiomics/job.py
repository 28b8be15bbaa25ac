"""Radiomics jobs (one patient, a batch of patients) as the config describes them: structures, sequences, image types.

Structures come from the label table, filtered by the `structures` pattern. `required` structures must
be in every patient's mask (absent: an exclusion line); the others (Modic lesions) exist only where a
lesion was graded, so their absence from a label map is no exclusion. A label map is checked first: values
not in the label table are logged with their voxel counts, and fractional values refuse the patient unless
`round_labels` (then the rounding is logged).
"""

import re
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import SimpleITK as sitk
import yaml

from spinestudy import batch, exclusions
from spinestudy.exclusions import Exclusion
from spinestudy.ingest.job import volume_file
from spinestudy.radiomics import masks, robustness
from spinestudy.radiomics.extract import KEYS, STAGE, extract_patient, merge


def read_labels(path: str | Path) -> dict[int, str]:
    """Label value -> structure name from a label-table YAML (`labels:` mapping)."""
    with open(path) as fh:
        return {int(k): str(v) for k, v in yaml.safe_load(fh)["labels"].items()}


def image_types(structures: list[str], patterns: dict[str, list[str]]) -> dict[str, list[str]]:
    """Structure -> image types of the first pattern that matches it; unmatched structures get them all."""
    chosen = {}
    for structure in structures:
        match = next((types for pattern, types in patterns.items() if re.search(pattern, structure)), None)
        if match is not None:
            chosen[structure] = match
    return chosen


def _present(mask: Path) -> set[int] | None:
    """Label values in a label map; None for DICOM SEG / RTSTRUCT, whose ROIs are all treated as required."""
    if not masks.is_label_map(mask):
        return None
    return set(np.unique(sitk.GetArrayFromImage(sitk.ReadImage(str(mask)))).tolist())


def select_rois(mask: str | Path | None, settings: dict) -> dict[int, str]:
    """Label value -> structure of the configured ROIs, without optional ones the label map lacks."""
    rois = {k: s for k, s in read_labels(settings["labels"]).items() if re.search(settings["structures"], s)}
    present = _present(Path(mask)) if mask else None
    if present is not None:
        rois = {k: s for k, s in rois.items() if k in present or re.search(settings["required"], s)}
    return rois


def checked_mask(mask: str | Path, settings: dict, centre: str, patient: str,
                 workdir: str | Path) -> tuple[str | Path | None, list[Exclusion]]:
    """The mask to extract from (None: refused) and its log lines. A label map's values outside the label table
    are logged with their voxel counts; an unreadable file or fractional values refuse it (the job's stderr
    names the file, the log cannot) unless `round_labels`, when the rounded map is written into workdir and the
    rounding logged."""
    if not masks.is_label_map(Path(mask)):
        return mask, []
    try:
        label_map, rounded = masks.read_label_map(mask, settings.get("round_labels", False))
    except masks.NonIntegerLabels as exc:
        print(f"radiomics: patient {patient}: {exc}", file=sys.stderr)
        return None, [Exclusion(centre, patient, "mask", STAGE, exc.reason)]
    except RuntimeError as exc:  # ITK's message names the file
        print(f"radiomics: patient {patient}: {exc}", file=sys.stderr)
        return None, [Exclusion(centre, patient, "mask", STAGE, "mask file unreadable by SimpleITK")]
    log = []
    if rounded:
        mask = Path(workdir) / "rounded_mask.mha"  # MetaImage keeps the grid as read (NIfTI: float32)
        sitk.WriteImage(label_map, str(mask), useCompression=True)
        log.append(Exclusion(centre, patient, "mask", STAGE, f"label map with non-integer values in {rounded} "
                                                             "voxels: rounded to the nearest integer (round_labels)"))
    table = read_labels(settings["labels"])
    values, counts = np.unique(sitk.GetArrayViewFromImage(label_map), return_counts=True)
    log += [Exclusion(centre, patient, f"mask label {value:g}", STAGE,
                      f"label value {value:g} is not in the label table: its {count} voxels belong to no structure")
            for value, count in zip(values.tolist(), counts.tolist()) if value != 0 and value not in table]
    return mask, log


def run_patient(volume_dir: str | Path, mask: str | Path | None, settings: dict, centre: str, patient: str,
                out: str | Path, out_diagnostics: str | Path, out_exclusions: str | Path) -> None:
    """Extract the configured ROIs of one patient and write features, diagnostics and exclusions."""
    rejected = []
    volumes = {}
    for sequence in settings["sequences"]:
        path = volume_file(volume_dir, sequence)
        if path is not None:
            volumes[sequence] = path
        else:
            rejected.append(Exclusion(centre, patient, sequence, STAGE,
                                      f"no {sequence} volume (see results/ingest/exclusions.csv)"))
    with tempfile.TemporaryDirectory() as workdir:
        if mask is None:
            rejected.append(Exclusion(centre, patient, "mask", STAGE, "no mask file for this patient"))
        else:
            mask, logged = checked_mask(mask, settings, centre, patient, workdir)
            rejected += logged
        if mask is None:
            volumes = {}
        rois = select_rois(mask, settings) if volumes else {}
        rejected += extract_patient(
            volumes, mask, rois, settings["params"], centre, patient, out, out_diagnostics,
            min_voxels=settings["min_voxels"], resample_mask=settings["resample_mask"],
            image_types=image_types(list(rois.values()), settings["image_types"]),
        )
    exclusions.write(rejected, out_exclusions)


def run_batch(volume_dir: str | Path, patient_masks: dict[str, str | None], settings: dict, centre: str,
              out: str | Path, out_diagnostics: str | Path, out_exclusions: str | Path) -> None:
    """run_patient for each patient of a batch (pseudonym -> mask), volumes under volume_dir/<pseudonym>/;
    one features, diagnostics and exclusions file for the batch."""
    batch.run(patient_masks, lambda patient, tmp: run_patient(
        Path(volume_dir) / patient, patient_masks[patient], settings, centre, patient,
        tmp["features"], tmp["diagnostics"], tmp["exclusions"],
    ), {"features": (out, merge), "diagnostics": (out_diagnostics, merge),
        "exclusions": (out_exclusions, exclusions.merge)})


def run_robustness(volume_dir: str | Path, mask: str | Path | None, radiomics: dict, radiomics_stats: dict,
                   centre: str, patient: str, out: str | Path) -> None:
    """Re-extract the robustness structures unperturbed, eroded and dilated (robustness.perturbed_rows) with
    the robustness parameters; write their rows. Patients without a label map or volume contribute none."""
    cfg = radiomics_stats["robustness"]
    volumes = {s: volume_file(volume_dir, s) for s in cfg["sequences"]}
    with tempfile.TemporaryDirectory() as workdir:
        if mask is not None:  # its label values were logged by run_patient
            mask, _ = checked_mask(mask, radiomics, centre, patient, workdir)
        usable = mask is not None and masks.is_label_map(Path(mask)) and None not in volumes.values()
        present = _present(Path(mask)) if usable else set()
        rois = {k: s for k, s in select_rois(mask, radiomics).items()
                if k in present and re.search(cfg["structures"], s)}
        rows = robustness.perturbed_rows(volumes, mask, rois, cfg["params"], centre, patient, radiomics_stats,
                                         Path(workdir)) if rois else pd.DataFrame(columns=[*KEYS, "perturbation"])
    rows.to_parquet(out, index=False)


def run_robustness_batch(volume_dir: str | Path, patient_masks: dict[str, str | None], radiomics: dict,
                         radiomics_stats: dict, centre: str, out: str | Path) -> None:
    """run_robustness for each patient of a batch (pseudonym -> mask); one file for the batch."""
    batch.run(patient_masks, lambda patient, tmp: run_robustness(
        Path(volume_dir) / patient, patient_masks[patient], radiomics, radiomics_stats, centre, patient, tmp["rows"],
    ), {"rows": (out, merge)})
