"""The proposals as a centre mapping in config/config.yaml's format, commented, with a `review:` block (the
status and score of every entry: a run refuses an entry still marked `check`; `unmatched` is null, not
collected), and an earlier mapping's approvals
carried over to a new delivery."""

from pathlib import Path

import yaml

from spinestudy.onboard.profile import Column
from spinestudy.onboard.propose import Proposal, codes_for, column_score, date_format
from spinestudy.onboard.read import Table
from spinestudy.tables.readers import _code

ORDER = ("approved", "check", "unmatched")
FILE_OPTIONS = ("format", "sep", "encoding", "sheet", "header_row")


def _flow(value) -> str:
    """A YAML scalar or flow collection on one line."""
    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10**6).strip().removesuffix(
        "\n...").removesuffix("...").strip()


def worst(statuses) -> str:
    return max(statuses, key=ORDER.index, default="approved")


def spec(table: Table, proposals: list[Proposal], kind: str) -> dict:
    """A table's mapping: file options, columns (and endplates), codes, missing codes and the review block."""
    mapped = [p.column for p in proposals if p.column is not None]
    found = {"path": table.file, **{k: table.options[k] for k in FILE_OPTIONS if k in table.options}}
    if any(c.decimal == "," for c in mapped):
        found["decimal"] = ","
    if date_format(proposals):
        found["date_format"] = date_format(proposals)
    missing = sorted({code for p in proposals for code in p.missing})
    if missing:
        found["missing"] = [""] + missing
    found["columns"] = {p.target.key: p.column.name if p.column else None
                        for p in proposals if "." not in p.target.key}
    if kind == "gradings":
        found["endplates"] = {side: {p.target.variable: p.column.name if p.column else None for p in proposals
                                     if p.target.key.startswith(f"endplates.{side}.")} for side in ("upper", "lower")}
    found["codes"] = {p.target.variable: {c.code: c.value for c in p.codes if c.value is not None}
                      for p in proposals if p.codes and "." not in p.target.key}
    found["review"] = {p.target.key: {"status": p.status, "score": round(p.score, 2)} for p in proposals}
    found["review"] |= {f"codes.{p.target.variable}": {"status": worst(c.status for c in p.codes).replace(
                            "unmatched", "check"),  # a mapped column's code without a value: to check
                                                       "score": round(min(c.score for c in p.codes), 2)}
                        for p in proposals if p.codes and "." not in p.target.key}
    return found


def text(centre: str, specs: dict[str, dict], proposals: dict[str, list[Proposal]], seen: dict,
         header: list[str]) -> str:
    """The mapping file: `centres: {centre: ...}` (for `spinestudy tables --centres` or config.yaml) and
    `onboard:` (the columns and codes seen, for --previous), every entry commented with status, score, reason."""
    lines = [f"# {line}" for line in header] + ["centres:", f"  {centre}:"]
    for kind, found in specs.items():
        notes = {p.target.key: f"{p.status} {p.score:.2f}: {p.why}" for p in proposals[kind]}
        codes = {(p.target.variable, c.code): f"{c.status} {c.score:.2f}: {c.why}"
                 for p in proposals[kind] for c in p.codes}
        lines.append(f"    {kind}:")
        for key, value in found.items():
            if key == "columns":
                lines.append("      columns:")
                lines += [_line(8, k, v, notes[k]) for k, v in value.items()]
            elif key == "endplates":
                lines.append("      endplates:")
                for side, columns in value.items():
                    lines.append(f"        {side}:")
                    lines += [_line(10, k, v, notes[f"endplates.{side}.{k}"]) for k, v in columns.items()]
            elif key == "codes":
                lines.append("      codes:" + (" {}" if not value else ""))
                for variable, pairs in value.items():
                    lines.append(f"        {variable}:")
                    lines += [_line(10, k, v, codes[variable, k]) for k, v in pairs.items()]
                    lines += [f"          # {code}: no proposal ({note})" for (var, code), note in codes.items()
                              if var == variable and code not in pairs]
            elif key == "review":
                lines.append("      review:  # a run refuses check entries: approve each once checked or corrected")
                lines += [f"        {_flow(k)}: {_flow(v)}" for k, v in value.items()]
            else:
                lines.append(f"      {key}: {_flow(value)}")
    lines += ["onboard:  # what this delivery held, for `spinestudy onboard --previous`", f"  {centre}:"]
    lines += [f"    {kind}: {_flow(value)}" for kind, value in seen.items()]
    return "\n".join(lines) + "\n"


def _line(indent: int, key, value, note: str) -> str:
    return f"{' ' * indent}{_flow(key)}: {_flow(value)}  # {note}"


def seen(columns: list[Column], proposals: list[Proposal]) -> dict:
    """The column names of a delivery and the codes of its columns mapped to categorical variables."""
    return {"columns": [c.name for c in columns],
            "codes": {p.column.name: sorted(c.code for c in p.codes) for p in proposals if p.codes}}


def load(path: str | Path, centre: str) -> tuple[dict, dict]:
    """An earlier mapping's tables and what its delivery held (empty when it was written by hand)."""
    document = yaml.safe_load(Path(path).read_text())
    if centre not in document.get("centres", {}):
        raise SystemExit(f"{path}: no centre {centre!r} under centres:")
    return document["centres"][centre], (document.get("onboard") or {}).get(centre, {})


def _previous_column(previous: dict, key: str):
    if "." in key:
        _, side, variable = key.split(".")
        return previous.get("endplates", {}).get(side, {}).get(variable)
    return previous.get("columns", {}).get(key)


def carry(proposals: list[Proposal], columns: list[Column], previous: dict, held: dict) -> list[str]:
    """Apply an earlier mapping's approved entries to this delivery's proposals; the new or changed columns and
    codes, one line each (entries without a review block count as approved: a mapping written by hand)."""
    by_name = {c.name: c for c in columns if not c.identifier}
    review = previous.get("review", {})
    changes = [f"new column {name!r}" for name in by_name if held and name not in held.get("columns", [])]
    for p in proposals:
        if review.get(p.target.key, {}).get("status", "approved") != "approved":
            continue
        local = _previous_column(previous, p.target.key)
        if local is not None and local not in by_name:
            p.status, p.why = "check", f"previous column {local!r} is not in this delivery; " + p.why
            changes.append(f"{p.target.key}: column {local!r} gone")
            continue
        if local is None:
            if p.column is None:
                p.status, p.why = "approved", "not collected (previous mapping)"
            else:
                changes.append(f"{p.target.key}: previously not collected, now proposed {p.column.name!r}")
            continue
        score, fits, why = column_score(p.target, by_name[local])
        if not fits and p.target.kind not in ("category", "boolean"):  # codes: compared one by one below
            p.status, p.why = "check", f"previous column {local!r} no longer fits: {why}"
            changes.append(f"{p.target.key}: values of {local!r} changed ({why})")
            continue
        if p.column is None or p.column.name != local:
            p.column, p.codes = by_name[local], codes_for(p.target, by_name[local])
        p.score, p.status, p.why = max(p.score, score), "approved", f"approved in the previous mapping ({why})"
        codes = {_code(k): v for k, v in previous.get("codes", {}).get(p.target.variable, {}).items()}
        if not codes or review.get(f"codes.{p.target.variable}", {}).get("status", "approved") != "approved":
            continue
        for code in p.codes:
            if code.code in codes:
                code.value, code.score, code.status, code.why = codes[code.code], 1.0, "approved", "previous mapping"
            else:
                code.status, code.why = "check", "new code; " + code.why
                changes.append(f"codes.{p.target.variable}: new code {code.code!r} in {local!r}")
    return changes
