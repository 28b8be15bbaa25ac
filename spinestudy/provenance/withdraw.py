"""Withdrawn patients: what a run keeps of the patients no longer delivered is their pseudonym, nothing else.

The `withdraw` rule runs whenever the delivery changes (the batches and patients the run plans are its
parameters) and before the provenance step. It keeps a ledger of every patient delivered so far
(logs/withdraw/patients.csv: centre, pseudonym, status `delivered` or `withdrawn`, since when) and, for the
patients no longer delivered:
- deletes the files and folders of every per-batch job (results and logs) whose batch the delivery no longer
  has (e.g. results/ingest/volumes/<centre>/<batch>/ of a batch that lost its only patient), and those a job
  is no longer planned for that held a withdrawn patient (a batch's robustness re-extraction when the
  withdrawn patient was its only sampled one). A batch that keeps other patients is rebuilt by its own job
  without them: its inputs and parameters change;
- replaces their digests in the stored data versions by `withdrawn`, keeping the pseudonym so that the change
  report lists them as removed.
Its log names what it removed by pseudonym and pseudonymous path only.
"""

import glob
import logging
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from spinestudy.provenance import store

log = logging.getLogger(__name__)
LEDGER = ["centre", "patient", "status", "since"]
DELIVERED, WITHDRAWN = "delivered", store.WITHDRAWN
WILDCARDS = {"{centre}": r"(?P<centre>[^/]+)", "{batch}": r"(?P<batch>p[0-9a-f]{0,12})"}
PSEUDONYM = re.compile(r"p[0-9a-f]{12}")


def products(pattern: str, root: Path) -> list[tuple[str, str, Path]]:
    """(centre, batch, path) of every existing file or folder under root matching a per-batch rule's output
    or log pattern (wildcards {centre} and {batch})."""
    parts = re.split("({centre}|{batch})", pattern)
    regex = re.compile("".join(WILDCARDS.get(part, re.escape(part)) for part in parts))
    found = glob.glob("".join("*" if part in WILDCARDS else glob.escape(part) for part in parts), root_dir=root)
    return [(m["centre"], m["batch"], root / name) for name in sorted(found) if (m := regex.fullmatch(name))]


def patients_in(path: Path) -> set[str]:
    """Pseudonyms a per-batch product holds: its `patient` column (parquet, csv) or its patients' folders."""
    if path.is_dir():
        return {p.name for p in path.iterdir() if PSEUDONYM.fullmatch(p.name)}
    if path.suffix == ".parquet" and "patient" in pq.read_schema(path).names:
        return set(pd.read_parquet(path, columns=["patient"])["patient"].astype(str))
    if path.suffix == ".csv":
        return set(pd.read_csv(path, dtype=str, usecols=lambda c: c == "patient").get("patient", []))
    return set()


def remove(path: Path) -> None:
    shutil.rmtree(path) if path.is_dir() else path.unlink()
    log.info("removed %s", path)


def update_ledger(old: pd.DataFrame, delivered: set[tuple[str, str]], gone: set[tuple[str, str]],
                  today: str) -> pd.DataFrame:
    """Every patient delivered so far: `delivered` now, else `withdrawn`; `since` is when that status began."""
    before = {(c, p): (s, d) for c, p, s, d in old[LEDGER].itertuples(index=False)}
    rows = []
    for centre, patient in sorted(delivered | gone | set(before)):
        status = DELIVERED if (centre, patient) in delivered else WITHDRAWN
        previous, since = before.get((centre, patient), (None, None))
        rows.append((centre, patient, status, since if previous == status else today))
    return pd.DataFrame(rows, columns=LEDGER)


def with_status(ledger: pd.DataFrame, status: str) -> set[tuple[str, str]]:
    return set(ledger.loc[ledger["status"] == status, ["centre", "patient"]].itertuples(index=False, name=None))


def withdraw(delivered: dict[str, dict[str, list[str]]], batch_files: list[str], robustness: dict[str, dict],
             robustness_files: list[str], ledger: Path, versions: Path, root: Path = Path("."),
             today: str | None = None) -> set[tuple[str, str]]:
    """The withdraw rule: delivered is centre -> batch -> pseudonyms of this run; batch_files the output and log
    patterns of the per-batch rules, robustness_files those of the robustness rule, which runs for the batches
    in `robustness` (centre -> batch -> pseudonyms: the batches with a sampled patient). Removes the withdrawn
    patients' products and digests (module doc), updates the ledger and returns the withdrawn (centre, pseudonym)
    pairs."""
    today = today or datetime.now(timezone.utc).date().isoformat()
    now = {(c, p) for c, groups in delivered.items() for patients in groups.values() for p in patients}
    old = pd.read_csv(ledger, dtype=str, keep_default_na=False) if Path(ledger).exists() else pd.DataFrame(
        columns=LEDGER)
    withdrawn = with_status(old, DELIVERED) - now
    stale = [(c, b, path) for pattern in batch_files for c, b, path in products(pattern, root)
             if b not in delivered.get(c, {})]
    for centre, _, path in stale:
        withdrawn |= {(centre, p) for p in patients_in(path)} - now
    unplanned = [(c, b, path) for pattern in robustness_files for c, b, path in products(pattern, root)
                 if b not in robustness.get(c, [])]
    stale += [(c, b, path) for c, b, path in unplanned if b not in delivered.get(c, {})
              or any(centre == c and patient.startswith(b) for centre, patient in withdrawn)]
    for centre, patient in sorted(withdrawn):
        log.info("withdrawn: %s of centre %s (no longer delivered)", patient, centre)
    for _, _, path in stale:
        remove(path)
    table = update_ledger(old, now, withdrawn, today)
    for version in store.withdraw(versions, with_status(table, WITHDRAWN)):
        log.info("digests of withdrawn patients replaced in stored data version %s", version)
    Path(ledger).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(ledger, index=False)
    return withdrawn
