"""Ids that differ only in form across a centre's files and DICOM folders: a run that would analyse nobody
stops naming the ids on each side; the centre's `ids` setting makes them one."""

import pandas as pd
import pytest

from spinestudy import ids, pseudonym
from spinestudy.tables import merge
from spinestudy.tables import readers as table_io
from spinestudy.tables.coverage import CoverageError
from tables_corpus import KEY, broken, demo, series_index


def number(study_id: str) -> int:
    """A0004 -> 4, B0004 -> 14: the demo numbers each centre's patients from 1, a centre's ids here are numbers
    (and must stay distinct from the other centre's)."""
    return int(study_id[1:]) + (10 if study_id.startswith("B") else 0)


@pytest.fixture(scope="module")
def delivery(tmp_path_factory):
    """As two centres deliver: A's clinical CSV with ids '007', its gradings CSV with '7'; B's clinical
    workbook with numeric ids (Excel drops the zeros), its gradings workbook with text ids '007' and DICOM
    folders '007' (empty: the series index below stands for their ingestion)."""
    folder = tmp_path_factory.mktemp("ids")
    clinical, _, config = demo(folder, n=13, centres=("A", "B"))  # A 7 patients, B 6
    edits = {("A", "clinical"): lambda i: f"{number(i):03d}", ("A", "gradings"): lambda i: str(number(i)),
             ("B", "clinical"): number, ("B", "gradings"): lambda i: f"{number(i):03d}"}
    for (centre, table), edit in edits.items():
        spec = config[centre][table]
        column = spec["columns"]["patient_id"]
        path = folder / f"{centre}_{table}.{spec['format']}"
        config[centre][table] = broken(spec, path, lambda f, c=column, e=edit: f.assign(**{c: f[c].map(e)}))
    config["B"]["dicom"] = str(folder / "B" / "dicom")
    for study_id in clinical[clinical.centre == "B"].study_id:
        (folder / "B" / "dicom" / f"{number(study_id):03d}").mkdir(parents=True)
    return folder, clinical, config


def index_of(folder, config) -> str:
    """The series index ingestion would write for B's folders: one T2 volume per patient."""
    rules = config["B"].get("ids")
    rows = [("B", pseudonym.patient(KEY, "B", i), "volume") for i in ids.folder_ids(config["B"]["dicom"], rules).values()]
    series_index(rows).to_parquet(folder / "index.parquet")
    return folder / "index.parquet"


def examples(values) -> str:
    return ", ".join(map(repr, sorted(values)[:3]))


def test_ids_in_another_form_stop_the_run_naming_them(delivery, tmp_path):
    folder, clinical, config = delivery
    plain = {c: sorted(str(number(i)) for i in clinical[clinical.centre == c].study_id) for c in "AB"}
    padded = {c: [f"{int(i):03d}" for i in ids] for c, ids in plain.items()}
    pair_a = min(padded["A"]), str(int(min(padded["A"])))  # the hint's example: first id of the first side
    pair_b = min(plain["B"]), f"{int(min(plain['B'])):03d}"
    with pytest.raises(CoverageError) as info:
        merge.build_tables(config, KEY, tmp_path / "out", series_index=index_of(folder, config))
    assert str(info.value).splitlines() == [
        "centre A: 0 patient(s) analysed, fewer than tables.min_patients (1); patient ids seen (after centres.A.ids):",
        f"  clinical table {folder / 'A_clinical.csv'}: 7, e.g. {examples(padded['A'])}",
        f"  gradings table {folder / 'A_gradings.csv'}: 7, e.g. {examples(plain['A'])}",
        "  on every side: 0",
        "  likely cause: the ids match once case and leading zeros are ignored "
        f"({pair_a[0]!r} in the clinical table, {pair_a[1]!r} in the gradings table): "
        "set centres.A.ids: {zero_pad: 3}",
        "centre B: 0 patient(s) analysed, fewer than tables.min_patients (1); patient ids seen (after centres.B.ids):",
        f"  clinical table {folder / 'B_clinical.xlsx'}: 6, e.g. {examples(plain['B'])}",
        f"  gradings table {folder / 'B_gradings.xlsx'}: 6, e.g. {examples(padded['B'])}",
        f"  DICOM folders {folder / 'B' / 'dicom'}: 6, e.g. {examples(padded['B'])}",
        "  on every side: 0",
        "  likely cause: the ids match once case and leading zeros are ignored "
        f"({pair_b[0]!r} in the clinical table, {pair_b[1]!r} in the gradings table): "
        "set centres.B.ids: {zero_pad: 3}",
    ]
    assert not (tmp_path / "out").exists()  # nothing written: the ids are on the terminal only


@pytest.mark.parametrize("rules", [{"zero_pad": 3}, {"pattern": "0*([0-9]+)"}])
def test_the_centres_id_form_matches_every_side(delivery, tmp_path, rules):
    """zero_pad: 3 (7 -> 007) or a pattern without leading zeros (007 -> 7): every patient analysed, named by
    the pseudonym of the one form, with the volume of its DICOM folder."""
    folder, clinical, config = delivery
    config = {c: spec | {"ids": rules} for c, spec in config.items()}
    merge.build_tables(config, KEY, tmp_path, series_index=index_of(folder, config))
    analysis = pd.read_parquet(tmp_path / "analysis.parquet")
    want = sorted(pseudonym.patient(KEY, c, ids.normalise(f"{number(i):03d}", rules))
                  for c, i in zip(clinical.centre, clinical.study_id))
    assert sorted(analysis.patient) == want
    assert analysis.loc[analysis.centre == "B", "n_volumes"].eq(1).all()
    assert pd.read_csv(tmp_path / "exclusions.csv").empty


def test_min_patients_counts_per_centre(delivery, tmp_path):
    """Every patient matched but one centre has fewer than the minimum: only that centre is named."""
    folder, _, config = delivery
    config = {c: spec | {"ids": {"zero_pad": 3}} for c, spec in config.items()}
    with pytest.raises(CoverageError) as info:
        merge.build_tables(config, KEY, tmp_path, series_index=index_of(folder, config), min_patients=7)
    assert [line for line in str(info.value).splitlines() if line.startswith("centre")] == [
        "centre B: 6 patient(s) analysed, fewer than tables.min_patients (7); patient ids seen (after centres.B.ids):"]
    assert "likely cause: the sides hold different patients" in str(info.value)


def test_id_outside_the_pattern_names_the_row_not_the_id(delivery):
    _, _, config = delivery
    read = table_io.read_clinical("A", config["A"]["clinical"], KEY, {"pattern": "00[1-5]"})
    assert {p.row for p in read.problems} == set(read.frame.row[read.frame.patient_id.isna()]) != set()
    assert {(p.column, p.value, p.message) for p in read.problems} == {
        ("study_id", "", "patient id does not match ids.pattern '00[1-5]'")}
