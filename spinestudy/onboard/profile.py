"""What each column holds (type, counts, top values, range, date format, scale) and whether it identifies a
person; the profile written under logs/ suppresses values seen fewer than RARE times, as it may leave the
hospital, and shows no value or range of an identifying column."""

import datetime
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from spinestudy.onboard.read import Table
from spinestudy.onboard.synonyms import IDENTIFYING, words
from spinestudy.tables.readers import _code

RARE = 5  # values seen fewer times are not shown
TOP = 10  # values shown per column
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%m/%d/%Y", "%Y/%m/%d", "%d-%m-%Y", "%d.%m.%y", "%Y%m%d")
DECIMAL_COMMA = re.compile(r"-?[0-9]+,[0-9]+")
BIRTH_YEARS = 16  # dates with a median this many years back are birth dates, not procedures
COLUMNS = ["file", "column", "label", "type", "n", "empty", "distinct", "top", "suppressed", "min", "max",
           "date_format", "decimal", "scale", "identifier"]


@dataclass
class Column:
    """One column of a table as the proposals see it: its present values and their summary."""

    table: Table
    name: str
    values: pd.Series  # present values as written
    codes: pd.Series  # value counts of the values as code keys (readers._code)
    kind: str  # empty | boolean | integer | number | date | text
    numbers: pd.Series | None = None
    date_format: str | None = None  # text dates; None for native dates
    decimal: str = "."
    identifier: str = ""  # why the column identifies a person ("" when it does not)

    @property
    def label(self) -> str:
        return self.table.labels.get(self.name, "")

    @property
    def scale(self) -> str:
        """0-10 or 0-100 for non-negative integer scores, else ''."""
        if self.kind != "integer" or self.numbers.min() < 0:
            return ""
        return "0-10" if self.numbers.max() <= 10 else "0-100" if self.numbers.max() <= 100 else ""


def _blank(value) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value)) or str(value).strip() == ""


def describe(table: Table, name: str) -> Column:
    """Summarise one column: its kind from the values themselves, and why it may identify a person."""
    raw = table.frame[name]
    raw = raw.iloc[:, 0] if isinstance(raw, pd.DataFrame) else raw
    values = raw[~raw.map(_blank)]
    codes = values.map(_code).value_counts()
    column = Column(table, name, values, codes, "empty" if values.empty else "text")
    if values.empty:
        return column
    if values.map(lambda v: isinstance(v, (bool, np.bool_))).all():
        column.kind = "boolean"
    elif values.map(lambda v: isinstance(v, (datetime.date, pd.Timestamp))).all():
        column.kind = "date"
    else:
        text = values.map(lambda v: str(v).strip())
        comma = text.map(lambda v: bool(DECIMAL_COMMA.fullmatch(v)))
        numbers = pd.to_numeric(text.where(~comma, text.str.replace(",", ".")), errors="coerce")
        if numbers.notna().all() and not values.map(lambda v: isinstance(v, (bool, np.bool_))).any():
            column.numbers, column.decimal = numbers, "," if comma.any() else "."
            column.kind = "integer" if (numbers % 1 == 0).all() else "number"
        else:
            column.date_format = next((f for f in DATE_FORMATS
                                       if pd.to_datetime(text, format=f, errors="coerce").notna().all()), None)
            column.kind = "date" if column.date_format else "text"
    column.identifier = _identifier(column)
    return column


def dates(column: Column) -> pd.Series:
    """A date column's values as timestamps."""
    return pd.to_datetime(column.values.astype(str) if column.date_format else column.values,
                          format=column.date_format, errors="coerce")


def _identifier(column: Column) -> str:
    """Why a column identifies a person: the source says so, its name or label, birth dates or free text."""
    if column.name in column.table.identifying:
        return "marked as an identifier (data dictionary)"
    for text in (column.name, column.label):
        if text and IDENTIFYING.search(" ".join(words(text))):
            return f"name {text!r} looks like a personal identifier"
    if column.kind == "date":
        median = dates(column).median()
        if median < pd.Timestamp.today() - pd.DateOffset(years=BIRTH_YEARS):
            return f"dates around {median.year}: birth dates?"
    if column.kind == "text" and len(column.codes) > 0.5 * len(column.values):
        if column.values.map(lambda v: len(str(v).split())).median() >= 2:
            return "free text (mostly distinct values of several words)"
    return ""


def profile(columns: list[Column]) -> pd.DataFrame:
    """One row per column; values seen fewer than RARE times, and every value of identifying columns, left out."""
    rows = []
    for c in columns:
        shown = c.codes[c.codes >= RARE].head(TOP) if not c.identifier else c.codes.iloc[:0]
        low = high = ""
        if not c.identifier and c.kind in ("integer", "number"):
            low, high = c.numbers.min(), c.numbers.max()
        elif not c.identifier and c.kind == "date":
            low, high = (f"{d:%Y-%m-%d}" for d in (dates(c).min(), dates(c).max()))
        rows.append({
            "file": c.table.name, "column": c.name, "label": c.label, "type": c.kind, "n": len(c.table.frame),
            "empty": len(c.table.frame) - len(c.values), "distinct": len(c.codes),
            "top": "; ".join(f"{v} ({k})" for v, k in shown.items()), "suppressed": int(len(c.codes) - len(shown)),
            "min": low, "max": high, "date_format": c.date_format or "", "decimal": c.decimal, "scale": c.scale,
            "identifier": c.identifier,
        })
    return pd.DataFrame(rows, columns=COLUMNS)


def write(frame: pd.DataFrame, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path
