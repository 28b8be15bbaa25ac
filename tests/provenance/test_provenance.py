"""Data versions: snapshots, the change list between two versions, releases, and the CLI."""

import json

import pandas as pd
import pydicom
import pytest
from dicom_factory import write_series
from stats_cohort import cohort

from spinestudy import cli, pseudonym, study
from spinestudy.ingest.job import INDEX_COLUMNS, ingest_patient
from spinestudy.provenance import changes, snapshot, store
from spinestudy.report import study as report
from spinestudy.stats import associations, posthoc, prevalence, table1

STATS = {"table1": table1, "posthoc": posthoc, "prevalence": prevalence, "associations": associations}
FIXED = {"commit": "c0ffee", "date": "2026-11-30"}


def run_stats(folder, analysis: pd.DataFrame, long: pd.DataFrame, config: dict) -> dict:
    """Write the tables and the statistics that read them, as the workflow does; return the result paths."""
    folder.mkdir(parents=True, exist_ok=True)
    analysis.to_parquet(folder / "analysis.parquet")
    long.to_parquet(folder / "gradings.parquet")
    pd.DataFrame(columns=INDEX_COLUMNS).to_parquet(folder / "series_index.parquet")
    paths, settings = {}, config["stats"] | {"fisher_resamples": 199}  # Monte Carlo size does not matter here
    for name, module in STATS.items():
        paths[name] = folder / f"{name}.csv"
        needs = {"gradings": folder / "gradings.parquet"} if name != "associations" else {}
        needs |= {"study": study.path_of(config["study"])}
        module.write(analysis=folder / "analysis.parquet", **needs, settings=settings, out=paths[name])
    return paths


def take(folder, paths: dict, config: dict) -> snapshot.Snapshot:
    return snapshot.take(folder / "series_index.parquet", folder / "analysis.parquet", folder / "gradings.parquet",
                         paths, None, config, **FIXED)


def csv_diff(old: dict, new: dict) -> set[tuple[str, str]]:
    """(table, column) of every cell that differs between two runs' result files, read independently."""
    moved = set()
    for name in old:
        a, b = (pd.read_csv(p, dtype=str, keep_default_na=False) for p in (old[name], new[name]))
        assert a.shape == b.shape
        moved |= {(name, column) for column in a.columns if (a[column] != b[column]).any()}
    return moved


def test_a_corrected_clinical_value_changes_one_patient_and_the_numbers_it_moves(tmp_path, config):
    analysis, long, _ = cohort(200, seed=11)
    before = run_stats(tmp_path / "before", analysis, long, config)
    corrected = analysis.copy()
    row = corrected.index[corrected["nprs_back_before"].notna()][0]
    corrected.loc[row, "nprs_back_before"] = 10 - corrected.loc[row, "nprs_back_before"]
    corrected.loc[row, "age"] = 95.0  # moves the age median and the age test
    after = run_stats(tmp_path / "after", corrected, long, config)

    old, new = take(tmp_path / "before", before, config), take(tmp_path / "after", after, config)
    assert old.version != new.version
    assert take(tmp_path / "before", before, config).version == old.version  # deterministic
    listed = changes.compare(old, new)
    patients = listed[listed["kind"] == "patient"]
    assert patients[["centre", "patient", "stage", "change"]].values.tolist() == [
        [analysis.loc[row, "centre"], analysis.loc[row, "patient"], "clinical", "changed"]]
    numbers = listed[listed["kind"] == "number"]
    tracked = {(t, c) for t, (_, values) in snapshot.TABLES.items() for c in values}
    tracked |= {("table1", c) for c in snapshot.group_columns(pd.read_csv(before["table1"]))}  # Total, groups
    assert {(t, c) for t, c in zip(numbers["table"], numbers["column"])} == csv_diff(before, after) & tracked
    rows = numbers.loc[numbers["table"] == "table1", "row"].str.split(" | ", regex=False).str[0]
    assert {"age", "nprs_back_before"} <= set(rows)


def test_flags_mark_significance_crossings_and_lasso_selection_changes():
    def numbers(rows):
        return pd.DataFrame(rows, columns=snapshot.NUMBER_COLUMNS)

    old = snapshot.Snapshot({"version": "a"}, pd.DataFrame(columns=snapshot.PATIENT_COLUMNS), numbers([
        ["associations", "x", "p", "0.04"], ["associations", "y", "p", "0.01"], ["lasso", "z", "coef", "0.0"],
        ["lasso", "w", "coef", "0.2"], ["table1", "v", "significant", "True"], ["table1", "v", "P-value", "0.001"]]))
    new = snapshot.Snapshot({"version": "b"}, old.patients, numbers([
        ["associations", "x", "p", "0.06"], ["associations", "y", "p", "0.02"], ["lasso", "z", "coef", "0.31"],
        ["lasso", "w", "coef", "0.25"], ["table1", "v", "significant", "False"], ["table1", "v", "P-value", "0.004"]]))
    flags = changes.compare(old, new, alpha=0.05).set_index(["table", "row", "column"])["flag"]
    assert flags.to_dict() == {("associations", "x", "p"): changes.SIGNIFICANCE, ("associations", "y", "p"): "",
                               ("lasso", "w", "coef"): "", ("lasso", "z", "coef"): changes.SELECTION,
                               ("table1", "v", "P-value"): "", ("table1", "v", "significant"): changes.SIGNIFICANCE}


def ingest(folder, out, config):
    ingest_patient(folder, "A", "p0123456789ab", config["ingest"], b"k", out / "index.parquet",
                   out / "exclusions.csv", out / "volumes")
    return pd.read_parquet(out / "index.parquet")


def test_a_reexport_with_identical_pixels_changes_nothing(tmp_path, config):
    """Same pixels, new UIDs and file names (a PACS re-export): same imaging digest; one changed voxel: changed."""
    first, again, edited = (tmp_path / name / "T2" for name in ("first", "again", "edited"))
    write_series(first, n=15, size=512, seed=3, prefix="IM")
    write_series(again, n=15, size=512, seed=3, prefix="EXPORT_")
    paths = write_series(edited, n=15, size=512, seed=3)
    ds = pydicom.dcmread(paths[7])
    ds.PixelData = bytes([ds.PixelData[0] ^ 1]) + ds.PixelData[1:]
    ds.save_as(paths[7])
    digests = {}
    for folder in (first, again, edited):
        index = ingest(folder.parent, tmp_path / "out" / folder.parent.name, config)
        assert index["status"].tolist() == ["volume"]
        digests[folder.parent.name] = snapshot.volume_digest(index["volume"].iloc[0])
    assert digests["first"] == digests["again"] != digests["edited"]


def test_store_keeps_history_releases_and_prunes(tmp_path):
    root = tmp_path / "provenance"
    empty = pd.DataFrame(columns=snapshot.PATIENT_COLUMNS)
    for version in ("v1", "v2", "v3", "v4"):
        store.save(root, snapshot.Snapshot({"version": version, "date": "d", "commit": "c"}, empty,
                                           pd.DataFrame(columns=snapshot.NUMBER_COLUMNS)))
        if version == "v1":
            store.freeze(root, "submitted", "v1", "2026-03-01")
    assert store.previous(root, "v4") == "v3" and store.resolve(root, "submitted") == "v1"
    with pytest.raises(ValueError, match="exists already"):
        store.freeze(root, "submitted", "v2", "2026-04-01")
    assert store.prune(root, keep=2) == ["v2"]
    with pytest.raises(store.VersionNotFound, match="pruned"):
        store.load(root, "v2")
    assert sorted(p.name for p in (root / "versions").iterdir()) == ["v1", "v3", "v4"]


def test_cli_freezes_the_current_version_and_lists_changes_since_a_release(tmp_path, config, capsys):
    analysis, long, _ = cohort(120, seed=5)
    paths = run_stats(tmp_path / "run1", analysis, long, config)
    root = tmp_path / "results" / "provenance"
    root.mkdir(parents=True)
    settings = {"since": None, "keep": 5}
    record = dict(series_index=tmp_path / "run1/series_index.parquet", analysis=tmp_path / "run1/analysis.parquet",
                  gradings=tmp_path / "run1/gradings.parquet", tables=paths, classifier=None, config=config,
                  settings=settings, out_version=root / "version.json", out_changes=root / "changes.csv")
    changes.record(**record)
    assert json.loads((root / "version.json").read_text())["changes"]["since"] is None
    cli.main(["freeze", "submitted-2026-03", "--results", str(tmp_path / "results")])
    first = json.loads((root / "version.json").read_text())["version"]

    centre_c = [t.assign(centre="C", patient=t["patient"].str.replace("p0", "pc", n=1)) for t in cohort(60, 6)[:2]]
    delivery = [pd.concat([a, c], ignore_index=True) for a, c in zip((analysis, long), centre_c)]  # a new centre
    paths = run_stats(tmp_path / "run2", *delivery, config)
    changes.record(**record | {k: tmp_path / "run2" / f"{k}.parquet" for k in ("series_index", "analysis", "gradings")}
                   | {"tables": paths})
    info = json.loads((root / "version.json").read_text())
    assert info["changes"]["since"] == first and info["version"] != first
    cli.main(["changes", "--since", "submitted-2026-03", "--results", str(tmp_path / "results")])
    assert f"changes from {first} to {info['version']}" in capsys.readouterr().out
    listed = pd.read_csv(root / "changes.csv", dtype=str, keep_default_na=False)
    patients = listed[listed["kind"] == "patient"]
    assert set(patients["change"]) == {"added"} and set(patients["centre"]) == {"C"}
    assert sorted(patients["patient"].unique()) == sorted(centre_c[0]["patient"])
    assert set(patients["stage"]) == {"clinical", "gradings"}
    assert (listed["kind"] == "number").sum() > 0
    with pytest.raises(SystemExit, match="not in"):
        cli.main(["changes", "--since", "nonexistent", "--results", str(tmp_path / "results")])


def test_study_page_names_the_version_and_lists_the_changes(tmp_path, config):
    version, listed = tmp_path / "version.json", tmp_path / "changes.csv"
    version.write_text(json.dumps({"version": "0123456789ab", "changes": {"since": "ba9876543210",
                                                                         "since_name": "submitted-2026-03"}}))
    rows = [["patient", "C", "clinical", "pc00000000001", "added", "", "", "", "", "", ""],
            ["number", "", "", "", "moved", "associations", "x", "p", "0.04", "0.06", changes.SIGNIFICANCE]]
    pd.DataFrame(rows, columns=changes.COLUMNS).to_csv(listed, index=False)
    page = report.write_study({"version": version, "changes": listed}, config, tmp_path / "study.html",
                              commit="0" * 40, date="2026-11-30").read_text()
    assert 'data version <code id="data-version">0123456789ab</code>' in page
    assert "Changes since data version ba9876543210 (release submitted-2026-03)" in page
    assert "1 manuscript numbers moved, 1 of them flagged" in page and changes.SIGNIFICANCE in page


def test_an_empty_result_table_has_no_numbers(tmp_path):
    """A table with its header only (e.g. no variable passed to the post hoc tests) gives no cells."""
    pd.DataFrame(columns=["variable", "characteristic", "group1", "group2", "test", "p", "p_adjusted",
                          "significant"]).to_csv(tmp_path / "posthoc.csv", index=False)
    assert snapshot.table_numbers("posthoc", tmp_path / "posthoc.csv").empty
