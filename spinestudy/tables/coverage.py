"""Stop a run in which a centre sending clinical and grading tables has fewer analysed patients than
`tables.min_patients`, naming the likely cause: the ids each side holds, with a few examples.

The ids are shown as compared (after `centres.<id>.ids`) in the error message, which goes to the
terminal only; nothing under results/ holds them.
"""

from pathlib import Path

import pandas as pd

from spinestudy import ids
from spinestudy.exclusions import Exclusion

EXAMPLES = 3
SIDES = {"clinical": "clinical table", "levels": "gradings table"}


class CoverageError(ValueError):
    """Too few patients analysed in a centre; the message shows the ids seen on each side."""


def check(reads: dict, centres: dict, analysis: pd.DataFrame, log: list[Exclusion], minimum: int,
          images: bool) -> None:
    """Raise CoverageError when a centre with clinical and grading tables has fewer than `minimum` analysed
    patients. images: the run has a series index, so a centre's DICOM folders are a side too."""
    short = [(c, int((analysis["centre"] == c).sum())) for c, tables in reads.items() if set(SIDES) <= set(tables)]
    short = [(c, n) for c, n in short if n < minimum]
    if short:
        raise CoverageError("\n".join(
            explain(c, n, minimum, reads[c], centres[c], [e for e in log if e.centre == c], images) for c, n in short))


def explain(centre: str, analysed: int, minimum: int, tables: dict, cfg: dict, log: list[Exclusion],
            images: bool) -> str:
    """The message of one centre: ids per side with examples, ids on every side, the likely cause."""
    sides, where = {}, {}
    for table, name in SIDES.items():
        sides[name], where[name] = set(tables[table].frame["patient_id"].dropna()), tables[table].source.file
    if images and "dicom" in cfg and Path(cfg["dicom"]).is_dir():
        sides["DICOM folders"] = set(ids.folder_ids(Path(cfg["dicom"]), cfg.get("ids")).values())
        where["DICOM folders"] = cfg["dicom"]
    common = set.intersection(*sides.values())
    lines = [f"centre {centre}: {analysed} patient(s) analysed, fewer than tables.min_patients ({minimum}); "
             f"patient ids seen (after centres.{centre}.ids):"]
    for name, seen in sides.items():
        examples = sorted(seen - common)[:EXAMPLES] or sorted(seen)[:EXAMPLES]
        lines.append(f"  {name} {where[name]}: {len(seen)}, e.g. {', '.join(map(repr, examples))}")
    lines.append(f"  on every side: {len(common)}")
    if hint := ids.form_hint(centre, sides):
        cause = hint
    elif len(common) >= minimum:
        cause = "the patients with ids on every side were left out: " + "; ".join(
            f"{e.patient} {e.item}: {e.reason}" for e in sorted(log, key=lambda e: (e.patient, e.item))[:EXAMPLES])
    else:
        cause = (f"the sides hold different patients: check that every file and folder belongs to centre {centre} "
                 "and that columns.patient_id names each table's id column")
    return "\n".join(lines + [f"  likely cause: {cause}"])
