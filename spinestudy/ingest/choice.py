"""Which of a patient folder's series belong to the patient, and which study is used.

The folder's patient is never guessed: it is the PatientID (0010,0020) that matches the folder's study id
(or the centre's PatientID mapping), else one held by a clear majority of the series; in any doubt the
whole patient is excluded. Of several studies of the patient, one is chosen by the configured rule.
"""

from collections import Counter
from collections.abc import Callable
from datetime import date, datetime

from spinestudy.ingest.dicom_series import Series

RULES = ("latest_on_or_before_procedure", "earliest", "latest")


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
    matching = sorted(i for i in counts if i.casefold() in wanted)
    if len(matching) == 1:
        return matching[0], f"PatientID {name(matching[0])} matches the folder's study id"
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
