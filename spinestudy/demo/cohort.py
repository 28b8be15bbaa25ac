"""The synthetic multi-centre demo cohort: tables, DICOM series, label maps, truth and a few real defects.

Layout under `out`:
  manifest.json            parameters, the patients of each centre and those with images (the checkpoint output)
  truth.yaml               planted effects, reader agreement and ingestion defects, for later stages to recover
  labels.yaml              label value -> structure, for the label maps
  phi.csv                  the fake identities written into the DICOM headers (to prove none reach results/)
  <centre>/dicom/<study_id>/...   one folder per patient of the imaging subset (imaging centres only)
  <centre>/masks/<study_id>.nii.gz  label map on the T2 grid
  <centre>/<clinical and grading files in the centre's own format>, and the second reader's and the
                           first reader's repeat gradings beside them (<gradings>_reader2, <gradings>_repeat)
"""

import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
import yaml

from spinestudy import anatomy
from spinestudy.demo import dicom as demo_dicom
from spinestudy.demo import phantom as demo_phantom
from spinestudy.demo import tables as demo_tables

CENTRE_IDS = tuple(demo_dicom.CENTRE_PROFILES)
PHI_FIELDS = ("PatientName", "PatientID", "PatientBirthDate", "InstitutionName", "ReferringPhysicianName")


def _write_patient(task: tuple) -> dict:
    return demo_dicom.write_patient(*task)


def _series_files(folder: Path, series_uid: str) -> list[Path]:
    """Files of one series in a patient folder, in slice order."""
    files = [p for p in sorted(folder.rglob("*")) if p.is_file()]
    found = [(pydicom.dcmread(p, stop_before_pixels=True), p) for p in files]
    return [p for ds, p in sorted(((ds, p) for ds, p in found if ds.SeriesInstanceUID == series_uid),
                                  key=lambda dp: int(dp[0].InstanceNumber))]


def plant_defects(out: Path, written: list[dict], centres: list[str]) -> list[dict]:
    """Break a few inputs the way real exports break, and say what ingestion must report."""
    defects = []
    first = next(w for w in written if w["centre"] == centres[0])
    stir = _series_files(out / first["centre"] / "dicom" / first["study_id"], first["series"]["STIR"])
    stir[len(stir) // 2].unlink()
    defects.append({"centre": first["centre"], "study_id": first["study_id"], "series": "STIR",
                    "defect": "one slice missing from the middle of the series",
                    "expected": "excluded: missing slice(s)"})
    last = [w for w in written if w["centre"] == centres[-1]][-1]
    (out / last["centre"] / "dicom" / last["study_id"] / "Thumbs.db").write_bytes(b"\x00" * 64)
    defects.append({"centre": last["centre"], "study_id": last["study_id"], "file": "Thumbs.db",
                    "defect": "non-DICOM file in the patient folder",
                    "expected": "not a DICOM file (no 'DICM' prefix at byte 128)"})
    (out / centres[0] / "dicom" / "export_log.txt").write_text("exported by PACS\n")
    defects.append({"centre": centres[0], "file": "export_log.txt",
                    "defect": "file outside any patient folder", "expected": "file outside any patient folder"})
    return defects


def generate(out: str | Path, patients: int, centres: list[str], seed: int, jobs: int = 1,
             images: bool = True, imaging_patients: int | None = None,
             imaging_centres: list[str] | None = None) -> Path:
    """Generate the cohort under `out` deterministically for (patients, centres, seed); return manifest.json.

    With `imaging_patients`, only that many patients (with Modic changes) get DICOM series and masks, in
    `imaging_centres`; all others are tables-only patients of the other centres. No imaging centre (an
    empty list): tables only."""
    out, centres = Path(out), list(centres)
    unknown = sorted(set(centres) - set(CENTRE_IDS))
    if unknown:
        raise ValueError(f"demo centres {unknown} unknown: the demo profiles are {list(CENTRE_IDS)}")
    imaging_patients = demo_tables.imaging_count(imaging_patients, imaging_centres)
    imaging_centres = centres if imaging_centres is None else list(imaging_centres)
    clinical, gradings, truth = demo_tables.simulate_cohort(patients, centres, seed, imaging_patients,
                                                            imaging_centres)
    imaged = clinical[clinical.centre.isin(imaging_centres)]
    reads, read_truth = demo_tables.plant_reads(gradings, seed)
    tables = {}
    for centre in centres:
        paths = demo_tables.write_centre_tables(
            clinical[clinical.centre == centre], gradings[gradings.centre == centre], centre, out / centre
        )
        for read, frame in reads.items():
            paths[f"gradings_{read}"] = demo_tables.write_read_tables(frame, centre, out / centre, read)
        tables[centre] = {name: Path(path).relative_to(out).as_posix() for name, path in paths.items()}
    parameters = {"patients": patients, "centres": centres, "seed": seed}
    if imaging_patients is not None:
        parameters |= {"imaging_patients": imaging_patients, "imaging_centres": imaging_centres}
    truth = {"tables": truth, "agreement": read_truth, "parameters": parameters}
    if images and len(imaged):  # a tables-only cohort (no imaging centre) has no DICOM, masks or PHI list
        seeds = np.random.SeedSequence(seed).generate_state(len(imaged))
        tasks = [
            (out / row.centre / "dicom", out / row.centre / "masks" / f"{row.study_id}.nii.gz", row._asdict(),
             gradings[gradings.study_id == row.study_id].reset_index(drop=True), int(s))
            for row, s in zip(imaged.itertuples(index=False), seeds)
        ]
        with ProcessPoolExecutor(max(1, jobs)) as pool:
            written = list(pool.map(_write_patient, tasks, chunksize=4))
        pd.DataFrame([{"centre": w["centre"], "study_id": w["study_id"], **{k: w["identity"][k] for k in PHI_FIELDS}}
                      for w in written]).to_csv(out / "phi.csv", index=False)
        truth["shapes"] = demo_phantom.PLANTED_SHAPE_EFFECTS
        truth["ingest_defects"] = plant_defects(out, written, sorted({w["centre"] for w in written}))
    (out / "labels.yaml").write_text(yaml.safe_dump({"labels": anatomy.label_table()}, sort_keys=False))
    (out / "truth.yaml").write_text(yaml.safe_dump(truth, sort_keys=False))
    manifest = {
        "parameters": truth["parameters"] | {"images": images},
        "tables": tables,
        "patients": {c: clinical.study_id[clinical.centre == c].tolist() for c in centres},
        "imaging": {c: imaged.study_id[imaged.centre == c].tolist() for c in centres if (imaged.centre == c).any()},
    }
    path = out / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2))
    return path
