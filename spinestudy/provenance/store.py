"""Where data versions live: results/provenance/versions/<version>/ (meta.json, patients.csv, numbers.csv),
history.csv (one line per complete run that gave a new version) and releases.csv (named, frozen versions).

Snakemake does not track this store (only version.json and changes.csv are rule outputs), so versions
outlive the runs that made them; the newest `keep` versions of the history and every release are kept.
"""

import json
import shutil
from pathlib import Path

import pandas as pd

from spinestudy.provenance.snapshot import NUMBER_COLUMNS, PATIENT_COLUMNS, Snapshot

HISTORY = ["version", "date", "commit"]
RELEASES = ["name", "version", "date"]
WITHDRAWN = "withdrawn"  # the digest of a withdrawn patient in stored versions


class VersionNotFound(LookupError):
    pass


def _table(path: Path, columns: list[str]) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False) if path.exists() else pd.DataFrame(columns=columns)


def history(root: Path) -> pd.DataFrame:
    return _table(Path(root) / "history.csv", HISTORY)


def releases(root: Path) -> pd.DataFrame:
    return _table(Path(root) / "releases.csv", RELEASES)


def save(root: Path, snapshot: Snapshot) -> None:
    """Store the snapshot and add it to the history unless it is the latest version already."""
    root = Path(root)
    folder = root / "versions" / snapshot.version
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "meta.json").write_text(json.dumps(snapshot.meta, indent=2, sort_keys=True))
    snapshot.patients.to_csv(folder / "patients.csv", index=False)
    snapshot.numbers.to_csv(folder / "numbers.csv", index=False)
    past = history(root)
    if past.empty or past["version"].iloc[-1] != snapshot.version:
        line = pd.DataFrame([[snapshot.version, snapshot.meta["date"], snapshot.meta["commit"]]], columns=HISTORY)
        pd.concat([past, line], ignore_index=True).to_csv(root / "history.csv", index=False)


def load(root: Path, version: str) -> Snapshot:
    folder = Path(root) / "versions" / version
    if not (folder / "meta.json").exists():
        kept = ", ".join(history(root)["version"].tolist()[-5:]) or "none"
        raise VersionNotFound(f"data version {version!r} is not in {Path(root) / 'versions'} (never recorded, or "
                              f"pruned: provenance.keep); latest versions: {kept}")
    return Snapshot(json.loads((folder / "meta.json").read_text()), _table(folder / "patients.csv", PATIENT_COLUMNS),
                    _table(folder / "numbers.csv", NUMBER_COLUMNS))


def previous(root: Path, version: str) -> str | None:
    """The latest version in the history other than `version`: the previous complete run's."""
    others = [v for v in history(root)["version"] if v != version]
    return others[-1] if others else None


def resolve(root: Path, name: str) -> str:
    """A release name or a version id -> the version id."""
    return releases(root).set_index("name")["version"].get(name, name)


def freeze(root: Path, name: str, version: str, date: str) -> None:
    """Record `version` as the release `name` (a name is given once)."""
    known = releases(root)
    if name in set(known["name"]):
        raise ValueError(f"release {name!r} exists already (version {resolve(root, name)}); choose another name")
    load(root, version)  # the version must exist
    line = pd.DataFrame([[name, version, date]], columns=RELEASES)
    pd.concat([known, line], ignore_index=True).to_csv(Path(root) / "releases.csv", index=False)


def prune(root: Path, keep: int) -> list[str]:
    """Delete stored versions beyond the newest `keep` of the history, never a release; return those deleted."""
    root = Path(root)
    recent = list(dict.fromkeys(reversed(history(root)["version"].tolist())))[:keep]
    wanted = set(recent) | set(releases(root)["version"])
    stored = sorted(p.name for p in (root / "versions").iterdir()) if (root / "versions").is_dir() else []
    gone = [v for v in stored if v not in wanted]
    for version in gone:
        shutil.rmtree(root / "versions" / version)
    return gone


def withdraw(root: Path, patients: set[tuple[str, str]]) -> list[str]:
    """Replace the digests of these (centre, pseudonym) patients by `withdrawn` in every stored version (their
    data go, the record that they were there stays); return the versions changed."""
    changed = []
    for path in sorted(Path(root).glob("versions/*/patients.csv")):
        table = _table(path, PATIENT_COLUMNS)
        hit = [(centre, patient) in patients for centre, patient in zip(table["centre"], table["patient"])]
        if (table.loc[hit, "digest"] != WITHDRAWN).any():
            table.loc[hit, "digest"] = WITHDRAWN
            table.to_csv(path, index=False)
            changed.append(path.parent.name)
    return changed
