"""Read a centre's clinical and grading files as the centre sends them and bring them to the schemas.

Mapping of one file (config `centres.<id>.clinical` or `centres.<id>.gradings`; a second read of the gradings,
`gradings_reader2`, `gradings_repeat` or `gradings_consensus`, gives its file and options and keeps the rest):
  path         the file; csv, xlsx, parquet, sav (SPSS) or dta (Stata) by extension unless `format` says otherwise
  sep, encoding   CSV options (defaults ",", "utf-8"); decimal: the decimal mark of numbers written as text
               (CSV, and text cells of XLSX; default ".")
  sheet        XLSX sheet name or 0-based index (default: the first sheet)
  header_row   1-based row of the column names (default 1), CSV and XLSX
  date_format  strptime format of text dates (native dates and, in XLSX, Excel serial numbers in the
               workbook's 1900 or 1904 date system are read as they are)
  missing      the codes that mean "not recorded" (default [""]: blank cells only; e.g. ["", "999", "-99"]),
               matched like codes (999 is 999.0, surrounding spaces ignored) in every column but the id; no
               other text is missing (no "NA", "n/a", "null" by default): in a number column it is an error
  columns      {canonical column: the file's column, or null when not collected}; every canonical
               column of the table must be listed, and required ones cannot be null
  endplates    gradings only: {upper: {modic, tep, endplate_change: column or null}, lower: {...}}
  codes        {canonical variable: {file's code: canonical value}}; any other value is an error
  exclude      {canonical variable: {file's code: reason}}; such rows go to the exclusion log
  review       written by `spinestudy onboard`: {entry: {status, score}}; an entry of status `check` stops the run

Rows are named as the centre sees them: CSV line, Excel row, or Parquet record number (from 1), and
columns by the file's own names; two columns of one name the mapping uses are an error naming their
positions. A summary row (patient id "Total", "Sum", "Mean", ..., or a blank id beside the column sums of
the other rows) is an exclusion line, not a patient. In results/ a file is named by its keyed label
(spinestudy.ingest.sources.label; the label -> path lookup goes to a local log), on the terminal by its path,
and a patient by its pseudonym, on the terminal (value of a duplicate-id problem) by the id as written.
Patient ids are brought to the centre's form (`centres.<id>.ids`, see
spinestudy.ids) and pseudonymised on reading; that id is kept only in the `patient_id` column for the
cross-centre duplicate check and the id-matching message, and never written out. Every date must lie in
the study window (config `tables.study_window`). Files are only read.
"""

import csv
import datetime
import itertools
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pandera.pandas as pa
import pyarrow
import pyreadstat
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import CALENDAR_MAC_1904, from_excel

from spinestudy import ids, pseudonym
from spinestudy import study as studies
from spinestudy.anatomy import ENDPLATES
from spinestudy.demo import tables as demo_tables
from spinestudy.exclusions import Exclusion
from spinestudy.ingest import sources
from spinestudy.tables.schemas import Tables, failures
from spinestudy.tables.schemas import tables as study_tables

STAGE = "tables"
READERS = ("csv", "xlsx", "parquet", "sav", "dta")
EXPECTED = {"Int64": "an integer", "float64": "a number", "boolean": "true/false (map it in codes)"}
FILE_OPTIONS = {"sep": ("csv",), "encoding": ("csv",), "decimal": ("csv", "xlsx"), "sheet": ("xlsx",),
                "header_row": ("csv", "xlsx")}  # options of some file formats only: elsewhere an error
HEADER_SEARCH = 20  # rows searched for the column names when they are not in header_row
SORT = ["centre", "patient", "level", "endplate"]
LOCAL = ["patient_id", "id_written", "row"]  # columns of a read that never leave it: ids, the file's row
MISSING = [""]  # default missing-value codes: blank cells only
SUMMARY = re.compile(r"(?:total|totals|sum|summe|gesamt|mean|average|avg|mittelwert|median|sd|std|count|anzahl|n)"
                     r"(?:[\s:=(].*)?", re.IGNORECASE)  # patient ids of summary rows: "Total", "Mean (SD)", "n=40"


@dataclass(frozen=True)
class Problem:
    """One invalid value, row or file, located as the centre sees it."""

    centre: str
    file: str
    row: int | None  # None: the whole file
    column: str  # the file's column name(s); "" for the whole file
    value: str
    message: str
    patient: str = ""  # pseudonym when known
    label: str = ""  # the file's keyed label, naming it in the exclusion log
    written: str = ""  # terminal only: the value with patient ids as written, where `value` has pseudonyms
    said: str = ""  # terminal only: the message with paths and ids as written, where `message` has labels

    def __str__(self) -> str:
        where = f"centre {self.centre}, file {self.file}" + (f", row {self.row}" if self.row is not None else "")
        what = f", column {self.column!r}, value {self.written or self.value!r}" if self.column else ""
        return f"{where}{what}: {self.said or self.message}"

    def exclusion(self) -> Exclusion:
        item = self.label + (f" row {self.row}" if self.row is not None else "")
        what = f"{self.column} = {self.value!r}: " if self.column else ""
        return Exclusion(self.centre, self.patient, item, STAGE, what + self.message)


class TableError(ValueError):
    """Invalid input tables; the message lists every problem, one per line."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.centre, p.file, p.row or 0, p.column, p.message))
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in the input tables:\n{lines}")


@dataclass
class Read:
    """One canonical table read from a centre's file, before quarantine."""

    frame: pd.DataFrame  # canonical columns + LOCAL: patient_id (raw id, normalised), id_written, row
    problems: list[Problem]
    excluded: list[Exclusion]
    source: "Source"

    def valid(self, schema: pa.DataFrameSchema, drop: set[tuple[str, str]]) -> pd.DataFrame:
        """Rows of patients not in `drop` nor with a problem here, validated; raw ids and rows removed."""
        bad = drop | {(p.centre, p.patient) for p in self.problems}
        keys = list(zip(self.frame["centre"], self.frame["patient"]))
        keep = [k not in bad and isinstance(k[1], str) for k in keys]
        frame = self.frame[keep].drop(columns=LOCAL)
        return schema.validate(frame).sort_values([c for c in SORT if c in frame]).reset_index(drop=True)


class Source:
    """A centre's file with its mapping: reads it and names problems by file, row and local column."""

    def __init__(self, centre: str, spec: dict, table: str, key: bytes, id_rules: dict | None = None,
                 window: tuple[str, str] | None = None, tables: Tables | None = None):
        self.centre, self.spec, self.table, self.key, self.id_rules = centre, spec, table, key, id_rules
        self.tables = tables or default_tables()
        self.window = tuple(map(pd.Timestamp, window)) if window else None
        self.epoch = None  # XLSX: the workbook's date system (openpyxl), for dates stored as serial numbers
        self.file = str(spec["path"])
        self.label = sources.label(key, f"{centre}:tables", self.file)
        pending = [entry for entry, said in spec.get("review", {}).items() if said.get("status") == "check"]
        if pending:
            raise self.fail(f"mapping entries not reviewed: {', '.join(pending)} (check each, correct it if need "
                            "be, then set its review status to approved)")
        self.missing = set(map(_code, spec.get("missing", MISSING)))
        self.local = {"patient_id": spec["columns"].get("patient_id")} | {
            c: spec["columns"].get(c)
            for c in (self.tables.clinical_columns if table == "clinical" else self.tables.level_columns)
        }
        for endplate, columns in spec.get("endplates", {}).items() if table == "gradings" else ():
            self.local |= {f"{c}_{endplate}": columns.get(c) for c in self.tables.endplate_columns}
        self.names = {local for local in self.local.values() if local}  # the file's columns the mapping names

    def problem(self, row, column: str, value, message: str, patient="", written="", said="") -> Problem:
        row = None if row is None else int(row)
        return Problem(self.centre, self.file, row, column, "" if value is None else str(value), message, patient,
                       self.label, written, said)

    def fail(self, message: str) -> TableError:
        return TableError([self.problem(None, "", None, message)])

    def canonical(self) -> Read:
        """The file as one wide canonical frame (endplate grades as <variable>_<endplate> columns)."""
        raw = self.read()
        self.check_columns(raw)
        frame = pd.DataFrame({c: raw[local] if local else pd.NA for c, local in self.local.items()}, index=raw.index)
        for column in [c for c, local in self.local.items() if local and c != "patient_id"]:
            frame[column] = frame[column].mask(frame[column].map(_code, na_action="ignore").isin(self.missing))
        frame.insert(0, "centre", self.centre)
        summaries, excluded = self.summaries(frame)
        frame = frame.drop(index=summaries)
        problems = self.pseudonymise(frame)
        rows, coded = self.exclude(frame)
        excluded += coded
        frame = frame.drop(index=rows)
        problems += self.recode(frame)
        problems += self.convert(frame)
        return Read(frame.assign(row=frame.index).reset_index(drop=True), problems, excluded, self)

    def read(self) -> pd.DataFrame:
        """The file as a frame indexed by the file's row numbers; clear errors instead of parser traces."""
        path, spec = Path(self.file), self.spec
        kind = file_format(spec)
        header = spec.get("header_row", 1) - 1
        if kind not in READERS:
            raise self.fail(f"unknown format {kind!r}: expected one of {', '.join(READERS)}")
        wrong = [option for option, kinds in FILE_OPTIONS.items() if option in spec and kind not in kinds]
        if wrong:
            raise TableError([self.problem(None, option, spec[option], f"the option {option} does not apply to a "
                                           f"{kind} file (only to {' and '.join(FILE_OPTIONS[option])} files): "
                                           "remove it from the mapping") for option in wrong])
        if not path.is_file():
            raise self.fail("file not found")
        if path.stat().st_size == 0:
            raise self.fail("file is empty (0 bytes)")
        encoding = spec.get("encoding", "utf-8")
        try:
            if kind == "csv":
                names = dict(self.csv_rows(path, encoding, header + 1)).get(header + 1, [])
                raw = pd.read_csv(path, sep=spec.get("sep", ","), decimal=spec.get("decimal", "."),
                                  encoding=encoding, header=header, **self.text_options(names))
            elif kind == "xlsx":
                top = pd.read_excel(path, sheet_name=spec.get("sheet", 0), header=None, nrows=header + 1, dtype=object)
                names = top.iloc[header].tolist() if len(top) > header else []
                raw = pd.read_excel(path, sheet_name=spec.get("sheet", 0), header=header,
                                    decimal=spec.get("decimal", "."), **self.text_options(names))
                workbook = openpyxl.load_workbook(path, read_only=True)
                self.epoch = workbook.epoch
                workbook.close()
            elif kind in ("sav", "dta"):
                raw = (pyreadstat.read_dta if kind == "dta" else pyreadstat.read_sav)(str(path))[0]  # raw codes
            else:
                raw = pd.read_parquet(path)
        except UnicodeDecodeError:
            raise self.fail(self.encoding_error(path, encoding)) from None
        except pd.errors.EmptyDataError:
            raise self.fail("file has no header row and no data") from None
        except pd.errors.ParserError as exc:
            found = self.find_header(self.csv_rows(path, encoding))
            raise self.fail(self.header_message(found[0]) if found else f"cannot be read as {kind}: {exc}") from None
        except (ValueError, OSError, KeyError, zipfile.BadZipFile, pyarrow.ArrowException,
                pyreadstat.ReadstatError) as exc:
            raise self.fail(f"cannot be read as {kind}: {exc}") from None
        if raw.empty:
            raise self.fail("file has a header but no data rows")
        if kind in ("csv", "xlsx"):
            self.check_duplicates(names, kind)
        first = header + 2 if kind in ("csv", "xlsx") else 1
        raw.index = pd.RangeIndex(first, first + len(raw))
        raw.columns = [str(c).strip() for c in raw.columns]
        return raw

    def text_options(self, names: list) -> dict:
        """pandas options for a CSV or XLSX file whose header row holds `names` (as written, spaces and all):
        the id column as text; as missing only the declared codes (pandas' default NA strings "NA", "n/a",
        "null", ... are text), in the id column blank cells only (a blank id is a problem of its own)."""
        id_local = self.local["patient_id"]
        ids = {id_local} | {n for n in names if _name(n) == id_local} if id_local else set()
        values = (self.names - {id_local}) | {n for n in names if _name(n) in self.names - {id_local}}
        return {"dtype": dict.fromkeys(ids, str), "keep_default_na": False,
                "na_values": {n: list(self.missing) for n in values} | {n: [""] for n in ids}}

    def check_duplicates(self, names: list, kind: str) -> None:
        """A name the mapping uses given to two or more columns of the header row (`names`, as in the file: pandas
        reads the second one as name.1): which column is meant is unknown, so it is an error naming them."""
        positions = {}
        for position, name in enumerate(names, start=1):
            if _name(name) in self.names:
                positions.setdefault(_name(name), []).append(position)
        problems = [
            self.problem(None, name, "", f"{len(found)} columns have this name: columns "
                         + ", ".join(f"{p} ({get_column_letter(p)})" if kind == "xlsx" else str(p) for p in found)
                         + " of the header row; rename or remove all but the one to read")
            for name, found in positions.items() if len(found) > 1
        ]
        if problems:
            raise TableError(problems)

    def encoding_error(self, path: Path, encoding: str) -> str:
        """Where the file stops being valid text in its encoding (the parser only knows its buffer)."""
        data = path.read_bytes()
        try:
            data.decode(encoding)
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            return (f"not valid {encoding} text: byte {data[exc.start]:#04x} in line {line} (offset {exc.start}); "
                    "set `encoding` in the centre's mapping (e.g. latin-1)")
        return f"not valid {encoding} text"

    def check_columns(self, raw: pd.DataFrame) -> None:
        """Every canonical column mapped, required ones to a column the file has. When most mapped names sit
        in another row, that row is the one problem (with the names that row lacks), not each column."""
        problems, listed = [], self.mapped_names()
        header = None if self.names <= set(raw.columns) else self.find_header(raw.head(HEADER_SEARCH).iterrows())
        if header:
            problems.append(self.problem(None, "", None, self.header_message(header[0])))
        problems += [self.problem(None, entry, "", f"not a variable of the study (it has: {', '.join(names)})")
                     for entry, names in self.unknown()]  # e.g. a variable of another study, or a typo
        for column, local in self.local.items():
            if column not in listed:
                problems.append(self.problem(None, column, "", "canonical column not in the mapping "
                                             "(map it to the file's column, or to null if not collected)"))
            elif local is None and column in self.tables.required:
                problems.append(self.problem(None, column, "", "required column mapped to null"))
            elif local is not None and local not in (header[1] if header else raw.columns):
                problems.append(self.problem(None, local, "", f"column for {column} not in the file; "
                                             f"the file has {', '.join(map(repr, raw.columns))}"))
        if problems:
            raise TableError(problems)

    def unknown(self) -> list[tuple[str, list[str]]]:
        """Mapping entries that name no variable of the study, as written (columns/<name>,
        endplates/<side>/<name>), each with the names the study has there."""
        own = [c for c in self.local if c not in self.mapped_endplates()]
        found = [(f"columns/{c}", own) for c in self.spec["columns"] if c not in self.local]
        return found + [(f"endplates/{side}/{c}", list(self.tables.endplate_columns))
                        for side, columns in self.spec.get("endplates", {}).items() for c in columns
                        if f"{c}_{side}" not in self.local]

    def mapped_endplates(self) -> set[str]:
        """The canonical names of the endplate grades (<variable>_<endplate>)."""
        return {f"{c}_{e}" for c in self.tables.endplate_columns for e in ENDPLATES}

    def mapped_names(self) -> set[str]:
        """Canonical names the mapping lists (endplate grades as <variable>_<endplate>)."""
        names = set(self.spec["columns"])
        for endplate, columns in self.spec.get("endplates", {}).items():
            names |= {f"{c}_{endplate}" for c in columns}
        return names

    def find_header(self, rows) -> tuple[int, set[str]] | None:
        """The (row, names) of the first of `rows` ((row number, values) pairs) that holds more than half the
        mapped column names, when header_row holds at most half of them: title rows above the header."""
        for row, values in rows:
            found = {str(v).strip() for v in values} & self.names
            if len(found) > len(self.names) / 2 and row != self.spec.get("header_row", 1):
                return row, found
        return None

    def header_message(self, row: int) -> str:
        return (f"the column names are in row {row}, not in row {self.spec.get('header_row', 1)}: "
                f"set header_row: {row} in the mapping")

    def csv_rows(self, path: Path, encoding: str, n: int = HEADER_SEARCH):
        """The first n rows of a CSV file as the file holds them, numbered as header_row counts them (blank
        lines skipped, as pandas does), split by the standard library's CSV reader."""
        with open(path, newline="", encoding=encoding, errors="replace") as fh:
            rows = (r for r in csv.reader(fh, delimiter=self.spec.get("sep", ",")) if any(c.strip() for c in r))
            return list(enumerate(itertools.islice(rows, n), start=1))

    def summaries(self, frame: pd.DataFrame) -> tuple[list[int], list[Exclusion]]:
        """Rows that total the others, not patients, and their exclusion lines: a patient id such as "Total",
        "Sum" or "Mean (SD)" (SUMMARY), or a blank id beside at least two numbers, all of them the sums of
        their columns over the other rows (summary rows aside)."""
        ids = frame["patient_id"].map(_code, na_action="ignore").fillna("")
        words = list(ids.index[ids.map(lambda i: bool(SUMMARY.fullmatch(i)))])
        numbers = frame.drop(columns=["centre", "patient_id"]).apply(pd.to_numeric, errors="coerce")
        sums = []
        for row in ids.index[ids == ""]:
            present = numbers.loc[row].dropna()
            cells = frame.loc[row].drop(["centre", "patient_id"]).notna().sum()
            others = numbers.drop(index=words + [row])[present.index]
            if 2 <= len(present) == cells and np.allclose(present, others.sum()):
                sums.append(row)
        reasons = {row: f"patient id {ids[row]!r}" for row in words} | {
            row: "blank patient id, its numbers the column sums of the other rows" for row in sums}
        return sorted(reasons), [Exclusion(self.centre, "", f"{self.label} row {row}", STAGE,
                                           f"{reasons[row]}: a summary row, not a patient: not read")
                                 for row in sorted(reasons)]

    def pseudonymise(self, frame: pd.DataFrame) -> list[Problem]:
        """Replace ids by pseudonyms of their normalised form (kept in patient_id for the cross-centre check, and
        as written in id_written for the terminal). A problem names the row, never the id: in quarantine mode it
        becomes an exclusion line."""
        local, problems = self.local["patient_id"], []
        frame["id_written"] = frame["patient_id"].map(_code, na_action="ignore")

        def normalise(row: int, value) -> str | None:
            try:
                return ids.normalise(_code(value), self.id_rules)
            except ids.IdError as exc:
                problems.append(self.problem(row, local, "", f"patient id {exc}"))
                return None

        for row in frame.index[frame["patient_id"].isna()]:
            problems.append(self.problem(row, local, "", "patient id missing"))
        frame["patient_id"] = [None if pd.isna(v) else normalise(row, v) for row, v in frame["patient_id"].items()]
        frame.insert(1, "patient", frame["patient_id"].map(lambda i: pseudonym.patient(self.key, self.centre, i),
                                                           na_action="ignore"))
        return problems

    def exclude(self, frame: pd.DataFrame) -> tuple[list[int], list[Exclusion]]:
        """Rows whose code the mapping excludes, and their exclusion lines with the mapping's reason."""
        rows, excluded = [], []
        for variable, reasons in self.spec.get("exclude", {}).items():
            reasons = {_code(k): v for k, v in reasons.items()}
            for column in self.columns_of(variable):
                for row, value in frame[column].map(_code, na_action="ignore").items():
                    if value in reasons:
                        item = f"{self.label} row {row}"
                        reason = f"{self.local[column]} = {value!r}: {reasons[value]}"
                        rows.append(row)
                        excluded.append(Exclusion(self.centre, frame.at[row, "patient"], item, STAGE, reason))
        return rows, excluded

    def recode(self, frame: pd.DataFrame) -> list[Problem]:
        """Translate the file's codes to canonical values; an unknown code is a problem."""
        problems = []
        for variable, codes in self.spec.get("codes", {}).items():
            codes = {_code(k): v for k, v in codes.items()}
            for column in self.columns_of(variable):
                keys = frame[column].map(_code, na_action="ignore")
                unknown = keys.notna() & ~keys.isin(list(codes))
                known = ", ".join(sorted(map(repr, codes)))
                problems += [
                    self.problem(row, self.local[column], frame.at[row, column],
                                 f"unknown code for {variable}; known codes: {known}", frame.at[row, "patient"])
                    for row in frame.index[unknown]
                ]
                frame[column] = keys.map(codes).astype(object).where(~unknown & keys.notna(), pd.NA)
        return problems

    def convert(self, frame: pd.DataFrame) -> list[Problem]:
        """Each column to its schema dtype; values that do not convert are problems.

        pandera reports failed coercions without the row, so conversion happens here, value by value."""
        problems = []
        for column, local in self.local.items():
            if column == "patient_id" or local is None:
                continue
            dtype = self.tables.dtypes[_variable(column)]
            if dtype.startswith("datetime"):
                frame[column], bad_dates = self.dates(frame, column)
                problems += bad_dates
                continue
            converted, bad = _convert(frame[column], dtype)
            problems += [
                self.problem(row, local, frame.at[row, column], f"not {EXPECTED[dtype]}", frame.at[row, "patient"])
                for row in frame.index[bad]
            ]
            frame[column] = converted
        return problems

    def dates(self, frame: pd.DataFrame, column: str) -> tuple[pd.Series, list[Problem]]:
        """A date column and its problems: native dates as they are, text by date_format, numbers as Excel
        serial dates of the workbook's date system (XLSX only: elsewhere a number is a problem, its epoch
        unknown); every date in the study window. A cell with a problem becomes missing."""
        fmt, dates, problems = self.spec.get("date_format"), {}, []
        system = "1904" if self.epoch == CALENDAR_MAC_1904 else "1900"
        for row, value in frame[column].dropna().items():
            serial = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
            if serial and self.epoch is None:
                message = "not a date but a number (an Excel serial date?): store the column as dates or as text"
            else:
                try:
                    date = pd.Timestamp(from_excel(value, self.epoch) if serial else
                                        value if isinstance(value, datetime.date) else pd.to_datetime(value, format=fmt))
                except (ValueError, TypeError, OverflowError):
                    date = pd.NaT
                if pd.isna(date):
                    message = "not a date " + (f"(Excel serial, {system} date system)" if serial else f"({fmt or 'native'})")
                elif self.window and not self.window[0] <= date <= self.window[1]:
                    start, end = (f"{d:%Y-%m-%d}" for d in self.window)
                    message = (f"date {date:%Y-%m-%d}" + (f" (Excel serial, {system} date system)" if serial else "")
                               + f" outside the study window {start} to {end} (tables.study_window)")
                else:
                    dates[row] = date
                    continue
            problems.append(self.problem(row, self.local[column], value, message, frame.at[row, "patient"]))
        return pd.Series(dates, index=frame.index, dtype="datetime64[ns]"), problems

    def columns_of(self, variable: str) -> list[str]:
        """Wide frame columns holding a canonical variable (both endplates for endplate grades)."""
        return [c for c in self.local if _variable(c) == variable and self.local[c] is not None]

    def locate(self, frame: pd.DataFrame, index, columns: tuple, values: tuple, check: str) -> Problem:
        """A pandera failure at a validated frame's row as a problem in the file's terms."""
        row = frame.at[index, "row"] if index in frame.index else None
        endplate = frame.at[index, "endplate"] if row is not None and "endplate" in frame else None
        names, shown, written = [], [], []
        for column, value in zip(columns, values):
            if column in ("centre", "endplate"):  # not file columns (endplate: which column a grade is in)
                continue
            name = "patient_id" if column == "patient" else column
            if name not in self.local and endplate:
                name = f"{name}_{endplate}"
            names.append(self.local.get(name) or column)
            shown.append(value)
            written.append(frame.at[index, "id_written"] if column == "patient" and row is not None else shown[-1])
        message = "duplicate row (the same patient id, level or endplate again)" if "uniqueness" in check else check
        patient = frame.at[index, "patient"] if row is not None else ""
        return self.problem(row, ", ".join(map(str, names)), ", ".join(map(str, shown)), message, patient,
                            written=", ".join(map(str, written)) if written != shown else "")

    def validate(self, read: Read, schema: pa.DataFrameSchema, earlier: list[Problem] = ()) -> Read:
        """Add the schema's failures to a read table's problems, each problem once: not again at a cell
        already reported (a value that did not convert is now null), nor from an earlier table of the same
        file (`earlier`: the levels of an endplate table), nor as a cross-row check's consequence of a
        patient's cell reported in a column the check names (an unknown level code leaves a level out)."""
        frame, known = read.frame, read.problems + list(earlier)
        cells = {(p.row, p.column) for p in known}
        patient_cells = {(p.patient, p.column) for p in known}
        named = {check.name: {self.local.get(c) for c in re.findall(r"[a-z0-9_]+", check.name)} - {None}
                 for check in schema.checks}
        found = {}
        cases = failures(schema, frame.drop(columns=LOCAL))
        for case in cases[["index", "columns", "values", "check"]].itertuples(index=False):
            problem = self.locate(frame, *case)
            consequence = pd.isna(problem.patient) or any(  # no id: a problem of its own, and null keys repeat
                (problem.patient, c) in patient_cells for c in named.get(case.check, ()))
            if (problem.row, problem.column) not in cells and not consequence:
                found[problem] = None
        return Read(frame, read.problems + list(found), read.excluded, self)


def _variable(column: str) -> str:
    """Canonical variable of a wide column: modic_upper -> modic, else itself."""
    stem, _, endplate = column.rpartition("_")
    return stem if endplate in ENDPLATES else column


def _name(value) -> str | None:
    """A header cell as a column name (stripped, as read() names columns); None for a blank cell."""
    return None if pd.isna(value) else str(value).strip()


def _code(value) -> str:
    """A value as a code key: ints and integral floats without decimals, booleans lower case, stripped."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)).lower()
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _convert(values: pd.Series, dtype: str) -> tuple[pd.Series, pd.Series]:
    """Values converted to dtype, and the mask of present values that did not convert."""
    present = values.notna()
    if dtype in ("Int64", "float64"):
        number = pd.to_numeric(values, errors="coerce")
        bad = present & (number.isna() | ((number % 1 != 0) if dtype == "Int64" else False))
        return number.where(~bad).astype(dtype), bad
    if dtype == "boolean":
        bad = present & ~values.map(lambda v: isinstance(v, (bool, np.bool_)))
        return values.where(~bad, pd.NA).astype("boolean"), bad
    return values.map(_code, na_action="ignore").astype("string"), present & False


def default_tables() -> Tables:
    """The schemas of the default study (spinestudy.study.DEFAULT), for readers called without a study's."""
    return study_tables(studies.load())


def read_clinical(centre: str, spec: dict, key: bytes, id_rules: dict | None = None,
                  window: tuple[str, str] | None = None, tables: Tables | None = None) -> Read:
    """A centre's clinical file as the study's clinical table (problems listed, not raised, for bad rows).
    id_rules: config `centres.<id>.ids`; window: first and last plausible date (`tables.study_window`);
    tables: the study's schemas (default: the default study's)."""
    source = Source(centre, spec, "clinical", key, id_rules, window, tables)
    return source.validate(source.canonical(), source.tables.clinical)


def read_gradings(centre: str, spec: dict, key: bytes, id_rules: dict | None = None,
                  tables: Tables | None = None) -> tuple[Read, Read]:
    """A centre's grading file as the study's level and endplate gradings tables."""
    source = Source(centre, spec, "gradings", key, id_rules, tables=tables)
    schemas, wide = source.tables, source.canonical()
    level, endplate = schemas.level_columns, schemas.endplate_columns
    base = ["centre", "patient", "level"]
    levels = wide.frame[["centre", "patient"] + level + LOCAL]
    endplates = pd.concat(
        [
            wide.frame[base + LOCAL].assign(
                endplate=side, **{c: wide.frame[f"{c}_{side}"] for c in endplate}
            )
            for side in ENDPLATES
        ],
        ignore_index=True,
    )[base + ["endplate"] + endplate + LOCAL]
    endplates = endplates.astype({c: schemas.dtypes[c] for c in endplate})
    level_read = source.validate(Read(levels, wide.problems, wide.excluded, source), schemas.levels)
    return level_read, source.validate(Read(endplates, [], [], source), schemas.endplates, level_read.problems)


def read_second(centre: str, gradings: dict, spec: dict, key: bytes, id_rules: dict | None = None,
                tables: Tables | None = None) -> tuple[Read, Read]:
    """Another read of a centre's gradings (config gradings_reader2, gradings_repeat, gradings_consensus): the
    file and its options in `spec` over the first reader's mapping (columns, endplates, codes, exclude) and those
    of its file options that apply to this file's format, its ids in the centre's form."""
    same = Path(str(spec["path"])).suffix == Path(str(gradings["path"])).suffix  # then also the same format
    kind = file_format(spec if "format" in spec or not same else {**spec, "format": file_format(gradings)})
    inherited = {k: v for k, v in gradings.items()
                 if kind in FILE_OPTIONS.get(k, (kind,)) and (k != "format" or same)}
    return read_gradings(centre, inherited | spec, key, id_rules, tables)


def file_format(spec: dict) -> str:
    """A mapped file's format: `format`, else its extension."""
    return spec.get("format", Path(str(spec["path"])).suffix.lstrip(".").lower())


def demo_mapping(centre: str, folder: str | Path, tables: Tables | None = None) -> dict:
    """Config mapping {'clinical': ..., 'gradings': ...} of a demo centre's files in `folder`,
    derived from demo_tables.CENTRE_FORMATS (which maps canonical -> local; config maps local -> canonical)."""
    fmt, tables = demo_tables.CENTRE_FORMATS[centre], tables or default_tables()
    options = {"sheet" if k == "sheet_name" else k: v for k, v in fmt["options"].items()}
    mapping = {}
    for table in ("clinical", "gradings"):
        local = {"patient_id" if k == "study_id" else k: v for k, v in fmt["columns"][table].items()}
        spec = {"path": (Path(folder) / fmt["files"][table]).as_posix(), "format": fmt["format"], **options}
        if table == "clinical":
            spec |= {"date_format": fmt["date_format"]} if fmt["date_format"] else {}
            spec["columns"] = {c: local.get(c) for c in ["patient_id"] + tables.clinical_columns}
        else:
            spec["columns"] = {c: local.get(c) for c in ["patient_id"] + tables.level_columns}
            spec["endplates"] = {e: {c: local.get(f"{c}_{e}") for c in tables.endplate_columns} for e in ENDPLATES}
        names = set(spec["columns"]) | set(tables.endplate_columns)
        spec["codes"] = {
            variable: {_code(code): value for value, code in codes.items()}
            for variable, codes in fmt["codes"].items()
            if variable in names
        }
        mapping[table] = spec
    return mapping
