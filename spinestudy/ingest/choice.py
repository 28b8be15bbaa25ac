"""Which of a patient folder's series belong to the patient, and which study is used.

The folder's patient is never guessed: it is the PatientID (0010,0020) that matches the folder's study id
(or the centre's PatientID mapping) as written, else once case and leading zeros are ignored (a folder
`a007` and PatientID `A7`), else one held by a clear majority of the series; in any doubt the
whole patient is excluded. Of several studies of the patient, one is chosen by the configured rule; of several
series of one sequence in that study (a repeat after motion), the one with most slices, then by the configured
rule: the latest (or first) acquired.
"""

from collections import Counter
from collections.abc import Callable
from datetime import date, datetime

from pydicom.dataset import Dataset
from pydicom.valuerep import DA, DT, TM

from spinestudy import ids
from spinestudy.ingest.dicom_series import Series

RULES = ("latest_on_or_before_procedure", "earliest", "latest")
# When a slice was acquired, in order of preference: (date keyword, time keyword or None for a DT value)
ACQUIRED = (("AcquisitionDateTime", None), ("AcquisitionDate", "AcquisitionTime"), ("SeriesDate", "SeriesTime"))


def patient_id(series: Series) -> str:
    return str(series.first.get("PatientID", "")).strip()


def folder_patient(series_list: list[Series], expected: set[str], majority: float,
                   name: Callable[[str], str]) -> tuple[str | None, str]:
    """The folder's PatientID with how it was established, or None with the reason the patient is in doubt.

    expected: the ids the folder's study id stands for (itself, and the centre's mapping); name: a
    PatientID's pseudonym for messages."""
    counts = Counter(patient_id(s) for s in series_list)
    if len(counts) <= 1:
        return next(iter(counts), ""), ""
    wanted = {e.strip().casefold() for e in expected}
    matching, form = sorted(i for i in counts if i.casefold() in wanted), ""
    if not matching:
        wanted = {ids.loose(e.strip()) for e in expected}
        matching = sorted(i for i in counts if ids.loose(i) in wanted)
        form = " once case and leading zeros are ignored"
    if len(matching) == 1:
        return matching[0], f"PatientID {name(matching[0])} matches the folder's study id{form}"
    top, n = counts.most_common(1)[0]
    total = sum(counts.values())
    if not matching and n / total >= majority and list(counts.values()).count(n) == 1:
        return top, f"PatientID {name(top)} holds {n} of {total} series (majority {majority:.0%})"
    held = ", ".join(f"{name(i) if i else '(empty)'}: {k} series" for i, k in sorted(counts.items(), key=str))
    return None, (
        f"cannot establish the folder's patient: its series carry {len(counts)} PatientIDs (0010,0020) "
        f"(pseudonymised: {held}); {'several' if matching else 'none'} match the folder's study id or the "
        f"centre's PatientID mapping, and none holds {majority:.0%} of the series"
    )


def _study_date(series: Series) -> datetime | None:
    ds = series.first
    try:
        return datetime.strptime(f"{ds.get('StudyDate', '')}{str(ds.get('StudyTime', '') or '000000')[:6]:0<6}",
                                 "%Y%m%d%H%M%S")
    except ValueError:
        return None


def choose_study(series_list: list[Series], rule: str, procedure: date | None,
                 name: Callable[[str], str]) -> tuple[str, dict[str, str]]:
    """The StudyInstanceUID to use and, for each other study, why its series are not used (name: a UID's
    pseudonym for messages)."""
    dates: dict[str, datetime | None] = {}
    for s in series_list:
        dates.setdefault(str(s.first.get("StudyInstanceUID", "")), _study_date(s))
    if len(dates) == 1:
        return next(iter(dates)), {}
    dated = sorted((d, uid) for uid, d in dates.items() if d is not None)
    n = len(dates)
    if not dated:
        chosen, why = sorted(dates)[0], f"none of the {n} studies has a StudyDate (0008,0020): the first by UID"
    elif rule == "latest":
        chosen, why = dated[-1][1], f"the latest of {n} studies (config ingest.study_choice)"
    elif rule == "earliest" or procedure is None:
        chosen = dated[0][1]
        why = f"the earliest of {n} studies" + ("" if rule == "earliest" else " (no procedure date for the patient)")
    else:
        before = [uid for d, uid in dated if d.date() <= procedure]
        chosen = before[-1] if before else dated[0][1]
        why = (f"the latest of {n} studies on or before the procedure date" if before
               else f"the earliest of {n} studies (none on or before the procedure date)")
    reasons = {}
    for uid, d in dates.items():
        if uid != chosen:
            days = (d - dates[chosen]).days if d and dates[chosen] else None
            when = f"; this study is {abs(days)} days {'after' if days >= 0 else 'before'} it" if days is not None else ""
            reasons[uid] = f"study {name(chosen)} was chosen ({why}){when}"
    return chosen, reasons


def _stamp(ds: Dataset, day: str, time: str | None) -> datetime | None:
    try:
        if time is None:
            return DT(str(ds.get(day))).replace(tzinfo=None) if ds.get(day) else None
        if not ds.get(time):
            return None
        when = ds.get(day) or ds.get("StudyDate")
        return datetime.combine(DA(str(when)) if when else date.min, TM(str(ds.get(time))))
    except (TypeError, ValueError):
        return None


def acquired(series: Series) -> datetime | None:
    """When a series was acquired: its slices' earliest AcquisitionDateTime (0008,002A), else AcquisitionDate
    and AcquisitionTime (0008,0032), else SeriesDate and SeriesTime (0008,0031); None without any."""
    for day, time in ACQUIRED:
        stamps = [t for s in series.slices if (t := _stamp(s.ds, day, time)) is not None]
        if stamps:
            return min(stamps)
    return None


def _number(series: Series) -> int | None:
    value = series.first.get("SeriesNumber")
    return int(value) if value not in (None, "") else None


def rank_series(candidates: list[Series], rule: str) -> tuple[list[Series], bool]:
    """Series of one sequence, best first: most slices, then by rule the latest or the first acquired, then the
    highest or lowest SeriesNumber (series without one last); and whether acquisition times were compared
    (only when every series has one)."""
    timed = all(acquired(s) is not None for s in candidates)
    latest = rule == "latest"

    def key(s: Series) -> tuple:
        number = _number(s)
        return (acquired(s) if timed else datetime.min, (number is not None) == latest, number or 0)

    ordered = sorted(candidates, key=key, reverse=latest)
    return sorted(ordered, key=lambda s: -len(s.slices)), timed


def preferred(chosen: Series, other: Series, timed: bool, rule: str) -> str:
    """Why rank_series put chosen before other, naming the rule that decided."""
    if len(chosen.slices) != len(other.slices):
        return f"more slices, {len(chosen.slices)} against {len(other.slices)}"
    setting = f"config ingest.series_choice: {rule}"
    if timed and acquired(chosen) != acquired(other):
        minutes = (acquired(chosen) - acquired(other)).total_seconds() / 60
        return f"acquired {abs(minutes):.1f} min {'after' if minutes > 0 else 'before'} this one; {setting}"
    if _number(other) is None and _number(chosen) is not None:
        return f"this one has no SeriesNumber (0020,0011); {setting}"
    if _number(chosen) != _number(other):
        when = "" if timed else ", not every series has an acquisition time"
        return f"the {'higher' if rule == 'latest' else 'lower'} series number{when}; {setting}"
    return "same acquisition time and series number: the first in SeriesInstanceUID order"
