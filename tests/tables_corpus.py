"""Builders for the tables-stage tests: demo centre files, and broken copies of them."""

import copy
import hashlib
from pathlib import Path

import pandas as pd

from spinestudy.demo import tables as demo_tables
from spinestudy.ingest.job import INDEX_COLUMNS
from spinestudy.tables import readers as table_io
from spinestudy.tables.schemas import SeriesIndex

KEY = b"tables-test-key"
CENTRES = ("A", "B", "C", "D")


def demo(folder: Path, n: int = 16, centres=CENTRES, seed: int = 5) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Write the demo centres' files under folder/<centre>; return canonical clinical, gradings, centres config."""
    clinical, gradings, _ = demo_tables.simulate_cohort(n, list(centres), seed)
    config = {}
    for centre in centres:
        demo_tables.write_centre_tables(clinical, gradings, centre, folder / centre)
        config[centre] = table_io.demo_mapping(centre, folder / centre)
    return clinical, gradings, config


def broken(spec: dict, path: Path, edit, **read) -> dict:
    """Copy of a CSV/XLSX mapping whose file is the original with `edit(frame)` applied (all text)."""
    source = Path(spec["path"])
    if spec["format"] == "xlsx":
        frame = pd.read_excel(source, sheet_name=spec["sheet"], dtype=str, keep_default_na=False)
    else:
        frame = pd.read_csv(source, sep=spec.get("sep", ","), dtype=str, keep_default_na=False)
    frame = edit(frame)
    if spec["format"] == "xlsx":
        frame.to_excel(path, sheet_name=spec["sheet"], index=False, **read)
    else:
        frame.to_csv(path, sep=spec.get("sep", ","), index=False, **read)
    return copy.deepcopy(spec) | {"path": str(path)}


def set_cell(row: int, column: str, value: str):
    """Edit for `broken`: set the cell at a CSV line / Excel row number (header = 1)."""
    def edit(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[row - 2, column] = value
        return frame
    return edit


def digest(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under folder (to prove inputs are never modified)."""
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def series_index(rows):
    """A minimal valid series index with one row per (centre, patient, status)."""
    frame = pd.DataFrame([{c: None for c in INDEX_COLUMNS} | {
        "centre": c, "patient": p, "study_uid": f"2.25.{i}", "series_uid": f"2.25.{100 + i}",
        "series_number": i, "sequence": "T2", "n_slices": 15, "status": s} for i, (c, p, s) in enumerate(rows)])
    return SeriesIndex.validate(frame)
