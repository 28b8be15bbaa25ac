"""A centre's files as tables of values as written: CSV (delimiter, encoding and header row detected), every
sheet of an XLSX workbook (header row found), Parquet, SPSS and Stata (value labels kept), and the labels,
choices and identifier flags of a REDCap data dictionary."""

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow
import pyreadstat

from spinestudy.tables.readers import _code

HEADER_SEARCH = 20  # rows searched for the header row
ENCODINGS = ("utf-8", "cp1252", "latin-1")  # tried in this order (latin-1 decodes any byte)
DELIMITERS = ",;\t|"
DICTIONARY = {  # REDCap data dictionary columns (by how their header starts)
    "name": "variable / field name", "type": "field type", "label": "field label",
    "choices": "choices, calculations", "identifier": "identifier",
}


@dataclass
class Table:
    """One sheet of one file: its values (text for CSV, native types elsewhere) and what the file says of them."""

    file: str
    frame: pd.DataFrame
    options: dict  # the mapping's file options: format, sep, encoding, sheet, header_row
    labels: dict = field(default_factory=dict)  # column -> label (REDCap field label, SPSS variable label)
    value_labels: dict = field(default_factory=dict)  # column -> {code: label}
    identifying: set = field(default_factory=set)  # columns the source marks as identifiers

    @property
    def name(self) -> str:
        sheet = self.options.get("sheet")
        return self.file + (f" [{sheet}]" if sheet is not None else "")


def read(path: str | Path) -> list[Table]:
    """The tables of one file, by its extension; a file that cannot be read stops with its name and why."""
    path = Path(path)
    kind = path.suffix.lower().lstrip(".")
    readers = {"csv": lambda: [read_csv(path)], "txt": lambda: [read_csv(path)], "xlsx": lambda: read_xlsx(path),
               "parquet": lambda: [Table(str(path), pd.read_parquet(path), {"format": "parquet"})],
               "sav": lambda: [read_stat(path, "sav")], "dta": lambda: [read_stat(path, "dta")]}
    if not path.is_file():
        raise SystemExit(f"{path}: file not found")
    if kind not in readers:
        raise SystemExit(f"{path}: unknown file kind {kind!r} ({', '.join(readers)})")
    try:
        return readers[kind]()
    except (ValueError, OSError, KeyError, zipfile.BadZipFile, pyarrow.ArrowException, pyreadstat.ReadstatError,
            pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SystemExit(f"{path}: cannot be read as {kind}: {exc}") from None


def encoding(data: bytes) -> str:
    """The first of utf-8 (with or without BOM), cp1252 and latin-1 that decodes the whole file."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    for name in ENCODINGS:
        try:
            data.decode(name)
        except UnicodeDecodeError:
            continue
        return name
    raise AssertionError("latin-1 decodes every byte")


def read_csv(path: Path) -> Table:
    """A delimited text file: encoding, delimiter (csv.Sniffer) and header row (first row as wide as most rows)."""
    data = path.read_bytes()
    enc = encoding(data)
    text = data.decode(enc)
    try:
        sep = csv.Sniffer().sniff(text[:20000], delimiters=DELIMITERS).delimiter
    except csv.Error:
        sep = ","
    rows = [row for row in csv.reader(io.StringIO(text), delimiter=sep) if any(c.strip() for c in row)]  # as pandas
    widths = [sum(1 for cell in row if cell.strip()) for row in rows[: HEADER_SEARCH * 5]]
    header = _header_row(widths, [[c for c in r if c.strip()] for r in rows[:HEADER_SEARCH]])
    frame = pd.read_csv(io.StringIO(text), sep=sep, header=header, dtype=str, keep_default_na=False)
    frame.columns = [str(c).strip() for c in frame.columns]
    options = {"format": "csv", "sep": sep} | ({"encoding": enc} if enc != "utf-8" else {})
    return Table(str(path), frame, options | ({"header_row": header + 1} if header else {}))


def _header_row(widths: list[int], cells: list[list]) -> int:
    """0-based header row: the first of the first rows with at least 80% of the widest row's cells, all text."""
    widest = max(widths, default=0)
    for i, row in enumerate(cells):
        text = [c for c in row if isinstance(c, str) and not re.fullmatch(r"[-+.,0-9 ]+", c)]
        if len(row) >= max(2, 0.8 * widest) and len(text) == len(row):
            return i
    return 0


def read_xlsx(path: Path) -> list[Table]:
    """Every non-empty sheet of a workbook, each with its header row found."""
    tables = []
    for sheet, raw in pd.read_excel(path, sheet_name=None, header=None, dtype=object).items():
        raw = raw.dropna(how="all").dropna(axis=1, how="all")
        if raw.empty:
            continue
        cells = [[c for c in row if not pd.isna(c)] for row in raw.head(HEADER_SEARCH).itertuples(index=False)]
        header = _header_row([len(r) for r in cells], cells)
        names = raw.iloc[header]
        frame = raw.iloc[header + 1:].loc[:, names.notna()]
        frame.columns = [str(c).strip() for c in names[names.notna()]]
        options = {"format": "xlsx", "sheet": sheet} | ({"header_row": int(raw.index[header]) + 1}
                                                        if raw.index[header] else {})
        tables.append(Table(str(path), frame.reset_index(drop=True), options))
    return tables


def read_stat(path: Path, kind: str) -> Table:
    """An SPSS or Stata file: raw codes, with its variable labels and value labels."""
    reader = pyreadstat.read_dta if kind == "dta" else pyreadstat.read_sav
    frame, meta = reader(str(path))
    values = {c: {_code(k): str(v) for k, v in labels.items()} for c, labels in meta.variable_value_labels.items()}
    labels = {c: label for c, label in meta.column_names_to_labels.items() if label}
    return Table(str(path), frame, {"format": kind}, labels, values)


def choices(text) -> dict[str, str]:
    """REDCap choices '1, Male | 2, Female' as {'1': 'Male', '2': 'Female'} (split on the first comma)."""
    pairs = [part.split(",", 1) for part in str(text).split("|") if "," in part] if not pd.isna(text) else []
    return {code.strip(): re.sub(r"<[^>]+>", "", label).strip() for code, label in pairs}


def apply_dictionary(tables: list[Table], path: str | Path) -> None:
    """Add a REDCap data dictionary's field labels, choices (checkbox field___code columns too) and
    `Identifier? = y` flags to the tables' columns, whether they are named by field name or by label."""
    frame = read_csv(Path(path)).frame
    columns = {}
    for key, start in DICTIONARY.items():
        found = [c for c in frame.columns if c.lower().startswith(start)]
        if not found:
            raise SystemExit(f"{path}: not a REDCap data dictionary (no column starting {start!r})")
        columns[key] = found[0]
    fields, headers = {}, {}  # column name -> (label, {code: label}, identifier); label-export header -> name
    for row in frame.to_dict("records"):
        name, kind = row[columns["name"]].strip(), row[columns["type"]].strip().lower()
        label = re.sub(r"<[^>]+>", "", row[columns["label"]]).strip()
        options = {"yesno": {"1": "Yes", "0": "No"}, "truefalse": {"1": "True", "0": "False"}}.get(
            kind, choices(row[columns["choices"]]))
        flagged = row[columns["identifier"]].strip().lower() == "y"
        if kind == "checkbox":
            for code, option in options.items():
                fields[f"{name}___{code}"] = (f"{label}: {option}", {"1": "Checked", "0": "Unchecked"}, flagged)
                headers[f"{label} (choice={option})"] = f"{name}___{code}"
        else:
            fields[name] = (label, options, flagged)
            headers[label] = name
    for table in tables:
        for column in table.frame.columns:
            if column in fields:
                label, options, flagged = fields[column]
            elif column in headers:  # label export: headers are labels, values the choices' labels
                label, options, flagged = fields[headers[column]]
                options = {v: v for v in options.values()}
            else:
                continue
            table.labels[column] = label
            table.value_labels[column] = options
            if flagged:
                table.identifying.add(column)
