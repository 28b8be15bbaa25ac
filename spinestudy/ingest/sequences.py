"""Classify an MR series as T1, T2, STIR or other from its header, by the config's ordered rules; and the words
of its SeriesDescription that may leave ingestion (operators type names, birth dates and record numbers there)."""

import re

import numpy as np
from pydicom.dataset import Dataset

TIMING_TAGS = {"tr": "RepetitionTime", "te": "EchoTime", "ti": "InversionTime"}
# Words of a SeriesDescription that tell its class, besides those a configured description pattern matches
# whole (config/README.md lists them): weighting, technique, fat suppression, plane, localizer, echo markers.
WORDS = re.compile(
    r"s?t[12]w?|pdw?|stir|tirm|flair|dixon|water|fat|in|opp|w|f|fs|spair|spir|tse|fse|frfse|se|gre|ffe|tfe|ir|"
    r"space|cube|vista|haste|blade|propeller|[23]d|sag|sagittal|ax|axial|tra|cor|coronal|loc|localizer|"
    r"localiser|scout|survey|3-?plane|echo|dual",
    re.IGNORECASE,
)
TOKEN = re.compile(r"[^\W_]+(?:-[^\W_]+)*")  # letters and digits, hyphenated runs kept together


def _number(ds: Dataset, keyword: str) -> float | None:
    value = ds.get(keyword)
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _holds(rule: dict, ds: Dataset) -> bool:
    if "description" in rule and not re.search(
        rule["description"], str(ds.get("SeriesDescription", "")), re.IGNORECASE
    ):
        return False
    if "scanning_sequence" in rule:
        scanning = ds.get("ScanningSequence", [])
        scanning = [scanning] if isinstance(scanning, str) else list(scanning)
        if rule["scanning_sequence"] not in scanning:
            return False
    for key, keyword in TIMING_TAGS.items():
        if key in rule:
            value = _number(ds, keyword)
            low, high = rule[key]
            if value is None or not low <= value <= high:
                return False
    return True


def classify(ds: Dataset, rules: list[dict]) -> str:
    """The sequence of the first rule whose conditions all hold, else 'other'."""
    return next((rule["sequence"] for rule in rules if _holds(rule, ds)), "other")


def orientation(iop) -> str:
    """SAG, COR or AX from ImageOrientationPatient: the axis the slice normal points along most."""
    normal = np.cross(np.asarray(iop[:3], float), np.asarray(iop[3:], float))
    return ("SAG", "COR", "AX")[int(np.argmax(np.abs(normal)))]


def classifying_words(description: str, rules: list[dict]) -> str:
    """The words of a SeriesDescription that tell its class: those matched whole by WORDS or by a rule's
    description pattern (a hyphenated word that is not: its parts). The description as written when it holds
    no other word, else the words kept, separated by spaces; names, dates and numbers are dropped."""
    patterns = [WORDS, *(re.compile(r["description"], re.IGNORECASE) for r in rules if "description" in r)]
    tokens, kept = TOKEN.findall(description), []
    for token in tokens:
        parts = [token] if any(p.fullmatch(token) for p in patterns) else token.split("-")
        kept += [w for w in parts if any(p.fullmatch(w) for p in patterns)]
    return description.strip() if kept == tokens else " ".join(kept)
