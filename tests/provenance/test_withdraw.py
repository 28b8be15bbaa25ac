"""Withdrawal: the per-batch outputs of patients no longer delivered go, their stored digests too, and the
ledger says who was withdrawn (tests/test_withdraw_workflow.py runs it in the workflow)."""

import pandas as pd

from spinestudy.provenance import changes, store
from spinestudy.provenance.snapshot import PATIENT_COLUMNS, Snapshot
from spinestudy.provenance.withdraw import withdraw

# The per-batch rules' outputs and logs as workflow/rules/ingest.smk and radiomics.smk name them.
BATCH_FILES = ["results/ingest/batches/{centre}/{batch}.parquet",
               "results/ingest/batches/{centre}/{batch}.exclusions.csv", "results/ingest/volumes/{centre}/{batch}", "logs/ingest/files/{centre}/{batch}.csv",
               "logs/ingest_batch/{centre}/{batch}.log", "results/radiomics/{centre}/{batch}.parquet",
               "logs/radiomics_batch/{centre}/{batch}.log"]
ROBUSTNESS_FILES = ["results/radiomics/perturbed/{centre}/{batch}.parquet",
                    "logs/radiomics_robustness_batch/{centre}/{batch}.log"]
KEPT, SHARED, ALONE, OTHER = "p5" + "a" * 11, "p5" + "b" * 11, "p9" + "c" * 11, "p3" + "d" * 11


def write_batch(root, centre: str, batch: str, patients: list[str], perturbed: list[str]) -> None:
    """A batch's products as its jobs write them: tables with a patient column, one folder per patient."""
    rows = pd.DataFrame({"centre": centre, "patient": patients, "sequence": "T2"})
    for pattern in BATCH_FILES + (ROBUSTNESS_FILES if perturbed else []):
        path = root / pattern.format(centre=centre, batch=batch)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".parquet":
            rows[rows.patient.isin(perturbed) if "perturbed" in pattern else slice(None)].to_parquet(path)
        elif path.suffix in (".csv", ".log"):
            rows.to_csv(path, index=False)
        else:
            for patient in patients:
                (path / patient).mkdir(parents=True)
                (path / patient / "T2.nii.gz").write_bytes(b"\x1f\x8b" + patient.encode())


def files(root) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def run(root, delivered, sampled, today="2026-12-01"):
    robustness = {c: {b: ps for b, ps in groups.items() if set(ps) & sampled} for c, groups in delivered.items()}
    return withdraw(delivered, BATCH_FILES, robustness, ROBUSTNESS_FILES, root / "logs/withdraw/patients.csv",
                    root / "results/provenance", root=root, today=today)


def store_version(root, version: str, patients: list[tuple[str, str]]) -> None:
    rows = pd.DataFrame([(c, p, stage, f"{p}{stage}digest") for c, p in patients for stage in ("imaging", "clinical")],
                        columns=PATIENT_COLUMNS)
    store.save(root / "results/provenance", Snapshot({"version": version, "date": "2026-11-01", "commit": "c0ffee"},
                                                     rows, pd.DataFrame(columns=["table", "row", "column", "value"])))


def test_withdrawn_patients_lose_their_batch_outputs_and_digests_and_the_others_keep_theirs(tmp_path):
    before = {"A": {"p5": [KEPT, SHARED], "p9": [ALONE]}, "B": {"p3": [OTHER]}}
    write_batch(tmp_path, "A", "p5", [KEPT, SHARED], perturbed=[SHARED])  # the sampled patient is withdrawn
    write_batch(tmp_path, "A", "p9", [ALONE], perturbed=[ALONE])
    write_batch(tmp_path, "B", "p3", [OTHER], perturbed=[OTHER])  # no longer sampled, nobody withdrawn
    store_version(tmp_path, "v1", [("A", KEPT), ("A", SHARED), ("A", ALONE), ("B", OTHER)])
    assert run(tmp_path, before, {SHARED, ALONE, OTHER}) == set()
    first = files(tmp_path)

    after = {"A": {"p5": [KEPT]}, "B": {"p3": [OTHER]}}
    assert run(tmp_path, after, {SHARED, ALONE}, today="2026-12-02") == {("A", SHARED), ("A", ALONE)}
    removed = first - files(tmp_path)
    expected = {p.format(centre="A", batch="p9") for p in BATCH_FILES + ROBUSTNESS_FILES if "volumes" not in p}
    expected |= {f"results/ingest/volumes/A/p9/{ALONE}/T2.nii.gz"}
    expected |= {p.format(centre="A", batch="p5") for p in ROBUSTNESS_FILES}
    assert removed == expected  # batch p5 keeps its outputs: its own job rebuilds them without SHARED
    assert not (tmp_path / "results/ingest/volumes/A/p9").exists()
    assert (tmp_path / "results/radiomics/perturbed/B/p3.parquet").exists()

    ledger = pd.read_csv(tmp_path / "logs/withdraw/patients.csv", dtype=str)
    assert ledger.values.tolist() == [["A", KEPT, "delivered", "2026-12-01"], ["A", SHARED, "withdrawn", "2026-12-02"],
                                      ["A", ALONE, "withdrawn", "2026-12-02"], ["B", OTHER, "delivered", "2026-12-01"]]
    stored = pd.read_csv(tmp_path / "results/provenance/versions/v1/patients.csv", dtype=str)
    assert set(stored.loc[stored.digest == "withdrawn", "patient"]) == {SHARED, ALONE}
    assert set(stored.loc[stored.digest != "withdrawn", "digest"]) == {f"{p}{s}digest" for p in (KEPT, OTHER)
                                                                       for s in ("imaging", "clinical")}

    store_version(tmp_path, "v2", [("A", KEPT), ("B", OTHER)])
    listed = changes.compare(store.load(tmp_path / "results/provenance", "v1"),
                             store.load(tmp_path / "results/provenance", "v2"))
    assert listed[["patient", "stage", "change", "old"]].values.tolist() == [
        [p, s, "removed", "withdrawn"] for s in ("clinical", "imaging") for p in sorted([SHARED, ALONE])]

    assert run(tmp_path, after, {SHARED, ALONE}, today="2026-12-03") == set()  # nothing more to do
    assert pd.read_csv(tmp_path / "logs/withdraw/patients.csv", dtype=str).equals(ledger)


def test_without_a_ledger_the_patients_of_a_batch_no_longer_delivered_are_found_in_its_outputs(tmp_path):
    """A results tree from before the ledger existed: the removed batch's tables and folders name them."""
    write_batch(tmp_path, "A", "p9", [ALONE], perturbed=[])
    write_batch(tmp_path, "B", "p3", [OTHER], perturbed=[])
    before = files(tmp_path)
    assert run(tmp_path, {"A": {}, "B": {"p3": [OTHER]}}, set()) == {("A", ALONE)}
    assert files(tmp_path) == {p for p in before if "/A/" not in p} | {"logs/withdraw/patients.csv"}
