"""The clinical procedure date of each patient, for the ingestion's study choice (config ingest.study_choice).

Read from the centre's clinical table exactly as the tables stage reads it; the ingestion rule passes each
batch its patients' dates as a parameter, so a changed date reruns that batch only.
"""

import pandas as pd

from spinestudy.tables.readers import Source


def procedure_dates(centre: str, spec: dict | None, key: bytes, id_rules: dict | None = None) -> dict[str, str]:
    """Pseudonym -> ISO procedure date of a centre's patients with one distinct date. A table the tables
    stage will reject gives none: such patients' study choice says "no procedure date for the patient".
    id_rules: the centre's id form (config centres.<id>.ids), as for its folders."""
    if not spec or not spec["columns"].get("procedure_date"):
        return {}
    try:
        frame = Source(centre, spec, "clinical", key, id_rules).canonical().frame
    except (ValueError, OSError):  # TableError is a ValueError; the tables stage reports the file's problems
        return {}
    dates = frame.dropna(subset=["patient", "procedure_date"]).groupby("patient")["procedure_date"].unique()
    return {p: pd.Timestamp(d[0]).date().isoformat() for p, d in dates.items() if len(d) == 1}
