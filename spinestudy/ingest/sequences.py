"""Classify an MR series as T1, T2, STIR or other from its header, by the config's ordered rules."""

import re

import numpy as np
from pydicom.dataset import Dataset

TIMING_TAGS = {"tr": "RepetitionTime", "te": "EchoTime", "ti": "InversionTime"}


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
