"""Dates as centres store them: Excel date cells, Excel serial numbers (1900 and 1904 date systems), text;
every date inside the study window, else a problem naming the row."""

import datetime

import openpyxl
import pandas as pd
import pytest
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, to_excel

from spinestudy.tables import merge
from spinestudy.tables import readers as table_io
from spinestudy.tables.readers import TableError
from spinestudy import study
from spinestudy.tables.schemas import tables as study_tables
from tables_corpus import KEY, broken, demo, set_cell

RUDDS = study_tables(study.load("rudds"))

WINDOW = ("2021-01-01", "2024-12-31")
SYSTEMS = {"1900": CALENDAR_WINDOWS_1900, "1904": CALENDAR_MAC_1904}


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    return (folder, *demo(folder, centres=("A", "B")))


def workbook(spec: dict, path, epoch, cells) -> dict:
    """Centre B's clinical workbook saved by openpyxl in the given date system, with its procedure dates
    replaced by cells(row number, date) -> (value, number format)."""
    book = openpyxl.load_workbook(spec["path"])
    book.epoch = epoch
    sheet = book[spec["sheet"]]
    header = [c.value for c in sheet[1]]
    column = header.index(spec["columns"]["procedure_date"]) + 1
    for row in range(2, sheet.max_row + 1):
        cell = sheet.cell(row, column)
        cell.value, cell.number_format = cells(row, datetime.datetime.strptime(cell.value, "%d.%m.%Y"))
    book.save(path)
    return spec | {"path": str(path)}


@pytest.mark.parametrize("system", ["1900", "1904"])
def test_xlsx_serial_numbers_date_cells_and_text(cohort, tmp_path, system):
    """A date column as it arrives from Excel: every third cell a date cell, every third a serial number
    formatted as a plain number (e.g. 44418), the rest text; each read as the simulated date, in the
    workbook's own date system (a 1904 serial read as 1900 would be 4 years and a day early)."""
    _, clinical, _, config = cohort
    epoch = SYSTEMS[system]

    def cells(row, date):
        return [(date, "yyyy-mm-dd"), (to_excel(date, epoch), "0"), (f"{date:%d.%m.%Y}", "@")][row % 3]

    spec = workbook(config["B"]["clinical"], tmp_path / "b.xlsx", epoch, cells)
    written = pd.read_excel(spec["path"], sheet_name=spec["sheet"])["Date of procedure"]
    assert {type(v).__name__ for v in written} == {"datetime", "int", "str"}  # serials stay numbers for pandas
    read = table_io.read_clinical("B", spec, KEY, window=WINDOW)
    assert read.problems == []
    got = read.frame.sort_values("row")["procedure_date"].reset_index(drop=True)
    want = clinical[clinical.centre == "B"]["procedure_date"].reset_index(drop=True)
    pd.testing.assert_series_equal(got, want.astype("datetime64[ns]"), check_names=False)
    RUDDS.clinical.validate(read.valid(RUDDS.clinical, set()))


def test_serial_outside_the_study_window_names_the_row(cohort, tmp_path):
    """A serial that is no date (a patient number pasted into the column) lands in 1900: outside the window."""
    spec = workbook(cohort[3]["B"]["clinical"], tmp_path / "b.xlsx", CALENDAR_WINDOWS_1900,
                    lambda row, date: (7, "General") if row == 4 else (date, "dd.mm.yyyy"))
    read = table_io.read_clinical("B", spec, KEY, window=WINDOW)
    assert [(p.row, p.column, p.value, p.message) for p in read.problems] == [
        (4, "Date of procedure", "7", "date 1900-01-07 (Excel serial, 1900 date system) outside the study window "
         "2021-01-01 to 2024-12-31 (tables.study_window)")]
    assert read.frame.loc[read.frame.row == 4, "procedure_date"].isna().all()


def test_text_date_outside_the_window_stops_the_run(cohort, tmp_path):
    """A typo in the year (2032 for 2023) in a CSV: build_tables stops naming file, row, column and value."""
    _, _, _, config = cohort
    bad = config | {"A": config["A"] | {"clinical": broken(config["A"]["clinical"], tmp_path / "a.csv",
                                                            set_cell(3, "procedure_date", "2032-05-17"))}}
    with pytest.raises(TableError) as info:
        merge.build_tables(bad, KEY, tmp_path / "out", study_window=WINDOW)
    assert str(info.value).splitlines()[1:] == [
        f"  centre A, file {tmp_path / 'a.csv'}, row 3, column 'procedure_date', value '2032-05-17': date 2032-05-17 "
        "outside the study window 2021-01-01 to 2024-12-31 (tables.study_window)"]


def test_csv_serial_number_is_named_not_read_as_1970(cohort, tmp_path):
    """A CSV exported with dates as numbers: the file carries no date system, so the cell is named (pandas
    alone would have read 44418 as 1970-01-01 00:00:00.000044418)."""
    assert str(pd.to_datetime(pd.Series([44418]))[0]) == "1970-01-01 00:00:00.000044418"
    spec = broken(cohort[3]["A"]["clinical"], tmp_path / "a.csv", lambda f: f.assign(procedure_date="44418"))
    read = table_io.read_clinical("A", spec, KEY)
    assert {(p.column, p.value, p.message) for p in read.problems} == {
        ("procedure_date", "44418", "not a date but a number (an Excel serial date?): store the column as dates or "
         "as text")}
    assert len(read.problems) == len(read.frame) and read.frame.procedure_date.isna().all()
