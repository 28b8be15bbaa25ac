"""Radiomics jobs (one patient, a batch of patients) as the config describes them: structures, sequences, image types.

Structures come from the label table, filtered by the `structures` pattern. `required` structures must
be in every patient's mask (absent: an exclusion line); the others (Modic lesions) exist only where a
lesion was graded, so their absence from a mask is no exclusion. A mask is checked first: a plain label map's
values not in the label table, and a named mask's segments whose names are no structure (through the centre's
`segment_names` map), are logged with their voxel counts; fractional values refuse the patient unless
`round_labels` (then the rounding is logged).
"""

import logging
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

logger = logging.getLogger(__name__)


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


def _present(mask: Path, settings: dict) -> set[int]:
    """Label-table values a mask holds: a plain label map's own values; for a mask naming its segments, the
    values of the structures its segments name."""
    names = masks.segment_names(mask)
    if names is None:
        return set(np.unique(sitk.GetArrayFromImage(sitk.ReadImage(str(mask)))).tolist())
    found = masks.named_by(names, read_labels(settings["labels"]), settings.get("segment_names"))
    return {value for value, numbers in found.items() if numbers}


def select_rois(mask: str | Path | None, settings: dict) -> dict[int, str]:
    """Label value -> structure of the configured ROIs, without optional ones the mask lacks."""
    rois = {k: s for k, s in read_labels(settings["labels"]).items() if re.search(settings["structures"], s)}
    if mask:
        present = _present(Path(mask), settings)
        rois = {k: s for k, s in rois.items() if k in present or re.search(settings["required"], s)}
    return rois


def _unnamed(mask: Path, table: dict[int, str], settings: dict, centre: str, patient: str) -> list[Exclusion]:
    """Log lines of a named mask's voxels no structure gets: segments whose names (through the centre's
    `segment_names`) are no structure of the label table, and .seg.nrrd values no segment names. The names
    are free text: they go to the job log only, the exclusion line gives the segment's number."""
    names = masks.segment_names(mask)
    used = {n for numbers in masks.named_by(names, table, settings.get("segment_names")).values() for n in numbers}
    sizes = masks.segment_sizes(mask, sorted(set(names) - used))
    rejected = []
    for number, size in sizes.items():
        logger.warning("patient %s: mask segment %d is named %r, no structure of the label table: its %s belong to "
                    "no structure", patient, number, names[number], size)
        rejected.append(Exclusion(centre, patient, f"mask segment {number}", STAGE,
                                  f"segment {number}'s name is no structure of the label table (nor in segment_names):"
                                  f" its {size} belong to no structure (the job log names it)"))
    if masks.is_label_map(mask):
        rejected += [Exclusion(centre, patient, f"mask layer {layer} label {value}", STAGE,
                               f"label value {value} of layer {layer} is no segment's: its {count} voxels belong to "
                               "no structure") for (layer, value), count in masks.unnamed_values(mask).items()]
    return rejected


def checked_mask(mask: str | Path, settings: dict, centre: str, patient: str,
                 workdir: str | Path) -> tuple[str | Path | None, list[Exclusion]]:
    """The mask to extract from (None: refused) and its log lines. A label map's values outside the label table
    and a named mask's unknown segments are logged with their voxel counts; an unreadable file or fractional
    values refuse it (the job's stderr names the file, the log cannot) unless `round_labels`, when the rounded
    map is written into workdir and the rounding logged. A plain label map with the centre's ITK-SNAP
    `label_descriptions` is written into workdir with those names (then the names decide)."""
    table = read_labels(settings["labels"])
    unknown = set((settings.get("segment_names") or {}).values()) - set(table.values())
    if unknown:
        raise ValueError(f"centres.{centre}.segment_names: {sorted(unknown)} are no structures of the label table "
                         f"{settings['labels']}")
    if not masks.is_label_map(Path(mask)):
        return mask, _unnamed(Path(mask), table, settings, centre, patient)
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
        log.append(Exclusion(centre, patient, "mask", STAGE, f"label map with non-integer values in {rounded} "
                                                             "voxels: rounded to the nearest integer (round_labels)"))
    described = settings.get("label_descriptions") and masks.segment_names(mask) is None
    if described:
        label_map = masks.named_label_map(label_map, masks.read_label_descriptions(settings["label_descriptions"]))
    if rounded or described:
        mask = Path(workdir) / "checked_mask.mha"  # MetaImage keeps the segment names and the grid as read
        sitk.WriteImage(label_map, str(mask), useCompression=True)
    if masks.segment_names(mask) is not None:
        return mask, log + _unnamed(Path(mask), table, settings, centre, patient)
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
            segment_names=settings.get("segment_names"),
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
        if mask is not None and masks.is_label_map(Path(mask)):  # its log lines were written by run_patient
            mask, _ = checked_mask(mask, radiomics, centre, patient, workdir)
        usable = mask is not None and masks.is_label_map(Path(mask)) and None not in volumes.values()
        present = _present(Path(mask), radiomics) if usable else set()
        rois = {k: s for k, s in select_rois(mask, radiomics).items()
                if k in present and re.search(cfg["structures"], s)}
        rows = robustness.perturbed_rows(
            volumes, mask, rois, cfg["params"], centre, patient, radiomics_stats, Path(workdir),
            radiomics.get("segment_names")) if rois else pd.DataFrame(columns=[*KEYS, "perturbation"])
    rows.to_parquet(out, index=False)


def run_robustness_batch(volume_dir: str | Path, patient_masks: dict[str, str | None], radiomics: dict,
                         radiomics_stats: dict, centre: str, out: str | Path) -> None:
    """run_robustness for each patient of a batch (pseudonym -> mask); one file for the batch."""
    batch.run(patient_masks, lambda patient, tmp: run_robustness(
        Path(volume_dir) / patient, patient_masks[patient], radiomics, radiomics_stats, centre, patient, tmp["rows"],
    ), {"rows": (out, merge)})
