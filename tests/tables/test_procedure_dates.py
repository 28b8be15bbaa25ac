"""The ingestion's procedure dates come from the centre's clinical table, read as the tables stage reads it."""

import pandas as pd

from spinestudy import pseudonym
from spinestudy.tables.procedure_dates import procedure_dates
from tables_corpus import KEY, demo


def test_dates_by_pseudonym_from_csv_and_xlsx_centres(tmp_path):
    clinical, _, config = demo(tmp_path, n=8, centres=("A", "B"))
    for centre in ("A", "B"):  # A: CSV with ISO dates, B: XLSX with dd.mm.yyyy
        rows = clinical[clinical.centre == centre]
        expected = {pseudonym.patient(KEY, centre, str(i)): pd.Timestamp(d).date().isoformat()
                    for i, d in zip(rows.study_id, rows.procedure_date) if pd.notna(d)}
        assert expected and procedure_dates(centre, config[centre]["clinical"], KEY) == expected


def test_unreadable_table_gives_no_dates(tmp_path):
    _, _, config = demo(tmp_path, n=4, centres=("A",))
    spec = config["A"]["clinical"] | {"path": str(tmp_path / "missing.csv")}
    assert procedure_dates("A", spec, KEY) == {}
    assert procedure_dates("A", None, KEY) == {}
