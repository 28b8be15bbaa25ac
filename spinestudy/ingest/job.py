"""DICOM ingestion of patient folders: index every series, check it, write the chosen volumes.

Nothing identifying leaves this module: the patient is named by its pseudonym, UIDs and PatientIDs by keyed
pseudonyms, files by keyed labels (the label -> path lookup goes to a local log outside results/), series
descriptions by the words that tell their class (the text as written goes to another local log), and the NIfTI
volumes carry no header text.
"""

from datetime import date
from functools import partial
from pathlib import Path

import pandas as pd
import SimpleITK as sitk

from spinestudy import batch, exclusions, ids, pseudonym
from spinestudy.exclusions import Exclusion
from spinestudy.ingest import sources
from spinestudy.ingest.choice import choose_study, folder_patient, patient_id, preferred, rank_series
from spinestudy.ingest.dicom_series import Series, Slice, UnreadableFile, check, describe, group_series, read_slices
from spinestudy.ingest.sequences import classify
from spinestudy.ingest.volume import UndecodablePixels, build

STAGE = "ingest"
FOLDER = "patient folder"  # the exclusion item of a line about the whole patient
INDEX_COLUMNS = [
    "centre", "patient", "study_uid", "series_uid", "series_number", "series_description", "modality",
    "sequence", "orientation", "n_slices", "rows", "columns", "pixel_spacing_row",
    "pixel_spacing_col", "slice_thickness", "slice_spacing", "manufacturer", "model", "field_strength",
    "repetition_time", "echo_time", "inversion_time", "status", "reason", "volume",
]
DESCRIPTION_COLUMNS = ["centre", "patient", "series_uid", "series_number", "series_description"]
# A volume is <sequence><suffix>: NIfTI from a DICOM series, MetaImage (double-precision grid) from images.py
METAIMAGE = ".mha"
VOLUME_SUFFIXES = (".nii.gz", METAIMAGE)


def volume_file(folder: str | Path, sequence: str) -> Path | None:
    """A patient's volume of a sequence in its volume folder, or None."""
    return next((p for p in (Path(folder) / f"{sequence}{s}" for s in VOLUME_SUFFIXES) if p.is_file()), None)


def read_all(found: list[sources.Item], centre: str, patient: str) -> tuple[list[Slice], list[Exclusion]]:
    """Header-read every file; unreadable files and unusable pixel data become exclusions."""
    slices, rejected = [], []
    for item in found:
        try:
            read = read_slices(item)
        except UnreadableFile as exc:
            rejected.append(Exclusion(centre, patient, item.label, STAGE, str(exc)))
            continue
        slices += read
        if read and read[0].problem:
            rejected.append(Exclusion(centre, patient, item.label, STAGE, read[0].problem))
    return slices, rejected


def write_volumes(series_list: list[Series], rows: list[dict], out: Path, rule: str) -> None:
    """One volume per configured sequence: of its valid series, the one rank_series puts first (most slices,
    then the latest or first acquired, by rule); a series whose pixels cannot be decoded is excluded and the
    next one tried. The chosen row's reason says which rule chose it when there were several."""
    by_key = {id(s): s for s in series_list}
    groups: dict[str, list[dict]] = {}
    for row in rows:
        if row["status"] == "candidate":
            groups.setdefault(row["sequence"], []).append(row)
    for seq, group in sorted(groups.items()):
        row_of = {row["_key"]: row for row in group}
        ranked, timed = rank_series([by_key[key] for key in row_of], rule)
        chosen = None
        for series in ranked:
            row = row_of[id(series)]
            if chosen is not None:
                row["status"], row["reason"] = "not used", (
                    f"another {seq} series was chosen (series number {chosen.first.get('SeriesNumber')}: "
                    f"{preferred(chosen, series, timed, rule)})")
                continue
            try:
                image = build(series)
            except UndecodablePixels as exc:
                row["status"], row["reason"] = "excluded", str(exc)
                continue
            write_image(image, out / f"{seq}.nii.gz")
            chosen, row["status"] = series, "volume"
            if len(group) > 1:
                choice = (f"chosen of {len(group)} {seq} series: most slices, then the {rule} acquired "
                          f"(config ingest.series_choice: {rule})")
                row["reason"] = "; ".join(filter(None, (choice, row["reason"])))


def write_image(image: sitk.Image, path: Path) -> None:
    """Write a NIfTI that carries no DICOM header text."""
    for key in image.GetMetaDataKeys():
        image.EraseMetaData(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(image, str(path), useCompression=True)


def set_aside(series_list: list[Series], source: Path, centre: str, cfg: dict, key: bytes,
              procedure_date: date | None, expected_ids: tuple[str, ...]) -> tuple[dict[int, tuple[str, str]], str]:
    """(status, reason) of each series (by id()) of another patient or another study, and the reason the
    whole patient is excluded ("" when the folder's patient is established)."""
    study_id = ids.entry_name(source)
    owner, how = folder_patient(series_list, {study_id, *expected_ids}, cfg["patient_majority"],
                                lambda i: pseudonym.patient(key, centre, i))
    if owner is None:
        return {id(s): ("excluded", how) for s in series_list}, how
    aside = {id(s): ("excluded", f"PatientID (0010,0020) {pseudonym.patient(key, centre, patient_id(s))} is not "
                                 f"the folder's patient ({how})")
             for s in series_list if patient_id(s) != owner}
    own = [s for s in series_list if id(s) not in aside]
    if own:
        study, others = choose_study(own, cfg["study_choice"], procedure_date, lambda u: pseudonym.uid(key, u))
        aside |= {id(s): ("not used", others[str(s.first.get("StudyInstanceUID", ""))]) for s in own
                  if str(s.first.get("StudyInstanceUID", "")) != study}
    return aside, ""


def _row(series: Series, cfg: dict, set_aside: tuple[str, str] | None) -> dict:
    """Index facts of a series, checked when it is a configured sequence and orientation (or lacks one);
    set_aside: (status, reason) of a series of another patient or study."""
    facts = describe(series, cfg["sequence_rules"])
    sequence = classify(series.first, cfg["sequence_rules"])
    status, reason = "candidate", ""
    if set_aside:
        status, reason = set_aside
    elif sequence in cfg["sequences"] and facts["orientation"] in (cfg["orientation"], "mixed", None):
        check(series, cfg)
        if series.problems:
            status, reason = "excluded", "; ".join(series.problems)
        elif series.shear is not None:
            reason = ("resampled onto the orthogonal grid of its first slice: sheared stack (gantry tilt), largest "
                      f"in-plane shift {abs(series.shear).max():.3f} mm")
    else:
        status, reason = "not used", (
            f"sequence class {sequence}, orientation {facts['orientation']}: not among the configured "
            f"{'/'.join(cfg['sequences'])} {cfg['orientation']} series"
        )
    facts["slice_spacing"] = series.slice_spacing
    return {"_key": id(series), **facts, "sequence": sequence, "status": status, "reason": reason}


def ingest_patient(
    folder: Path, centre: str, patient: str, cfg: dict, key: bytes,
    out_index: Path, out_exclusions: Path, out_volumes: Path, out_lookup: Path | None = None,
    procedure_date: date | None = None, expected_ids: tuple[str, ...] = (), out_descriptions: Path | None = None,
) -> None:
    """Index, check and convert every file of one patient (a folder or a ZIP archive); write index rows,
    exclusions, volumes, the local label -> path lookup and the local series_uid -> SeriesDescription lookup.

    procedure_date: the clinical procedure date, for the study choice; expected_ids: PatientIDs the folder's
    study id stands for (from the centre's mapping)."""
    folder, out_volumes = Path(folder), Path(out_volumes)
    found, skipped = sources.items(folder, key, patient)
    rejected = [Exclusion(centre, patient, s.label, STAGE, s.reason) for s in skipped]
    if not found and not skipped:
        rejected.append(Exclusion(centre, patient, FOLDER, STAGE, "empty patient folder: no files"))
    slices, unreadable = read_all(found, centre, patient)
    rejected += unreadable
    series_list = group_series(slices)
    aside, doubt = set_aside(series_list, folder, centre, cfg, key, procedure_date, expected_ids)
    if doubt:
        rejected.append(Exclusion(centre, patient, FOLDER, STAGE, doubt))
    rows = [_row(s, cfg, aside.get(id(s))) for s in series_list]
    out_volumes.mkdir(parents=True, exist_ok=True)
    write_volumes(series_list, rows, out_volumes, cfg["series_choice"])
    for row, series in zip(rows, series_list):
        uid = series.uid + (f"/{series.echo}" if series.echo else "")
        row.update(
            centre=centre, patient=patient,
            study_uid=pseudonym.uid(key, str(series.first.get("StudyInstanceUID", ""))),
            series_uid=pseudonym.uid(key, uid),
            volume=(out_volumes / f"{row['sequence']}.nii.gz").as_posix() if row["status"] == "volume" else "",
        )
        if row["status"] != "volume":
            words = row["series_description"]
            item = f"series {row['series_number']}" + (f" ({words})" if words else "")
            rejected.append(Exclusion(centre, patient, item, STAGE, f"{row['status']}: {row['reason']}"))
    pd.DataFrame(rows, columns=INDEX_COLUMNS).to_parquet(out_index, index=False)
    exclusions.write(rejected, out_exclusions)
    if out_lookup is not None:
        sources.lookup(centre, patient, [*found, *skipped]).to_csv(out_lookup, index=False)
    if out_descriptions is not None:
        written = [(centre, patient, row["series_uid"], row["series_number"], str(s.first.get("SeriesDescription", "")))
                   for row, s in zip(rows, series_list)]
        pd.DataFrame(written, columns=DESCRIPTION_COLUMNS).to_csv(out_descriptions, index=False)


def read_patient_ids(path: str | Path | None) -> dict[str, set[str]]:
    """A centre's PatientID mapping (CSV columns study_id, patient_id): study id -> the PatientIDs it stands for."""
    if not path:
        return {}
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    mapping: dict[str, set[str]] = {}
    for study_id, pid in zip(table["study_id"].str.strip(), table["patient_id"].str.strip()):
        mapping.setdefault(study_id, set()).add(pid)
    return mapping


def ingest_batch(folders: dict[str, str | Path], centre: str, cfg: dict, key: bytes,
                 out_index: Path, out_exclusions: Path, out_volumes: Path, out_lookup: Path | None = None,
                 procedure_dates: dict[str, str | None] | None = None, patient_ids: str | Path | None = None,
                 out_descriptions: Path | None = None) -> None:
    """ingest_patient for each patient folder of a batch (pseudonym -> folder): volumes under
    out_volumes/<pseudonym>/, one index, one exclusion log and one of each lookup for the batch.

    procedure_dates: pseudonym -> ISO date (or None); patient_ids: the centre's PatientID mapping file."""
    Path(out_volumes).mkdir(parents=True, exist_ok=True)
    dates, mapping = procedure_dates or {}, read_patient_ids(patient_ids)
    outputs = {"index": (out_index, merge_index), "exclusions": (out_exclusions, exclusions.merge)}
    if out_lookup is not None:
        outputs["lookup"] = (out_lookup, partial(merge_csv, columns=sources.LOOKUP_COLUMNS))
    if out_descriptions is not None:
        outputs["descriptions"] = (out_descriptions, partial(merge_csv, columns=DESCRIPTION_COLUMNS))

    def one(patient, tmp):
        source = Path(folders[patient])
        when = dates.get(patient)
        ingest_patient(source, centre, patient, cfg, key, tmp["index"], tmp["exclusions"],
                       Path(out_volumes) / patient, tmp.get("lookup"), date.fromisoformat(when) if when else None,
                       tuple(mapping.get(ids.entry_name(source), ())), tmp.get("descriptions"))

    batch.run(folders, one, outputs)


def merge_csv(paths: list[str | Path], out: str | Path, columns: list[str]) -> None:
    """Concatenate the patients' lookups (text kept as written; columns: of an empty result)."""
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in paths]
    pd.concat(frames or [pd.DataFrame(columns=columns)]).to_csv(out, index=False)


def merge_index(paths: list[str | Path], out: str | Path) -> None:
    """Concatenate index files (of patients, of batches) into one, sorted by centre, patient and series."""
    frames = [pd.read_parquet(p) for p in paths]
    index = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=INDEX_COLUMNS)
    index.sort_values(["centre", "patient", "series_number", "series_uid"], kind="stable").to_parquet(out, index=False)


def merge_exclusions(paths: list[str | Path], stray: dict[str, list[str]], out: str | Path, key: bytes,
                     out_lookup: str | Path) -> None:
    """Merge the batches' exclusion logs, adding files found outside any patient folder (by keyed label; the
    label -> name lookup goes to out_lookup, outside results/)."""
    found = [(centre, name, sources.label(key, f"{centre}:", name)) for centre, names in stray.items() for name in names]
    outside = [Exclusion(centre, "", tag, STAGE, "file outside any patient folder") for centre, _, tag in found]
    exclusions.merge(paths, out, extra=outside)
    pd.DataFrame([(c, "", tag, name) for c, name, tag in found], columns=sources.LOOKUP_COLUMNS).to_csv(
        out_lookup, index=False)
