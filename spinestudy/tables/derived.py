"""Derived variables of the analysis table, computed as the study file's `derived:` declares them
(config/studies/README.md lists the operations; spinestudy.study resolves each one's unit and kind).

Three steps, each in the study file's order: level_scores (per endplate and per level, from the gradings),
patient_scores (per patient, over a patient's levels: sum, count, any, findings) and patient_derived (per patient,
from the clinical row and the patient scores: age bands, add, difference, percent change, threshold).

Missing values: an operation on one value, or on several of one unit (add, difference, threshold), is missing
where a source is. A sum or count over endplates or levels is missing unless every unit is graded (no partial
sums passed off as totals). `any` is true if a source is true at some unit, false if every graded value is false,
missing only if nothing is graded; `findings` counts the findings present somewhere among those a source grades,
missing only if it grades none.
"""

import pandas as pd

from spinestudy.study import PER_UNIT, Derived, Study
from spinestudy.tables.schemas import KEY

BY = {"level": KEY + ["level"], "endplate": KEY + ["level", "endplate"], "patient": KEY}
ROW_OPS = ("age_bands", "add", "difference", "percent_change", "threshold")  # one unit's values -> that unit


def level_scores(levels: pd.DataFrame, endplates: pd.DataFrame, study: Study) -> pd.DataFrame:
    """The per-level derived variables, one row per graded level (KEY, level, then the study file's order)."""
    frames = {"level": levels.set_index(BY["level"]), "endplate": endplates.set_index(BY["endplate"])}
    frames = {unit: frame.copy() for unit, frame in frames.items()}
    for d in (d for d in study.derived.values() if d.per in frames):
        frames[d.per][d.name] = compute(d, frames)
    names = [d.name for d in study.derived_per("level")]
    out = frames["level"][names].reset_index()
    return out.sort_values(BY["level"], kind="stable").reset_index(drop=True)


def patient_scores(gradings: pd.DataFrame, study: Study) -> pd.DataFrame:
    """The per-patient derived variables over a patient's levels, one row per graded patient (KEY first);
    `gradings`: one row per patient and level with the level variables and level_scores (gradings_long)."""
    frames = {"level": gradings.set_index(BY["level"])}
    names = [d.name for d in study.derived_per("patient") if d.op not in ROW_OPS]
    out = pd.DataFrame({name: compute(study.derived[name], frames) for name in names},
                       index=frames["level"].groupby(level=KEY, sort=True).size().index)
    return out.reset_index()


def patient_derived(patients: pd.DataFrame, study: Study) -> pd.DataFrame:
    """`patients` (the clinical rows with patient_scores) with the per-patient derived variables of one row."""
    out = patients.copy()
    for d in (d for d in study.derived_per("patient") if d.op in ROW_OPS):
        out[d.name] = compute(d, {"patient": out})
    return out


def compute(d: Derived, frames: dict[str, pd.DataFrame]) -> pd.Series:
    """One derived variable from the frames by unit (indexed by BY) that hold its sources."""
    if d.op in ROW_OPS:
        values = [frames[d.per][name] for name in d.of]
        return ROW[d.op](d, *values)
    if d.op in ("sum", "count"):
        finer = frames[d.spec["over"]][d.of[0]]
        values = finer.astype("Int64") if d.op == "count" else finer
        return values.groupby(level=BY[d.per], sort=True).sum(min_count=PER_UNIT[d.spec["over"]])
    if d.op == "any":
        flags = [condition(d, frame[name]) for frame in frames.values() for name in d.of if name in frame]
        by = BY[d.per]
        return anywhere(pd.concat([f.droplevel([n for n in f.index.names if n not in by]) for f in flags]), by)
    present = pd.concat([anywhere(frames["level"][name].astype("boolean"), KEY) for name in d.of], axis=1)
    return present.astype("Int64").sum(axis=1, min_count=1).astype("Int64")  # findings


def condition(d: Derived, values: pd.Series) -> pd.Series:
    """A source of `any` as flags: its condition (at_least, equals) or, for a binary source, the value."""
    return threshold(d, values) if set(d.spec) & set(CONDITIONS) else values.astype("boolean")


def anywhere(flags: pd.Series, by: list[str]) -> pd.Series:
    """Per group: True if any flag is True, False if all known flags are False, NA if none known."""
    return flags.astype("boolean").astype("Int8").groupby(level=by, sort=True).max().astype("boolean")


def age_bands(d: Derived, age: pd.Series) -> pd.Series:
    """Age band label '<lowest>-<highest>' of each age in completed years; missing outside the bands."""
    limits = d.spec["limits"]
    years = (age // 1).astype("Float64")
    label = pd.Series(pd.NA, index=age.index, dtype="string")
    for low, high in zip(limits, limits[1:]):
        label = label.mask(((years >= low) & (years < high)).fillna(False), f"{low}-{high - 1}")
    return label


def add(d: Derived, *values: pd.Series) -> pd.Series:
    """Sum of the sources, missing where any is."""
    total = values[0]
    for v in values[1:]:
        total = total + v
    return total if d.kind == "count" else total.astype("Float64")


def difference(d: Derived, first: pd.Series, second: pd.Series) -> pd.Series:
    """First minus second, missing where either is."""
    diff = first - second
    return diff if d.kind == "count" else diff.astype("Float64")


def percent_change(d: Derived, baseline: pd.Series, later: pd.Series) -> pd.Series:
    """100 x (later - baseline) / baseline; missing where either is missing or the baseline is 0."""
    base = baseline.astype("Float64")
    return (100 * (later.astype("Float64") - base) / base.mask(base == 0)).astype("Float64")


def threshold(d: Derived, values: pd.Series) -> pd.Series:
    """The value at least / at most / equal to the threshold (nullable boolean, missing where the value is)."""
    x = values.astype("Int8") if values.dtype == "boolean" else values  # a binary source as 0/1
    x = x.astype("Float64") if "equals" not in d.spec else x
    hit = (x >= d.spec["at_least"] if "at_least" in d.spec else x <= d.spec["at_most"] if "at_most" in d.spec
           else x == d.spec["equals"])
    return hit.astype("boolean").where(values.notna(), pd.NA)


CONDITIONS = {"at_least": ">=", "at_most": "<=", "equals": "="}
ROW = {"age_bands": age_bands, "add": add, "difference": difference, "percent_change": percent_change,
       "threshold": threshold}


def describe(d: Derived) -> str:
    """A derived variable's definition in words (the methods text)."""
    test = next((f" {sign} {d.spec[key]}" for key, sign in CONDITIONS.items() if key in d.spec), "")
    of, where = ", ".join(d.of), "at an endplate or the level" if d.per == "level" else "at some level"
    rule = {"age_bands": f"bands of {of} from the limits {d.spec.get('limits')}", "add": " + ".join(d.of),
            "difference": " - ".join(d.of), "percent_change": f"100 x ({d.of[-1]} - {d.of[0]}) / {d.of[0]}",
            "threshold": f"{of}{test}", "any": f"any of {of}{test} ({where})",
            "sum": f"sum of {of} over the {d.spec.get('over')}s", "count": f"number of {d.spec.get('over')}s with {of}",
            "findings": f"number of findings present among {of}"}[d.op]
    return f"{d.label} ({d.name}): {rule}"
