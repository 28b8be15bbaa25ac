"""The exclusion log: one line per file, series, row or ROI that did not go on, with its reason."""

from dataclasses import astuple, dataclass, fields
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class Exclusion:
    centre: str
    patient: str  # pseudonym, or "" when the item belongs to no patient
    item: str  # file (keyed label, never its name), series number, table row or ROI
    stage: str
    reason: str


COLUMNS = [f.name for f in fields(Exclusion)]


def frame(rows: list[Exclusion]) -> pd.DataFrame:
    """Exclusions as a DataFrame with the log's columns, sorted for deterministic output."""
    df = pd.DataFrame([astuple(r) for r in rows], columns=COLUMNS, dtype="string")
    return df.sort_values(COLUMNS, kind="stable").reset_index(drop=True)


def write(rows: list[Exclusion], path: str | Path) -> None:
    """Write an exclusion log (header only when there is nothing to report)."""
    frame(rows).to_csv(path, index=False)


def merge(paths: list[str | Path], out: str | Path, extra: list[Exclusion] = ()) -> None:
    """Concatenate per-job exclusion logs (plus extra rows) into one sorted log."""
    parts = [pd.read_csv(p, dtype="string", keep_default_na=False) for p in paths]
    df = pd.concat([frame(list(extra))] + parts, ignore_index=True)
    df.sort_values(COLUMNS, kind="stable").to_csv(out, index=False)
