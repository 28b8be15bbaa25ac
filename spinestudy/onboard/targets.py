"""The study variables a centre mapping must name, read from the study file (spinestudy.study): the one
source of the variable list, their kinds, ranges and categorical levels for the proposals."""

from dataclasses import dataclass

from spinestudy import study as studies
from spinestudy.anatomy import ENDPLATES, LEVELS

KINDS = {"continuous": "number", "count": "integer", "binary": "boolean", "categorical": "category",
         "grade": "integer", "date": "date"}  # study variable kind -> kind of values proposed for it


@dataclass(frozen=True)
class Target:
    """One entry of a centre mapping: `key` as in the review block (age, endplates.upper.modic)."""

    key: str
    table: str  # clinical | gradings
    variable: str  # the study's variable (modic for endplates.upper.modic)
    kind: str  # id | number | integer | boolean | category | date
    low: float | None = None
    high: float | None = None
    levels: tuple = ()  # category: the canonical values; boolean: (True, False)
    required: bool = False
    names: tuple = ()  # the study's own names for it (its label)


def _target(key: str, table: str, variable: studies.Variable, side: str = "") -> Target:
    kind, (low, high), levels = KINDS[variable.kind], variable.range or (None, None), tuple(variable.levels)
    if variable.scale and all(isinstance(c, int) for c in variable.scale.codes):
        low, high = min(variable.scale.codes), max(variable.scale.codes)
    elif variable.scale:  # a scale of text codes
        kind, levels = "category", tuple(variable.scale.codes)
    if kind == "boolean":
        levels = (True, False)
    names = (f"{variable.label} {side}".strip(),)
    return Target(key, table, variable.name, kind, low, high, levels, variable.required, names)


def targets(study: str | None = None) -> list[Target]:
    """Every entry of a centre mapping of a study (default: the default study): patient_id and level, and
    the variables per patient (clinical), per level and per endplate (gradings, each endplate apart)."""
    study = studies.load(study) if study else studies.load()
    found = []
    for table, unit in (("clinical", "patient"), ("gradings", "level")):
        found.append(Target("patient_id", table, "patient_id", "id", required=True))
        if unit == "level":
            found.append(Target("level", table, "level", "category", levels=LEVELS, required=True))
        found += [_target(v.name, table, v) for v in study.per(unit)]
    for side in ENDPLATES:
        found += [_target(f"endplates.{side}.{v.name}", "gradings", v, side) for v in study.per("endplate")]
    return found
