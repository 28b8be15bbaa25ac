"""What a delivery changed: patients added, removed or changed per centre and stage, and every manuscript
number that moved, between two data versions; flagged where a P-value crosses its threshold or a LASSO
predictor is selected or dropped.

`record` is the provenance rule: snapshot the run, store it, compare with the version named in
provenance.since (default: the previous complete run), write version.json and changes.csv.
"""

import json
from pathlib import Path

import pandas as pd

from spinestudy.provenance import snapshot, store
from spinestudy.provenance.snapshot import Snapshot

COLUMNS = ["kind", "centre", "stage", "patient", "change", "table", "row", "column", "old", "new", "flag"]
DEFAULTS = {"since": None, "keep": 20}
SIGNIFICANCE = "crosses the significance threshold"
SELECTION = "LASSO selection changed"


def patient_changes(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    both = old.merge(new, on=["centre", "patient", "stage"], how="outer", suffixes=("_old", "_new"), indicator=True)
    change = both["_merge"].map({"right_only": "added", "left_only": "removed", "both": "changed"}).astype(str)
    both = both.assign(change=change)[(change != "changed") | (both["digest_old"] != both["digest_new"])]
    return both.assign(kind="patient", old=both["digest_old"].fillna("").str[:12],
                       new=both["digest_new"].fillna("").str[:12])


def _selected(coef: str) -> bool:
    try:
        return float(coef) != 0
    except ValueError:
        return False


def _flag(table: str, column: str, old: str, new: str, alpha: float) -> str:
    if column == "significant" and {old, new} == {"True", "False"}:
        return SIGNIFICANCE
    if table == "associations" and column == "p" and old and new and (float(old) < alpha) != (float(new) < alpha):
        return SIGNIFICANCE
    if table == "lasso" and column == "coef" and _selected(old) != _selected(new):
        return SELECTION
    return ""


def number_changes(old: pd.DataFrame, new: pd.DataFrame, alpha: float) -> pd.DataFrame:
    both = old.merge(new, on=["table", "row", "column"], how="outer", suffixes=("_old", "_new"))
    both = both.fillna({"value_old": "", "value_new": ""})
    both = both[both["value_old"] != both["value_new"]]
    flags = [_flag(t, c, o, n, alpha) for t, c, o, n in
             zip(both["table"], both["column"], both["value_old"], both["value_new"])]
    return both.assign(kind="number", change="moved", old=both["value_old"], new=both["value_new"], flag=flags)


def compare(old: Snapshot, new: Snapshot, alpha: float = 0.05) -> pd.DataFrame:
    """The change list from `old` to `new` (alpha: threshold of the association P-values; Table 1 and the
    post hoc tests carry their own `significant` column)."""
    frames = [patient_changes(old.patients, new.patients), number_changes(old.numbers, new.numbers, alpha)]
    out = pd.concat([f.reindex(columns=COLUMNS) for f in frames], ignore_index=True).fillna("")
    return out.sort_values(["kind", "centre", "stage", "patient", "table", "row", "column"], ignore_index=True)


def summary(changes: pd.DataFrame) -> dict:
    """Counts for version.json and the study page: patients per centre, stage and change; numbers moved."""
    patients = changes[changes["kind"] == "patient"]
    numbers = changes[changes["kind"] == "number"]
    counts = patients.groupby(["centre", "stage", "change"]).size()
    return {"patients": {f"{c}/{s}/{k}": int(n) for (c, s, k), n in counts.items()},
            "numbers_moved": len(numbers), "flagged": int((numbers["flag"] != "").sum())}


def write_changes(root: Path, current: str, since: str, alpha: float, out: Path) -> dict:
    """Compare the stored versions `since` (a version id or release name) and `current`; write changes.csv."""
    base = store.resolve(root, since)
    changes = compare(store.load(root, base), store.load(root, current), alpha)
    changes.to_csv(out, index=False)
    return {"since": base, "since_name": since if since != base else None} | summary(changes)


def record(series_index: Path, analysis: Path, gradings: Path, tables: dict[str, Path], classifier: Path,
           config: dict, settings: dict, out_version: Path, out_changes: Path) -> None:
    """The provenance rule: snapshot, store (pruned to `keep`), compare with `since`, write both outputs."""
    cfg = DEFAULTS | (settings or {})
    root = Path(out_version).parent
    taken = snapshot.take(series_index, analysis, gradings, tables, classifier, config)
    since = cfg["since"] or store.previous(root, taken.version)
    store.save(root, taken)
    alpha = 1 - config["stats"]["associations"]["confidence"]
    if since:
        result = write_changes(root, taken.version, since, alpha, out_changes)
    else:
        pd.DataFrame(columns=COLUMNS).to_csv(out_changes, index=False)
        result = {"since": None, "since_name": None, "patients": {}, "numbers_moved": 0, "flagged": 0}
    store.prune(root, cfg["keep"])
    Path(out_version).write_text(json.dumps({"version": taken.version, **taken.meta, "changes": result},
                                            indent=2, sort_keys=True))
