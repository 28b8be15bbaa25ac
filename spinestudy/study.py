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
PER_UNIT = {"endplate": 2, "level": 5}  # endplates of a level, lumbar levels L1-L2..L5-S1 of a patient
UP = {"endplate": "level", "level": "patient"}  # the unit a sum or count `over` a unit gives
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
    ordered: bool = True  # False: nominal codes (Modic types), e.g. for unweighted agreement only


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
class Derived:
    """A derived variable (study file `derived`): operation `op` on its sources `of`, observed per `per`; `kind`
    binary, count (an integer), continuous or band (an age band's label); `bounds` its (lowest, highest) value
    where the sources' ranges give one."""

    name: str
    op: str
    of: tuple[str, ...]
    per: str
    kind: str
    label: str
    spec: dict
    bounds: tuple | None = None


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
    derived: dict[str, Derived] = field(default_factory=dict)
    captions: dict[str, str] = field(default_factory=dict)  # manuscript table -> its caption

    @property
    def bands(self) -> Derived | None:
        """The derived variable of age bands (op age_bands), or None."""
        return next((d for d in self.derived.values() if d.op == "age_bands"), None)

    @property
    def age_bands(self) -> tuple[tuple[int, int], ...]:
        """The age bands as (lowest, highest completed year) pairs; () without them."""
        limits = self.bands.spec["limits"] if self.bands else []
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

    def derived_per(self, unit: str) -> list[Derived]:
        """The derived variables observed per `unit`, in the study file's order."""
        return [d for d in self.derived.values() if d.per == unit]

    def count_of(self, flag: str) -> Derived | None:
        """The derived count of a per-level flag over the levels, or None."""
        return next((d for d in self.derived.values() if d.op == "count" and d.of == (flag,)
                     and d.spec["over"] == "level"), None)

    def sources(self) -> set[str]:
        """The study variables the derived variables read."""
        return {name for d in self.derived.values() for name in d.of if name in self.variables}

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
    found, wrong = derived(data)
    problems += wrong + findings_consistency(data, found) + agreement_consistency(data, found)
    if data.get("follow_up_needs_baseline") and not time_points:
        problems.append("follow_up_needs_baseline: the study has no time_points")
    return problems


def derived(data: dict) -> tuple[dict[str, Derived], list[str]]:
    """The study file's derived variables (in its order), each resolved after its sources (unit, kind and bounds
    from theirs), and what is wrong with them."""
    known = {name: source(var, data["scales"]) for name, var in data["variables"].items()}
    entries = {name: (spec, (spec["of"],) if isinstance(spec["of"], str) else tuple(spec["of"]))
               for name, spec in data.get("derived", {}).items()}
    found, problems, failed = {}, [], set()
    for name in [n for n in entries if n in known or n in RESERVED]:
        problems.append(f"derived/{name}: {name!r} is already a variable of the study or a key column")
        failed.add(name)
    pending = [n for n in entries if n not in failed]
    while pending:
        ready = [n for n in pending if all(s in known or s in failed for s in entries[n][1])]
        for name in ready or pending:
            spec, of = entries[name]
            unknown = [s for s in of if s not in known]
            if unknown:
                failed.add(name)
                if not set(unknown) & failed:  # a failed source is reported already
                    problems.append(f"derived/{name}/of: {unknown[0]!r} is not a variable of the study or a derived "
                                    "variable (or the derived variables refer to each other in a circle)")
                continue
            try:
                per, kind, bounds = OPERATIONS[spec["op"]](spec, [known[s] for s in of])
            except ValueError as exc:
                key = str(exc).split(":")[0]
                problems.append(f"derived/{name}/{exc}" if key in spec else f"derived/{name}: {exc}")
                failed.add(name)
                continue
            known[name] = (per, kind, bounds)
            found[name] = Derived(name, spec["op"], of, per, kind, spec["label"], spec, bounds)
        pending = [n for n in pending if n not in found and n not in failed]
    bands = [n for n, (spec, _) in entries.items() if spec["op"] == "age_bands"]
    problems += [f"derived/{name}: a study has one variable of op age_bands (it is {bands[0]})" for name in bands[1:]]
    return {name: found[name] for name in entries if name in found}, problems


def source(var: dict, scales: dict) -> tuple[str, str, tuple | None]:
    """(unit, kind, bounds) of a study variable as a derived variable's source: a grade on numeric codes is a
    count between its lowest and highest code."""
    kind, codes = var["kind"], scales.get(var.get("scale"), {}).get("codes", [])
    if kind == "grade":
        numeric = codes and all(isinstance(c, int) for c in codes)
        return var["per"], "count" if numeric else "text", (min(codes), max(codes)) if numeric else None
    bounds = {"binary": (0, 1)}.get(kind, tuple(var["range"]) if "range" in var else None)
    return var["per"], kind, bounds


def _numbers(sources: list, kinds=("continuous", "count")) -> None:
    """Every source a number (of `kinds`), all observed per the same unit."""
    if any(kind not in kinds for _, kind, _ in sources):
        raise ValueError(f"every source must be of kind {' or '.join(kinds)}")
    if len({per for per, _, _ in sources}) > 1:
        raise ValueError("the sources are observed per different units")


def _age_bands(spec: dict, sources: list) -> tuple:
    if (sources[0][0], sources[0][1] in ("continuous", "count")) != ("patient", True):
        raise ValueError(f"of: {spec['of']!r} is not a continuous or count patient variable")
    if spec["limits"] != sorted(spec["limits"]):
        raise ValueError(f"limits: not ascending: {spec['limits']}")
    return "patient", "band", None


def _add(spec: dict, sources: list) -> tuple:
    _numbers(sources)
    kind = "count" if all(kind == "count" for _, kind, _ in sources) else "continuous"
    bounds = None if any(b is None for _, _, b in sources) else tuple(map(sum, zip(*(b for _, _, b in sources))))
    return sources[0][0], kind, bounds


def _difference(spec: dict, sources: list) -> tuple:
    per, kind, _ = _add(spec, sources)
    (_, _, a), (_, _, b) = sources
    return per, kind, (a[0] - b[1], a[1] - b[0]) if a and b else None


def _percent_change(spec: dict, sources: list) -> tuple:
    _numbers(sources)
    return sources[0][0], "continuous", None


def _threshold(spec: dict, sources: list) -> tuple:
    _numbers(sources, ("continuous", "count") if "equals" not in spec else ("continuous", "count", "binary"))
    return sources[0][0], "binary", (0, 1)


def _any(spec: dict, sources: list) -> tuple:
    condition = {"at_least", "equals"} & set(spec)
    kinds = ("continuous", "count", "binary") if condition else ("binary",)
    if any(kind not in kinds for _, kind, _ in sources):
        raise ValueError(f"every source must be of kind {' or '.join(kinds)}")
    finer = {"level": ("level", "endplate"), "patient": ("level",)}[spec["to"]]
    if any(per not in finer for per, _, _ in sources):
        raise ValueError(f"to: {spec['to']}: every source must be observed per {' or '.join(finer)}")
    return spec["to"], "binary", (0, 1)


def _sum(spec: dict, sources: list) -> tuple:
    (per, kind, bounds), = sources
    wanted = ("binary",) if spec["op"] == "count" else ("continuous", "count")
    if per != spec["over"] or kind not in wanted:
        raise ValueError(f"of: {spec['of']!r} is not a {' or '.join(wanted)} variable per {spec['over']}")
    n = PER_UNIT[spec["over"]]
    if spec["op"] == "count":
        return UP[per], "count", (0, n)
    return UP[per], kind, (n * bounds[0], n * bounds[1]) if bounds else None


def _findings(spec: dict, sources: list) -> tuple:
    if any((per, kind) != ("level", "binary") for per, kind, _ in sources):
        raise ValueError("of: every finding must be a binary variable per level")
    if spec.get("top", 1) > len(sources):
        raise ValueError(f"top: {spec['top']} is more than the {len(sources)} findings")
    return "patient", "count", (0, len(sources))


OPERATIONS = {"age_bands": _age_bands, "add": _add, "difference": _difference, "percent_change": _percent_change,
              "threshold": _threshold, "any": _any, "sum": _sum, "count": _sum, "findings": _findings}


def findings_consistency(data: dict, found: dict[str, Derived]) -> list[str]:
    """Prevalence: age bands and per-level binary findings; associations: a number of findings whose every finding
    has a count over the levels."""
    analyses, problems = data.get("analyses", {}), []
    units = {n: (v["per"], v["kind"]) for n, v in data["variables"].items()} | {
        n: (d.per, d.kind) for n, d in found.items()}
    if "prevalence" in analyses:
        spec = analyses["prevalence"]
        by = spec["by"]  # a derived variable that failed to resolve is reported already
        if by not in data.get("derived", {}) or by in found and found[by].op != "age_bands":
            problems.append(f"analyses/prevalence/by: {spec['by']!r} is not a derived variable of op age_bands")
        for i, item in enumerate(named(spec["findings"])):
            if units.get(item["name"]) != ("level", "binary"):
                problems.append(f"analyses/prevalence/findings/{i}: {item['name']!r} is not a binary variable per "
                                "level (study or derived)")
    number = analyses.get("associations", {}).get("findings")
    if number and getattr(found.get(number), "op", None) != "findings":
        problems.append(f"analyses/associations/findings: {number!r} is not a derived variable of op findings")
    elif number:
        counted = {d.of[0] for d in found.values() if d.op == "count" and d.spec["over"] == "level"}
        problems += [f"analyses/associations/findings: finding {f!r} of {number} has no count over the levels "
                     f"(a derived variable {{op: count, of: {f}, over: level}})" for f in found[number].of
                     if f not in counted]
    return problems


def agreement_consistency(data: dict, found: dict[str, Derived]) -> list[str]:
    """Agreement: its scales are grades or binary variables per level or endplate, its scores derived numbers per
    patient."""
    spec, variables = data.get("analyses", {}).get("agreement", {}), data["variables"]
    problems = [f"analyses/agreement/scales/{i}: {name!r} is not a grade or binary variable per level or endplate"
                for i, name in enumerate(spec.get("scales", []))
                if (variables.get(name, {}).get("kind") not in ("grade", "binary")
                    or variables[name]["per"] not in ("level", "endplate"))]
    problems += [f"analyses/agreement/scores/{i}: {name!r} is not a derived count or continuous variable per patient"
                 for i, name in enumerate(spec.get("scores", []))
                 if name not in found or (found[name].per, found[name].kind in ("count", "continuous")) != (
                     "patient", True)]
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
                          {k: tuple(v) for k, v in s.get("collapse", {}).items()}, s.get("reference", ""),
                          s.get("ordered", True))
              for name, s in data["scales"].items()}
    variables = {
        name: Variable(name, v["per"], v["kind"], v["label"], v.get("unit", ""), v.get("required", False),
                       tuple(v["range"]) if "range" in v else None, tuple(v.get("levels", ())),
                       scales.get(v.get("scale")), v.get("measure", ""), v.get("time_point", ""))
        for name, v in data["variables"].items()
    }
    analyses = dict(data.get("analyses", {}))
    for analysis, items in (("table1", "rows"), ("associations", "adjust"), ("prevalence", "findings")):
        if analysis in analyses:
            analyses[analysis] = analyses[analysis] | {items: named(analyses[analysis].get(items, []))}
    return Study(data["name"], data["title"], path, scales, variables, tuple(data.get("time_points", ())),
                 data.get("follow_up_needs_baseline", False), data.get("all_levels_graded", False),
                 data.get("reference", ""), analyses, derived(data)[0], data.get("captions", {}))
