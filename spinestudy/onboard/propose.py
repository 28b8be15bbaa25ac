"""Scored proposals: for every study variable the best source column (name similarity with the synonym table and
the study file's label, labels from a data dictionary or SPSS file, and value compatibility), for every code of
a categorical variable its canonical value; below CUTOFF the answer is "no match".

A column score is the name similarity x (0.75 + 0.25 x value compatibility). It is `approved` at APPROVE or more
when the values fit and no other column (or variable) comes within MARGIN; `check` from CUTOFF; else
`unmatched`. Identifying columns are never candidates."""

import re
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz
from scipy.optimize import linear_sum_assignment

from spinestudy.anatomy import LEVELS
from spinestudy.onboard.profile import Column
from spinestudy.onboard.synonyms import LABELS, NAMES, label, normal
from spinestudy.onboard.targets import Target
from spinestudy.tables.readers import _code

APPROVE, CUTOFF, MARGIN = 0.9, 0.6, 0.05
CODE_APPROVE, CODE_CUTOFF = 0.9, 0.5
VALUE_WEIGHT = 0.25
MIN_MATCHED = 3  # matched variables that make a table a clinical or grading table
TYPICAL = {"age": (15, 100), "bmi": (15, 50)}  # plausible medians (years, kg/m2)
MISSING_CODES = {"na", "n/a", "nan", "null", "none", "k.a.", "k. a.", "keine angabe", "unknown", "unbekannt",
                 "missing", "fehlt", "-", "--", ".", "999", "9999", "-99", "-999", "-9"}
LEVEL_CODE = re.compile(r"L?([1-5])(?:L|S)?([1-6])")
LEVEL_BLOCK = re.compile(r"(?i)(?:^|[^a-z0-9])L[1-5][-/_ ]?(?:[LS]?[1-6])(?:[^0-9]|$)")  # L4-5_Pfirrmann, L45_HIZ
WIDE = 5  # columns named by a level that make a table a wide grading sheet
FOLLOW_UP = re.compile(r"(?i)follow|\bfu\b|nachunters|nachsorge|verlauf|kontrolle|month|monat|\b(?:t|v)[1-9]\b")
SCORES = {"pain", "odi", "dn4"}  # canonical words of the questionnaire columns


@dataclass
class Code:
    code: str
    value: object  # canonical value, None when no proposal
    score: float
    status: str
    why: str


@dataclass
class Proposal:
    target: Target
    column: Column | None
    score: float
    status: str  # approved | check | unmatched
    why: str
    codes: list[Code] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # codes of the column read as "not recorded"


def status(score: float, approve: float, cutoff: float) -> str:
    return "approved" if score >= approve else "check" if score >= cutoff else "unmatched"


def name_score(target: Target, column: Column) -> tuple[float, str]:
    """Best similarity of the column's name or label to a name of the variable, and which."""
    best = (0.0, "")
    for text in filter(None, (column.name, column.label)):
        for name in NAMES.get(target.key, []) + list(target.names):
            score = fuzz.ratio(normal(text), normal(name)) / 100
            if score > best[0]:
                best = (score, f"{text!r} ~ {name!r}")
    return best


def value_score(target: Target, column: Column) -> tuple[float, str]:
    """How well the values fit the variable: 1 fits, 0 does not; with the reason."""
    kind = column.kind
    if target.kind == "id":
        if kind not in ("integer", "text"):
            return 0.0, f"{kind} values"
        once = (column.codes == 1).mean()
        return (1.0, "unique ids") if target.table == "clinical" and once == 1 else \
            (1.0, "ids repeated per level") if target.table == "gradings" and once < 0.5 else (0.5, "ids")
    if target.kind == "date":
        return (1.0, "dates") if kind == "date" else (0.0, f"{kind} values, not dates")
    if target.kind in ("number", "integer"):
        if kind not in ("integer", "number"):
            return 0.0, f"{kind} values, not numbers"
        numbers = column.numbers[~column.values.map(lambda v: _code(v) in MISSING_CODES)]
        inside = numbers.between(target.low, target.high).mean()
        if target.kind == "integer" and kind != "integer":
            return 0.0, "not whole numbers"
        if inside < 0.95:
            scale = f" (a {column.scale} scale?)" if column.scale else ""
            return 0.0, f"values {numbers.min():g}..{numbers.max():g} outside {target.low:g}..{target.high:g}{scale}"
        low, high = TYPICAL.get(target.variable, (target.low, target.high))
        if not low <= numbers.median() <= high:
            return 0.3, f"median {numbers.median():g} unusual"
        span = (target.high - target.low) or 1
        if target.kind == "integer" and numbers.max() - numbers.min() < 0.3 * span and len(numbers) >= 20:
            return 0.7, f"values {numbers.min():g}..{numbers.max():g} use little of {target.low:g}..{target.high:g}"
        return 1.0, f"values {numbers.min():g}..{numbers.max():g} within {target.low:g}..{target.high:g}"
    present = [c for c in column.codes.index if c.lower() not in MISSING_CODES]
    if target.kind == "boolean" and kind == "boolean":
        return 1.0, "true/false values"
    if len(present) > 2 * len(target.levels):
        return 0.0, f"{len(present)} distinct values for {len(target.levels)} levels"
    codes = propose_codes(target, column)
    return float(np.mean([c.score for c in codes])) if codes else 0.0, f"{len(present)} codes"


def _level(code: str) -> str | None:
    """A lumbar level written any common way (L4/5, L4-L5, L45, l4_5, L5/S1) as L4-L5, else None."""
    match = LEVEL_CODE.fullmatch(re.sub(r"[^0-9A-Za-z]", "", code).upper())
    if not match:
        return None
    upper, lower = int(match[1]), int(match[2])
    name = f"L{upper}-" + ("S1" if upper == 5 and lower in (1, 6) else f"L{lower}")
    return name if name in LEVELS else None


def propose_codes(target: Target, column: Column) -> list[Code]:
    """Each observed code's canonical value: from its label (data dictionary, SPSS), its own spelling, or a
    convention (0/1 as no/yes approved; 1/2 as M/F and 1..k in level order to check)."""
    labels = column.table.value_labels.get(column.name, {})
    observed = [c for c in column.codes.index if c.lower() not in MISSING_CODES]
    found = []
    for code in observed:
        text = labels.get(code, code)
        if target.variable == "level":
            value = _level(text)
            found.append(Code(code, value, 1.0 if value else 0.0, "", f"level {text!r}"))
            continue
        best = (0.0, None, "")
        for value in target.levels:
            names = LABELS.get(value, []) + [str(value)]
            for name in names:
                score = fuzz.ratio(label(text), label(name)) / 100
                if score > best[0]:
                    best = (score, value, f"{text!r} ~ {name!r}")
        found.append(Code(code, best[1] if best[0] >= CODE_CUTOFF else None, best[0], "", best[2]))
    _conventions(target, found, labels)
    for code in found:
        code.status = status(code.score, CODE_APPROVE, CODE_CUTOFF) if code.value is not None else "unmatched"
    return found


def codes_for(target: Target, column: Column) -> list[Code]:
    """The code proposals a column needs for a variable: none for numbers, dates and native true/false."""
    return propose_codes(target, column) if target.kind in ("category", "boolean") and column.kind != "boolean" else []


def _conventions(target: Target, codes: list[Code], labels: dict) -> None:
    """Unlabelled integer codes that matched nothing: 0/1 of a yes/no variable, 1/2 of sex, 1..k in order."""
    numeric = [c for c in codes if c.code.lstrip("-").isdigit() and c.code not in labels]
    if not numeric or len(numeric) != len(codes) or any(c.score >= CODE_APPROVE for c in codes):
        return
    values = sorted(int(c.code) for c in codes)
    if target.kind == "boolean" and set(values) <= {0, 1}:
        for c in codes:
            c.value, c.score, c.why = c.code == "1", CODE_APPROVE, f"{c.code}: 0/1 read as no/yes"
    elif len(values) <= len(target.levels) and set(values) <= set(range(1, len(target.levels) + 1)):
        order = ("M", "F") if target.variable == "sex" else target.levels
        for c in codes:
            c.value, c.score = order[int(c.code) - 1], CODE_CUTOFF
            c.why = f"{c.code}: unlabelled, guessed {'1 male, 2 female' if target.variable == 'sex' else 'in order'}"


def column_score(target: Target, column: Column) -> tuple[float, bool, str]:
    """(score, values fit, reason) of one column for one variable: the name similarity, scaled down by up to
    VALUE_WEIGHT where the values do not fit."""
    name, said = name_score(target, column)
    value, why = value_score(target, column)
    return name * (1 - VALUE_WEIGHT + VALUE_WEIGHT * value), value >= 0.5, f"name {said} ({name:.2f}); {why}"


def propose(targets: list[Target], columns: list[Column]) -> list[Proposal]:
    """The best one-to-one assignment of columns to variables (identifying columns left out), each scored."""
    usable = [c for c in columns if not c.identifier and c.kind != "empty"]
    scored = [[column_score(t, c) for c in usable] for t in targets]
    matrix = np.array([[s[0] for s in row] for row in scored]).reshape(len(targets), len(usable))
    chosen = dict(zip(*linear_sum_assignment(-np.where(matrix >= CUTOFF, matrix, 0)))) if usable else {}
    proposals = []
    for i, target in enumerate(targets):
        j = chosen.get(i)
        if j is None or matrix[i, j] < CUTOFF:
            best = int(matrix[i].argmax()) if usable else None
            why = f"no column scores {CUTOFF}" + (f"; best {usable[best].name!r} {matrix[i, best]:.2f}"
                                                  if best is not None else "")
            proposals.append(Proposal(target, None, float(matrix[i].max()) if usable else 0.0, "unmatched", why))
            continue
        score, _, why = scored[i][j]
        rivals = [matrix[i, k] for k in range(len(usable)) if k != j] + \
            [matrix[k, j] for k in range(len(targets)) if k != i]
        rival = max(rivals, default=0.0)
        result = status(score, APPROVE, CUTOFF)
        if result == "approved" and rival > score - MARGIN:
            result, why = "check", why + f"; another candidate scores {rival:.2f}"
        proposal = Proposal(target, usable[j], float(score), result, why, codes_for(target, usable[j]))
        if target.kind != "id":  # an id 999 is an id
            proposal.missing = sorted(c for c in usable[j].codes.index if c.lower() in MISSING_CODES)
        proposals.append(proposal)
    return proposals


def date_format(proposals: list[Proposal]) -> str | None:
    """The text date format of the mapped date column (None for native dates or none)."""
    found = [p.column.date_format for p in proposals if p.column is not None and p.target.kind == "date"]
    return next(filter(None, found), None)



def wide(columns: list[Column]) -> bool:
    """A wide grading sheet: at least WIDE columns named by a lumbar level (one column block per level)."""
    return sum(bool(LEVEL_BLOCK.search(c.name)) for c in columns) >= WIDE


def follow_up(sheet: str, columns: list[Column]) -> list[str]:
    """The questionnaire columns of a sheet named as a follow-up (Follow-up, Nachuntersuchung, 12 Monate, T1)."""
    if not FOLLOW_UP.search(sheet):
        return []
    return [c.name for c in columns if not c.identifier and SCORES & set(normal(c.name).split())]


def choose(targets: list[Target], tables: list[list[Column]]) -> dict[str, tuple[int, list[Proposal]]]:
    """Which table (index into `tables`, each a table's columns) is the clinical and which the grading table:
    the pair with the highest summed scores, a table holding at least MIN_MATCHED matched variables. A wide
    grading sheet is neither: the tables stage reads one row per patient and level."""
    kinds = {}
    for kind in ("clinical", "gradings"):
        wanted = [t for t in targets if t.table == kind]
        kinds[kind] = [propose(wanted, columns) if not wide(columns) else
                       [Proposal(t, None, 0.0, "unmatched", "wide sheet") for t in wanted] for columns in tables]
    total = {kind: [sum(p.score for p in found if p.status != "unmatched") for found in options]
             for kind, options in kinds.items()}
    matched = {kind: [sum(p.status != "unmatched" for p in found) >= MIN_MATCHED for found in options]
               for kind, options in kinds.items()}
    pairs = [(a, b) for a in [*range(len(tables)), None] for b in [*range(len(tables)), None]
             if (a is None or b is None or a != b) and (a is None or matched["clinical"][a])
             and (b is None or matched["gradings"][b])]
    a, b = max(pairs, key=lambda p: (0 if p[0] is None else total["clinical"][p[0]])
               + (0 if p[1] is None else total["gradings"][p[1]]))
    return {kind: (i, kinds[kind][i]) for kind, i in (("clinical", a), ("gradings", b)) if i is not None}
