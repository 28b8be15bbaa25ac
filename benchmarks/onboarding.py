"""Benchmark: how many variables and codes `spinestudy onboard` proposes right, wrongly approves, leaves to check.

    .venv/bin/python benchmarks/onboarding.py [--patients 200] [--seed 5]

Files: the demo's four centres (spinestudy.demo, right answers from demo_tables.CENTRE_FORMATS), and the
German workbook, REDCap exports (raw codes and labels, with the data dictionary) and SPSS file that the
tests build (tests/onboard_corpus.py, right answers beside them). Variables: those the files have
(approved and right, approved but wrong, to check, unmatched = missed) and those they lack (right when
unmatched); codes: every code of a categorical variable whose column was found, with the same columns.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import onboard_corpus as corpus  # noqa: E402

from spinestudy.demo import tables as demo_tables  # noqa: E402
from spinestudy.onboard.run import onboard  # noqa: E402
from spinestudy.tables.readers import _code  # noqa: E402

DEMO_KEYS = {"study_id": "patient_id", "modic_upper": "endplates.upper.modic", "modic_lower": "endplates.lower.modic",
             "tep_upper": "endplates.upper.tep", "tep_lower": "endplates.lower.tep"}


def demo_truth(centre: str) -> dict:
    """{table: {mapping key: column}} and {variable: {code: value}} of a demo centre."""
    spec = demo_tables.CENTRE_FORMATS[centre]
    columns = {table: {DEMO_KEYS.get(k, k): v for k, v in spec["columns"][table].items()}
               for table in ("clinical", "gradings")}
    codes = {variable: {_code(local): value for value, local in pairs.items()}
             for variable, pairs in spec["codes"].items()}
    if "level" not in codes:  # written as the canonical levels
        codes["level"] = {level: level for level in demo_tables.LEVELS}
    return {"columns": columns, "codes": codes}


def datasets(folder: Path, patients: int, seed: int):
    """(name, files, dictionary, truth) of every benchmark file set, written under folder."""
    clinical, gradings, _ = demo_tables.simulate_cohort(patients, ["A", "B", "C", "D"], seed)
    for centre in "ABCD":
        paths = demo_tables.write_centre_tables(clinical, gradings, centre, folder / centre)
        yield f"demo {centre}", [str(p) for p in paths.values()], None, demo_truth(centre)
    corpus.german_workbook(folder / "german.xlsx", seed)
    yield "German workbook", [str(folder / "german.xlsx")], None, {
        "columns": {"clinical": corpus.GERMAN, "gradings": corpus.GERMAN_GRADINGS}, "codes": corpus.GERMAN_CODES}
    for labels in (False, True):
        export, dictionary = corpus.redcap(folder / "redcap", labels, seed)
        names = {name: label for name, _, label, *_ in corpus.FIELDS}
        yield f"REDCap {'labels' if labels else 'raw'}", [str(export)], str(dictionary), {
            "columns": {"clinical": {k: names[v] if labels else v for k, v in corpus.REDCAP.items()}},
            "codes": corpus.REDCAP_LABEL_CODES if labels else corpus.REDCAP_CODES}
    codes = corpus.spss(folder / "centre.sav", seed)
    yield "SPSS", [str(folder / "centre.sav")], None, {"columns": {"clinical": corpus.SPSS}, "codes": codes}


FIELDS = ("present", "right", "wrong", "check", "check_right", "missed", "absent", "absent_right")


def score(result: dict, truth: dict) -> dict:
    """Counts of variables ('v_') and codes ('c_'): present in the file, approved and right, approved but wrong,
    to check (and of them right), unmatched though present (missed); variables absent, and unmatched of them."""
    counts = dict.fromkeys([f"{kind}_{f}" for kind in "vc" for f in FIELDS], 0)

    def add(kind: str, want, got, status: str) -> None:
        counts[f"{kind}_present"] += want is not None
        counts[f"{kind}_absent"] += want is None
        counts[f"{kind}_right"] += status == "approved" and got == want and want is not None
        counts[f"{kind}_wrong"] += status == "approved" and got != want
        counts[f"{kind}_check"] += status == "check"
        counts[f"{kind}_check_right"] += status == "check" and got == want
        counts[f"{kind}_missed"] += status == "unmatched" and want is not None
        counts[f"{kind}_absent_right"] += status == "unmatched" and want is None

    for table, proposals in result["proposals"].items():
        columns = truth["columns"].get(table, {})
        for p in proposals:
            want, got = columns.get(p.target.key), p.column.name if p.column else None
            add("v", want, got, p.status)
            if want is not None and got == want and p.target.variable in truth["codes"]:
                for c in p.codes:
                    add("c", truth["codes"][p.target.variable].get(c.code), c.value, c.status)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=200, help="demo patients over the four centres")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    total = None
    print(f"{'files':16} {'variables':>9} {'right':>6} {'wrong':>6} {'check':>6} {'missed':>6} {'absent':>6}"
          f" {'codes':>6} {'right':>6} {'wrong':>6} {'check':>6} {'missed':>6} {'s':>5}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, files, dictionary, truth in datasets(Path(tmp), args.patients, args.seed):
            start = time.perf_counter()
            result = onboard(name.replace(" ", "_"), files, str(Path(tmp) / "mapping.yaml"), dictionary,
                             logs=str(Path(tmp) / "logs"))
            counts = score(result, truth)
            took = time.perf_counter() - start
            total = counts if total is None else {k: total[k] + v for k, v in counts.items()}
            print(_row(name, counts) + f" {took:5.1f}")
    print(_row("total", total))
    v, c = ({f: total[f"{kind}_{f}"] for f in FIELDS} for kind in "vc")
    print(f"variables the files have: {v['present']}, approved and right {v['right'] / v['present']:.1%}, "
          f"to check {v['check']} ({v['check_right']} right as proposed), missed {v['missed']}; "
          f"variables they lack: {v['absent']}, unmatched {v['absent_right']}; wrong approvals: {v['wrong']}")
    print(f"codes: {c['present']}, approved and right {c['right'] / c['present']:.1%}, to check {c['check']} "
          f"({c['check_right']} right as proposed), without proposal {c['missed']}; wrong approvals: {c['wrong']}")
    print(f"entries to review (check): {v['check'] + c['check']}")


def _row(name: str, c: dict) -> str:
    return (f"{name:16} {c['v_present']:9d} {c['v_right']:6d} {c['v_wrong']:6d} {c['v_check']:6d} "
            f"{c['v_missed']:6d} {c['v_absent']:6d} {c['c_present']:6d} {c['c_right']:6d} {c['c_wrong']:6d} "
            f"{c['c_check']:6d} {c['c_missed']:6d}")


if __name__ == "__main__":
    main()
