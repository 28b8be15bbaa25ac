"""`spinestudy onboard CENTRE FILE...`: read, profile, propose, write the mapping, optionally dry-run it."""

from datetime import datetime, timezone
from pathlib import Path

from spinestudy import study as studies
from spinestudy.onboard import check, mapping, profile, propose, read
from spinestudy.onboard.targets import targets
from spinestudy.tables.schemas import tables as study_tables


def onboard(centre: str, files: list[str], out: str, dictionary: str | None = None, previous: str | None = None,
            dry_run: bool = False, logs: str = "logs/onboard", study: str | None = None) -> dict:
    """Propose centre `centre`'s mapping to `study`'s variables (default: the default study) from its files;
    write the profile under `logs` and the mapping to `out`.
    Returns the paths ('mapping', 'profile'), per table the 'proposals' and source 'tables', and report lines:
    'notes' (sheets not proposed), 'review' (check entries), 'unmatched', 'changes' (since --previous), 'dry_run'."""
    tables = [table for path in files for table in read.read(path)]
    if dictionary:
        read.apply_dictionary(tables, dictionary)
    columns = [[profile.describe(t, name) for name in t.frame.columns] for t in tables]
    profile_path = profile.write(profile.profile([c for cs in columns for c in cs]),
                                 Path(logs) / f"{centre}_profile.csv")
    chosen = propose.choose(targets(study), columns)
    notes = [f"{t.name}: a wide grading sheet (a column block per lumbar level): not proposed; the tables stage "
             "reads one row per patient and level, reshape it to that form" for t, cs in zip(tables, columns)
             if propose.wide(cs)]
    used = {i for i, _ in chosen.values()}
    for i, (table, cs) in enumerate(zip(tables, columns)):
        scores = propose.follow_up(str(table.options.get("sheet", Path(table.file).stem)), cs) if i not in used else []
        if scores:
            notes.append(f"{table.name}: a follow-up time point ({', '.join(map(repr, scores))}): not proposed; the "
                         "tables stage reads the after-procedure scores (nprs_back_after, nprs_leg_after) from the "
                         "clinical table: add them there as columns")
    if not chosen:
        raise SystemExit("\n".join([f"no clinical or grading table recognised in {', '.join(files)} "
                                     f"(see {profile_path})"] + notes))
    changes, specs, seen = [], {}, {}
    before, held = mapping.load(previous, centre) if previous else ({}, {})
    for kind, (i, proposals) in chosen.items():
        if previous and kind in before:
            changes += [f"{kind}: {line}" for line in
                        mapping.carry(proposals, columns[i], before[kind], held.get(kind, {}))]
        specs[kind] = mapping.spec(tables[i], proposals, kind)
        seen[kind] = mapping.seen(columns[i], proposals)
    header = [f"spinestudy onboard {centre}: proposed {datetime.now(timezone.utc):%Y-%m-%d} from "
              + ", ".join(files) + (f" with dictionary {dictionary}" if dictionary else ""),
              "Review every entry marked check: correct its column or codes, then set its status under review:",
              "to approved. A run refuses check entries; unmatched ones are null (not collected): look at them too."]
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(mapping.text(centre, specs, {k: p for k, (_, p) in chosen.items()}, seen, header))
    review, unmatched = _lines(chosen, "check"), _lines(chosen, "unmatched")
    report = []
    if dry_run:
        schemas = study_tables(studies.load(study)) if study else None
        for kind, (i, _) in chosen.items():
            report += check.check(centre, kind, specs[kind], list(tables[i].frame.columns), schemas)
    return {"mapping": Path(out), "profile": profile_path, "proposals": {k: p for k, (_, p) in chosen.items()},
            "tables": {k: tables[i] for k, (i, _) in chosen.items()}, "notes": notes, "review": review,
            "unmatched": unmatched, "changes": changes, "dry_run": report}


def _lines(chosen: dict, status: str) -> list[str]:
    """One line per entry and per code of this status."""
    proposals = [(kind, p) for kind, (_, found) in chosen.items() for p in found]
    lines = [f"{kind} {p.target.key}: {p.status} {p.score:.2f} ({p.why})"
             for kind, p in proposals if p.status == status]
    return lines + [f"{kind} codes.{p.target.variable} {c.code!r} -> {c.value!r}: {c.status} {c.score:.2f} ({c.why})"
                    for kind, p in proposals for c in p.codes if c.status == status]
