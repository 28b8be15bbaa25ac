"""Analyses the data cannot feed (no radiomics features because no centre sends images; no second read of the
gradings): the rule still writes its outputs, each holding one note "not applicable: <reason>", so the DAG
stays the same for every study, the run never fails on them and the figures, manuscript tables and study page
say so."""

import pandas as pd

PREFIX = "not applicable: "
NO_FEATURES = PREFIX + "no radiomics features were extracted (no centre sends images, or no ROI was extracted)"


def frame(columns: list[str], reason: str) -> pd.DataFrame:
    """An output table of one row: every column empty but `note`, which holds the reason (added if absent)."""
    return pd.DataFrame([{"note": reason}], columns=list(dict.fromkeys([*columns, "note"])))


def note(output: pd.DataFrame | dict) -> str:
    """The not-applicable note an output (table or JSON document) holds, '' when it holds results."""
    if isinstance(output, dict):
        text = output.get("note")
    else:
        text = output["note"].iloc[0] if "note" in output and len(output) == 1 else None
    return text if isinstance(text, str) and text.startswith(PREFIX) else ""
