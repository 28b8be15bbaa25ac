"""A centre's patient ids in one form, so DICOM folder names and every table's ids compare equal.

Config `centres.<id>.ids` (every key optional), applied in this order after surrounding whitespace is
stripped, to DICOM folder names and to the id column of every table before pseudonymisation:
  pattern   regular expression the whole id must match; the id becomes its group named `id`, else its
            first group, else the whole match (e.g. "(?:ID-)?0*([0-9]+)": no prefix, no leading zeros)
  case      upper | lower
  zero_pad  width: an id of digits only gets leading zeros up to it (Excel drops them: 7 -> 007)
Without `ids` an id is only stripped, as pseudonym.patient always did.
"""

import re
from pathlib import Path

DIGITS = re.compile(r"[0-9]+")


class IdError(ValueError):
    """An id that does not match the centre's `ids.pattern`."""


def normalise(identifier: str, rules: dict | None) -> str:
    """The id in the centre's one form (rules: config `centres.<id>.ids`, or None)."""
    rules = rules or {}
    text = str(identifier).strip()
    if "pattern" in rules:
        match = re.fullmatch(rules["pattern"], text)
        groups = match.re.groupindex if match else {}
        text = match and (match["id"] if "id" in groups else match[1] if match.re.groups else match[0])
        if not text:
            raise IdError(f"does not match ids.pattern {rules['pattern']!r}")
    if rules.get("case") == "upper":
        text = text.upper()
    elif rules.get("case") == "lower":
        text = text.lower()
    if rules.get("zero_pad") and DIGITS.fullmatch(text):
        text = text.zfill(rules["zero_pad"])
    return text


def _loose(identifier: str) -> str:
    """An id without case and without leading zeros in its numbers: '007' and 'a7' -> '7', 'a7'."""
    return re.sub(r"(?<![0-9])0+(?=[0-9])", "", identifier.lower())


def form_hint(centre: str, sides: dict[str, set[str]]) -> str:
    """How a centre's ids could match when its sides (name -> ids) share none or few as they are but more
    once case and leading zeros are ignored: the `ids` setting to try, with an example pair; else ""."""
    names = list(sides)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            loose = {_loose(a): a for a in sides[first]}
            pairs = sorted((loose[_loose(b)], b) for b in sides[second] if _loose(b) in loose and loose[_loose(b)] != b)
            if len(pairs) > len(sides[first] & sides[second]):
                a, b = pairs[0]
                if a.lower() == b.lower():
                    setting = f"case: {'upper' if a.isupper() or b.isupper() else 'lower'}"
                elif DIGITS.fullmatch(a) and DIGITS.fullmatch(b):
                    setting = f"zero_pad: {max(len(x) for pair in pairs for x in pair)}"
                else:
                    setting = 'pattern: "[A-Za-z]*0*([0-9]+)", or another that keeps what tells your ids apart'
                return (f"the ids match once case and leading zeros are ignored ({a!r} in the {first}, {b!r} in the "
                        f"{second}): set centres.{centre}.ids: {{{setting}}}")
    return ""


def is_patient(entry: Path) -> bool:
    """A patient in a centre's DICOM root: a sub-folder, or a patient sent as one archive <study id>.zip."""
    return entry.is_dir() or (entry.is_file() and entry.suffix.lower() == ".zip")


def entry_name(entry: Path) -> str:
    """The study id a patient folder or archive is named by, as the centre wrote it (archive: without .zip)."""
    return entry.stem if entry.is_file() else entry.name


def folder_ids(root: Path, rules: dict | None) -> dict[Path, str]:
    """Patient folder (or archive) -> its id, for the patients in a centre's DICOM root, sorted by name. Raises
    IdError (the folder named: the message is for the terminal) for a name the pattern rejects, or two
    patients with the same id."""
    found, names = {}, {}
    for folder in sorted(p for p in Path(root).iterdir() if is_patient(p)):
        try:
            identifier = normalise(entry_name(folder), rules)
        except IdError as exc:
            raise IdError(f"patient folder {folder.name!r} {exc}") from None
        if identifier in names:
            raise IdError(f"patient folders {names[identifier]!r} and {folder.name!r} are the same id {identifier!r}")
        found[folder], names[identifier] = identifier, folder.name
    return found
