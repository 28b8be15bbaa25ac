"""DICOM ingestion of patient folders: index every series, check it, write the chosen volumes.

Nothing identifying leaves this module: the patient is named by its pseudonym, UIDs are replaced by
keyed UIDs, files are named relative to the patient folder, and the NIfTI volumes carry no header text.
"""

from pathlib import Path

import pandas as pd
import SimpleITK as sitk

from spinestudy import batch, exclusions, pseudonym
from spinestudy.exclusions import Exclusion
from spinestudy.ingest.dicom_series import Series, Slice, UnreadableFile, check, describe, group_series, read_header
from spinestudy.ingest.sequences import classify

STAGE = "ingest"
INDEX_COLUMNS = [
    "centre", "patient", "study_uid", "series_uid", "series_number", "series_description", "modality",
    "sequence", "orientation", "n_slices", "rows", "columns", "pixel_spacing_row",
    "pixel_spacing_col", "slice_thickness", "slice_spacing", "manufacturer", "model", "field_strength",
    "repetition_time", "echo_time", "inversion_time", "status", "reason", "volume",
]


def read_slices(folder: Path, files: list[Path], centre: str, patient: str) -> tuple[list[Slice], list[Exclusion]]:
    """Header-read every file; unreadable files and unusable pixel data become exclusions."""
    slices, rejected = [], []
    for path in sorted(files):
        rel = path.relative_to(folder).as_posix()
        try:
            ds, problem = read_header(path)
        except UnreadableFile as exc:
            rejected.append(Exclusion(centre, patient, rel, STAGE, str(exc)))
            continue
        slices.append(Slice(rel, path, ds, problem))
        if problem:
            rejected.append(Exclusion(centre, patient, rel, STAGE, problem))
    return slices, rejected


def _foreign_patient(series_list: list[Series]) -> set[str]:
    """UIDs of series whose PatientID differs from the folder's most common PatientID."""
    ids = [str(s.first.get("PatientID", "")) for s in series_list]
    if len(set(ids)) < 2:
        return set()
    majority = max(sorted(set(ids)), key=ids.count)
    return {s.uid for s, i in zip(series_list, ids) if i != majority}


def select(series_list: list[Series], rows: list[dict]) -> dict[str, Series]:
    """Choose one valid series per configured sequence (most slices, then lowest series number)."""
    chosen: dict[str, Series] = {}
    candidates = sorted(
        (r for r in rows if r["status"] == "candidate"),
        key=lambda r: (-r["n_slices"], r["series_number"] if r["series_number"] is not None else 1 << 30),
    )
    by_uid = {s.uid: s for s in series_list}
    for row in candidates:
        seq = row["sequence"]
        if seq in chosen:
            row["status"], row["reason"] = "not used", (
                f"another {seq} series was chosen (series number {chosen[seq].first.get('SeriesNumber')})"
            )
        else:
            chosen[seq] = by_uid[row["_uid"]]
            row["status"] = "volume"
    return chosen


def write_volume(series: Series, path: Path) -> None:
    """Read the ordered slices with SimpleITK and write a NIfTI that carries no DICOM header text."""
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames([str(s.path) for s in series.ordered])
    image = reader.Execute()
    for key in image.GetMetaDataKeys():
        image.EraseMetaData(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(image, str(path), useCompression=True)


def ingest_patient(
    folder: Path, centre: str, patient: str, cfg: dict, key: bytes,
    out_index: Path, out_exclusions: Path, out_volumes: Path,
) -> None:
    """Index, check and convert every file under one patient folder; write index rows, exclusions, volumes."""
    folder, out_volumes = Path(folder), Path(out_volumes)
    files = [p for p in folder.rglob("*") if p.is_file()]
    slices, rejected = read_slices(folder, files, centre, patient)
    series_list = group_series(slices)
    foreign = _foreign_patient(series_list)
    rows = []
    for series in series_list:
        facts = describe(series)
        sequence = classify(series.first, cfg["sequence_rules"])
        status, reason = "candidate", ""
        if series.uid in foreign:
            series.problems.append("PatientID (0010,0020) differs from the rest of the patient folder")
        elif sequence in cfg["sequences"] and facts["orientation"] == cfg["orientation"]:
            check(series, cfg["orientation_tolerance"], cfg["slice_spacing_tolerance"])
        else:
            status, reason = "not used", (
                f"sequence class {sequence}, orientation {facts['orientation']}: not among the configured "
                f"{'/'.join(cfg['sequences'])} {cfg['orientation']} series"
            )
        if series.problems:
            status, reason = "excluded", "; ".join(series.problems)
        facts["slice_spacing"] = series.slice_spacing
        rows.append({"_uid": series.uid, **facts, "sequence": sequence, "status": status, "reason": reason})
    chosen = select(series_list, rows)
    out_volumes.mkdir(parents=True, exist_ok=True)
    for sequence, series in chosen.items():
        write_volume(series, out_volumes / f"{sequence}.nii.gz")
    for row, series in zip(rows, series_list):
        row.update(
            centre=centre, patient=patient,
            study_uid=pseudonym.uid(key, str(series.first.get("StudyInstanceUID", ""))),
            series_uid=pseudonym.uid(key, series.uid),
            volume=(out_volumes / f"{row['sequence']}.nii.gz").as_posix() if row["status"] == "volume" else "",
        )
        if row["status"] != "volume":
            item = f"series {row['series_number']} ({row['series_description']})"
            rejected.append(Exclusion(centre, patient, item, STAGE, f"{row['status']}: {row['reason']}"))
    index = pd.DataFrame(rows, columns=INDEX_COLUMNS)
    index.to_parquet(out_index, index=False)
    exclusions.write(rejected, out_exclusions)


def ingest_batch(folders: dict[str, str | Path], centre: str, cfg: dict, key: bytes,
                 out_index: Path, out_exclusions: Path, out_volumes: Path) -> None:
    """ingest_patient for each patient folder of a batch (pseudonym -> folder): volumes under
    out_volumes/<pseudonym>/, one index and one exclusion log for the batch."""
    Path(out_volumes).mkdir(parents=True, exist_ok=True)
    batch.run(folders, lambda patient, tmp: ingest_patient(
        folders[patient], centre, patient, cfg, key, tmp["index"], tmp["exclusions"], Path(out_volumes) / patient,
    ), {"index": (out_index, merge_index), "exclusions": (out_exclusions, exclusions.merge)})


def merge_index(paths: list[str | Path], out: str | Path) -> None:
    """Concatenate index files (of patients, of batches) into one, sorted by centre, patient and series."""
    frames = [pd.read_parquet(p) for p in paths]
    index = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=INDEX_COLUMNS)
    index.sort_values(["centre", "patient", "series_number", "series_uid"], kind="stable").to_parquet(out, index=False)


def merge_exclusions(paths: list[str | Path], stray: dict[str, list[str]], out: str | Path) -> None:
    """Merge the batches' exclusion logs, adding files found outside any patient folder."""
    outside = [
        Exclusion(centre, "", name, STAGE, "file outside any patient folder")
        for centre, names in stray.items()
        for name in names
    ]
    exclusions.merge(paths, out, extra=outside)
