"""The dry run: the approved entries of a proposed mapping read through the study's table readers and schemas,
without the workflow: what is left unmapped, unknown codes, failing rows and missingness per variable."""

import copy

from spinestudy.tables.readers import TableError, read_clinical, read_gradings

KEY = b"spinestudy-onboard-dry-run"  # pseudonyms of a dry run are never written


def approved(spec: dict) -> dict:
    """The mapping with every entry still to check left out: its column null, its codes dropped."""
    spec = copy.deepcopy(spec)
    review = spec.pop("review", {})
    for entry, said in review.items():
        if said["status"] != "check":  # approved, or unmatched: null already
            continue
        if entry.startswith("codes."):
            spec.get("codes", {}).pop(entry.removeprefix("codes."), None)
        elif entry.startswith("endplates."):
            _, side, variable = entry.split(".")
            spec["endplates"][side][variable] = None
        else:
            spec["columns"][entry] = None
    return spec


def check(centre: str, kind: str, spec: dict, file_columns: list[str], tables=None) -> list[str]:
    """Report lines of one table read with its approved entries (tables: the study's schemas, default the
    default study's)."""
    used = approved(spec)
    left = [e for e, said in spec.get("review", {}).items() if said["status"] == "check"]
    lines = [f"{kind}: {spec['path']}", f"  left out (still to check): {', '.join(left) or 'none'}"]
    mapped = set(used["columns"].values()) | {c for side in used.get("endplates", {}).values() for c in side.values()}
    lines.append(f"  file columns not mapped: {', '.join(c for c in file_columns if c not in mapped) or 'none'}")
    try:
        reads = ([read_clinical(centre, used, KEY, tables=tables)] if kind == "clinical" else
                 list(read_gradings(centre, used, KEY, tables=tables)))
    except TableError as exc:
        return lines + [f"  the table cannot be read: {exc}"]
    problems = [p for read in reads for p in read.problems]
    unknown = sorted({f"{p.column}={p.value!r}" for p in problems if p.message.startswith("unknown code")})
    lines.append(f"  unknown codes: {', '.join(unknown) or 'none'}")
    lines.append(f"  rows failing: {len({p.row for p in problems})} of {len(reads[0].frame)}")
    lines += [f"    {p}" for p in problems[:20]]
    frame = reads[0].frame
    share = {c: frame[c].isna().mean() for c in used["columns"] if c in frame and used["columns"][c]}
    lines.append("  missing: " + ", ".join(f"{c} {s:.0%}" for c, s in share.items()))
    return lines
