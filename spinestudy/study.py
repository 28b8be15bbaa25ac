"""A study file (config/studies/<name>.yaml): the study's variables, grading scales and time points.

Checked against workflow/schemas/study.schema.yaml and for consistency (a grade's scale is defined, a time point
is one of the study's, ...); every error names the file, the key and what is wrong. config/studies/README.md
documents the fields.
"""

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import jsonschema
import yaml

from spinestudy.config import REPO

STUDIES = REPO / "config" / "studies"
SCHEMA = REPO / "workflow" / "schemas" / "study.schema.yaml"
DEFAULT = "rudds"
UNITS = ("patient", "level", "endplate")  # units of observation, in the order of the tables
ONLY = {"range": ("continuous", "count"), "levels": ("categorical",), "scale": ("grade",)}  # fields of some kinds
RESERVED = ("centre", "patient", "patient_id", "level", "endplate")  # key columns of the tables


class StudyError(ValueError):
    """A study file breaks its schema or is inconsistent; the message names the file and the keys."""


@dataclass(frozen=True, eq=False)
class Scale:
    """An ordinal grading scale: its codes lowest first, labels of some codes, optional collapsed grades."""

    name: str
    label: str
    codes: tuple
    labels: dict
    collapse: dict
    reference: str = ""


@dataclass(frozen=True, eq=False)
class Variable:
    """One variable of the study, observed once per unit `per` (patient, level or endplate)."""

    name: str
    per: str
    kind: str  # continuous | count | binary | categorical | grade | date
    label: str
    unit: str = ""
    required: bool = False
    range: tuple | None = None  # continuous and count: (lowest, highest) plausible value
    levels: tuple = ()  # categorical
    scale: Scale | None = None  # grade
    measure: str = ""  # the repeated measure it is a time point of
    time_point: str = ""


@dataclass(frozen=True, eq=False)
class Study:
    """A loaded, checked study file (hashed by identity: load() gives one object per file)."""

    name: str
    title: str
    path: Path
    scales: dict[str, Scale]
    variables: dict[str, Variable]
    time_points: tuple = ()
    follow_up_needs_baseline: bool = False
    all_levels_graded: bool = False
    reference: str = ""
    analyses: dict = field(default_factory=dict)
    derived: dict = field(default_factory=dict)

    @property
    def age_bands(self) -> tuple[tuple[int, int], ...]:
        """The age bands (derived age_decade) as (lowest, highest completed year) pairs; () without them."""
        limits = self.derived.get("age_decade", {}).get("limits", [])
        return tuple((low, high - 1) for low, high in zip(limits, limits[1:]))

    @property
    def age_band_labels(self) -> tuple[str, ...]:
        """Labels of the age bands, e.g. '10-19'."""
        return tuple(f"{low}-{high}" for low, high in self.age_bands)

    @property
    def group(self) -> Variable | None:
        """Table 1's grouping variable (analyses table1 group), or None."""
        name = self.analyses.get("table1", {}).get("group")
        return self.variables[name] if name else None

    def per(self, unit: str) -> list[Variable]:
        """The variables observed per `unit`, in the study file's order."""
        return [v for v in self.variables.values() if v.per == unit]

    def follow_ups(self) -> list[tuple[Variable, Variable]]:
        """(follow-up, baseline) pairs of the repeated measures: each later time point with the first."""
        baseline = {v.measure: v for v in self.variables.values() if v.measure and v.time_point == self.time_points[0]}
        return [(v, baseline[v.measure]) for v in self.variables.values()
                if v.measure in baseline and v.time_point != self.time_points[0]]


def path_of(study: str | Path) -> Path:
    """A study's file: a name (config/studies/<name>.yaml) or the path of a YAML file."""
    text = str(study)
    return Path(text) if text.endswith((".yaml", ".yml")) else STUDIES / f"{text}.yaml"


def of(config: dict) -> Study:
    """The study a workflow config chooses (`study:`, default rudds)."""
    return load(config.get("study", DEFAULT))


@lru_cache(maxsize=8)
def load(study: str | Path = DEFAULT) -> Study:
    """Read and check a study file (by name or path); StudyError names the file, the key and what is wrong."""
    path = path_of(study)
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in STUDIES.glob("*.yaml")))
        raise StudyError(f"{path}: no such study file (studies in {STUDIES}: {known})")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise StudyError(f"{path}: not valid YAML: {exc}") from None
    validator = jsonschema.Draft202012Validator(yaml.safe_load(SCHEMA.read_text()))
    errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    problems = [f"{'/'.join(map(str, e.absolute_path)) or '(top level)'}: {e.message}" for e in errors]
    if not problems:
        problems = consistency(data)
    if problems:
        raise StudyError(f"invalid study file {path}:\n" + "\n".join(f"  {p}" for p in problems))
    return build(data, path)


def consistency(data: dict) -> list[str]:
    """What the schema cannot check: references between keys, ranges, repeated measures."""
    problems, scales, time_points = [], data["scales"], data.get("time_points", [])
    for name, scale in scales.items():
        codes = scale["codes"]
        problems += [f"scales/{name}/labels/{code}: not a code of the scale ({codes})"
                     for code in scale.get("labels", {}) if code not in codes]
        problems += [f"scales/{name}/collapse/{grade}: {code!r} is not a code of the scale ({codes})"
                     for grade, members in scale.get("collapse", {}).items() for code in members if code not in codes]
    seen = {}
    for name, var in data["variables"].items():
        where = f"variables/{name}"
        if name in RESERVED:
            problems.append(f"{where}: {name!r} is a key column of the tables, not a variable")
        for key, kinds in ONLY.items():
            if key in var and var["kind"] not in kinds:
                problems.append(f"{where}/{key}: only a {' or '.join(kinds)} variable has a {key}, not a {var['kind']}")
        if var["kind"] == "grade" and var["scale"] not in scales:
            problems.append(f"{where}/scale: {var['scale']!r} is not a scale of the study ({', '.join(scales)})")
        if "range" in var and var["range"][0] > var["range"][1]:
            problems.append(f"{where}/range: lowest {var['range'][0]} above highest {var['range'][1]}")
        if "time_point" in var:
            if var["time_point"] not in time_points:
                problems.append(f"{where}/time_point: {var['time_point']!r} is not one of time_points {time_points}")
            pair = (var["measure"], var["time_point"])
            if pair in seen:
                problems.append(f"{where}: {pair[0]} at {pair[1]} is already variable {seen[pair]}")
            seen[pair] = name
    group = data.get("analyses", {}).get("table1", {}).get("group")
    if group and (data["variables"].get(group, {}).get("kind"), data["variables"].get(group, {}).get("per")) != (
            "categorical", "patient"):
        problems.append(f"analyses/table1/group: {group!r} is not a categorical patient variable of the study")
    for i, row in enumerate(named(data.get("analyses", {}).get("table1", {}).get("rows", []))):
        if row["variable"] not in data["variables"] and not {"label", "summary"} <= set(row):
            problems.append(f"analyses/table1/rows/{i}: {row['variable']!r} is not a variable of the study; a derived "
                            "variable of the analysis table needs label and summary")
    problems += associations_consistency(data)
    bands = data.get("derived", {}).get("age_decade")
    if bands:
        if bands["limits"] != sorted(bands["limits"]):
            problems.append(f"derived/age_decade/limits: not ascending: {bands['limits']}")
        source = data["variables"].get(bands["of"], {})
        if (source.get("per"), source.get("kind") in ("continuous", "count")) != ("patient", True):
            problems.append(f"derived/age_decade/of: {bands['of']!r} is not a continuous or count patient variable")
    if data.get("follow_up_needs_baseline") and not time_points:
        problems.append("follow_up_needs_baseline: the study has no time_points")
    return problems


def associations_consistency(data: dict) -> list[str]:
    """The associations' measure has a baseline and its covariates are patient variables."""
    spec, variables = data.get("analyses", {}).get("associations"), data["variables"]
    if not spec:
        return []
    problems = []
    points = {v.get("time_point") for v in variables.values() if v.get("measure") == spec["measure"]}
    if not data.get("time_points") or data["time_points"][0] not in points:
        problems.append(f"analyses/associations/measure: {spec['measure']!r} has no variable at the baseline "
                        f"(the first of time_points)")
    for i, item in enumerate(named(spec.get("adjust", []))):
        name = item["variable"]
        kinds = ("categorical", "binary", "count") if "level" in item else ("continuous", "count", "binary")
        if (variables.get(name, {}).get("per"), variables.get(name, {}).get("kind") in kinds) != ("patient", True):
            problems.append(f"analyses/associations/adjust/{i}: {name!r} is not a patient variable of kind "
                            f"{' or '.join(kinds)}")
    return problems


def named(items: list) -> list[dict]:
    """Items given as a name or a mapping (Table 1's rows, the associations' covariates) as mappings with `name` and
    `variable`; an item given as a name, or without `variable`, is that variable."""
    mappings = [{"name": item} if isinstance(item, str) else dict(item) for item in items]
    return [{"variable": item["name"]} | item for item in mappings]


def build(data: dict, path: Path) -> Study:
    """The Study of a checked study file's content."""
    scales = {name: Scale(name, s["label"], tuple(s["codes"]), dict(s.get("labels", {})),
                          {k: tuple(v) for k, v in s.get("collapse", {}).items()}, s.get("reference", ""))
              for name, s in data["scales"].items()}
    variables = {
        name: Variable(name, v["per"], v["kind"], v["label"], v.get("unit", ""), v.get("required", False),
                       tuple(v["range"]) if "range" in v else None, tuple(v.get("levels", ())),
                       scales.get(v.get("scale")), v.get("measure", ""), v.get("time_point", ""))
        for name, v in data["variables"].items()
    }
    analyses = dict(data.get("analyses", {}))
    for analysis, items in (("table1", "rows"), ("associations", "adjust")):
        if analysis in analyses:
            analyses[analysis] = analyses[analysis] | {items: named(analyses[analysis].get(items, []))}
    return Study(data["name"], data["title"], path, scales, variables, tuple(data.get("time_points", ())),
                 data.get("follow_up_needs_baseline", False), data.get("all_levels_graded", False),
                 data.get("reference", ""), analyses, data.get("derived", {}))
