"""Files a new centre might send, built here with the right answer known: a German workbook (title row, text
BMI with a decimal comma, identifying columns), a REDCap export with its data dictionary, an SPSS file."""

from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

N = 30
SYNDROMES_DE = ("Facettensyndrom", "Bandscheibenvorfall", "Spinalkanalstenose", "Deformität")
GERMAN = {  # study variable -> the workbook's column
    "patient_id": "Probanden-ID", "age": "Alter", "sex": "Geschlecht", "bmi": "BMI (kg/m²)", "smoking": "Rauchen",
    "syndrome": "Leitsyndrom", "nprs_back_before": "Schmerz Rücken vor", "nprs_leg_before": "Schmerz Bein vor",
    "nprs_back_after": "Schmerz Rücken nach", "nprs_leg_after": "Schmerz Bein nach", "odi_before": "ODI vor",
    "dn4_before": "DN4 vor", "procedure_date": "OP-Datum",
}
GERMAN_IDENTIFYING = ("Name", "Geburtsdatum", "Bemerkung")
GERMAN_GRADINGS = {"patient_id": "Probanden-ID", "level": "Segment", "pfirrmann": "Pfirrmann",
                   "jarosz_height": "Höhenminderung", "osteophytes": "Osteophyten",
                   "endplates.upper.modic": "Modic oben", "endplates.lower.modic": "Modic unten"}
GERMAN_CODES = {  # what the workbook's codes mean (its sex and smoking codes are unlabelled)
    "sex": {"1": "M", "2": "F"}, "smoking": {"0": False, "1": False, "2": True},
    "syndrome": dict(zip(SYNDROMES_DE, ("facet joint pain", "lumbar disc herniation", "degenerative stenosis",
                                        "degenerative deformity"))),
    "level": dict(zip(("L1/2", "L2/3", "L3/4", "L4/5", "L5/S1"), ("L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1"))),
}
REDCAP = {"patient_id": "record_id", "age": "age", "sex": "sex", "bmi": "bmi", "smoking": "smoker",
          "syndrome": "dx", "nprs_back_before": "q_bp0", "nprs_leg_before": "q_lp0", "odi_before": "odi_0",
          "procedure_date": "proc_date"}
REDCAP_IDENTIFYING = ("patient_name", "dob")


def _scores(rng, n, high):
    return rng.integers(0, high + 1, n)


def german_workbook(path: Path, seed: int = 1, extra: dict | None = None) -> dict:
    """Sheet 'Klinik' (a title row above the header) and sheet 'MRT' (one row per patient and level).
    Returns the values written: {'bmi': [...]} for the independent check of the decimal comma."""
    rng = np.random.default_rng(seed)
    bmi = np.round(rng.uniform(19, 38, N), 1)
    clinical = pd.DataFrame({
        "Probanden-ID": [f"P-{i:03d}" for i in range(1, N + 1)],
        "Name": [f"Muster{i}, Hans" for i in range(N)],
        "Geburtsdatum": [f"{d:02d}.0{m}.19{y}" for d, m, y in zip(rng.integers(1, 28, N), rng.integers(1, 9, N),
                                                                  rng.integers(40, 90, N))],
        "Alter": rng.integers(25, 85, N),
        "Geschlecht": rng.choice([1, 2], N),
        "Rauchen": rng.choice([0, 1, 2], N),
        "BMI (kg/m²)": [f"{b:.1f}".replace(".", ",") for b in bmi],
        "Leitsyndrom": rng.choice(SYNDROMES_DE, N),
        "Schmerz Rücken vor": _scores(rng, N, 10), "Schmerz Bein vor": _scores(rng, N, 10),
        "Schmerz Rücken nach": _scores(rng, N, 10), "Schmerz Bein nach": _scores(rng, N, 10),
        "ODI vor": _scores(rng, N, 100), "DN4 vor": _scores(rng, N, 10),
        "OP-Datum": [f"{d:02d}.{m:02d}.2023" for d, m in zip(rng.integers(1, 28, N), rng.integers(1, 13, N))],
        "Bemerkung": [f"Patient berichtet Besserung nach {i} Wochen" for i in range(N)],
    } | (extra or {}))
    levels = tuple(GERMAN_CODES["level"])
    mri = pd.DataFrame({
        "Probanden-ID": np.repeat(clinical["Probanden-ID"], 5).to_numpy(), "Segment": levels * N,
        "Pfirrmann": rng.integers(1, 6, 5 * N), "Höhenminderung": rng.integers(0, 4, 5 * N),
        "Osteophyten": rng.integers(0, 4, 5 * N), "Modic oben": rng.integers(0, 4, 5 * N),
        "Modic unten": rng.integers(0, 4, 5 * N),
    })
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame([["Studie Rückenschmerz, Export"]]).to_excel(writer, sheet_name="Klinik", header=False,
                                                                  index=False)
        clinical.to_excel(writer, sheet_name="Klinik", startrow=2, index=False)
        mri.to_excel(writer, sheet_name="MRT", index=False)
    return {"bmi": bmi, "ids": clinical["Probanden-ID"].tolist()}


DICTIONARY_HEADER = [
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note", "Text Validation Type OR Show Slider Number",
    "Text Validation Min", "Text Validation Max", "Identifier?", "Branching Logic (Show field only if...)",
    "Required Field?", "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
    "Matrix Ranking?", "Field Annotation",
]
FIELDS = [  # name, type, label, choices, validation, identifier
    ("record_id", "text", "Record ID", "", "", ""),
    ("patient_name", "text", "Patient", "", "", "y"),
    ("dob", "text", "Born", "", "date_ymd", "y"),
    ("age", "text", "Age (years)", "", "integer", ""),
    ("sex", "radio", "Sex", "1, Male | 2, Female", "", ""),
    ("smoker", "yesno", "Current smoker", "", "", ""),
    ("bmi", "text", "BMI", "", "number", ""),
    ("dx", "dropdown", "Leading syndrome", "1, Facet joint pain | 2, Lumbar disc herniation | "
     "3, Degenerative stenosis | 4, Degenerative deformity", "", ""),
    ("q_bp0", "text", "Back pain NPRS before", "", "integer", ""),
    ("q_lp0", "text", "Leg pain NPRS before", "", "integer", ""),
    ("odi_0", "text", "Oswestry Disability Index before", "", "integer", ""),
    ("comorbid", "checkbox", "Comorbidities", "1, Diabetes | 2, Hypertension | 3, Osteoporosis", "", ""),
    ("proc_date", "text", "Date of procedure", "", "date_ymd", ""),
]
SYNDROME_CODES = {"1": "facet joint pain", "2": "lumbar disc herniation", "3": "degenerative stenosis",
                  "4": "degenerative deformity"}
REDCAP_CODES = {"sex": {"1": "M", "2": "F"}, "smoking": {"1": True, "0": False}, "syndrome": SYNDROME_CODES}
REDCAP_LABEL_CODES = {"sex": {"Male": "M", "Female": "F"}, "smoking": {"Yes": True, "No": False},
                      "syndrome": {value.capitalize(): value for value in SYNDROME_CODES.values()}}
SPSS = {"patient_id": "pid", "age": "v1", "sex": "v2", "smoking": "v3", "syndrome": "v4", "bmi": "v5",
        "nprs_back_before": "v6"}


def redcap(folder: Path, labels: bool = False, seed: int = 2) -> tuple[Path, Path]:
    """A REDCap export (raw codes, or labels: headers and values as labels) and its 18-column data dictionary."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    rows = [[name, "baseline", "", kind, label, choices, "", validation, "", "", ident] + [""] * 7
            for name, kind, label, choices, validation, ident in FIELDS]
    dictionary = pd.DataFrame(rows, columns=DICTIONARY_HEADER)
    dictionary.to_csv(folder / "dictionary.csv", index=False)
    raw = pd.DataFrame({
        "record_id": range(1, N + 1), "patient_name": [f"Jane Doe {i}" for i in range(N)],
        "dob": [f"19{y}-0{m}-1{d}" for y, m, d in zip(rng.integers(40, 90, N), rng.integers(1, 9, N),
                                                      rng.integers(0, 9, N))],
        "age": rng.integers(20, 85, N), "sex": rng.choice([1, 2], N), "smoker": rng.choice([0, 1], N),
        "bmi": np.round(rng.uniform(18, 40, N), 1), "dx": rng.choice([1, 2, 3, 4], N),
        "q_bp0": _scores(rng, N, 10), "q_lp0": _scores(rng, N, 10), "odi_0": _scores(rng, N, 100),
        **{f"comorbid___{k}": rng.choice([0, 1], N) for k in (1, 2, 3)},
        "proc_date": [f"2023-{m:02d}-{d:02d}" for m, d in zip(rng.integers(1, 13, N), rng.integers(1, 28, N))],
    })
    if labels:
        names = {}
        for name, kind, label, choices, _, _ in FIELDS:
            options = {"yesno": "1, Yes | 0, No"}.get(kind, choices)
            options = dict(part.split(", ", 1) for part in options.split(" | ")) if options else {}
            if kind == "checkbox":
                for code, option in options.items():
                    column = f"{name}___{code}"
                    raw[column] = raw[column].map({1: "Checked", 0: "Unchecked"})
                    names[column] = f"{label} (choice={option})"
            else:
                if options:
                    raw[name] = raw[name].astype(str).map(options)
                names[name] = label
        raw = raw.rename(columns=names)
    path = folder / ("export_labels.csv" if labels else "export_raw.csv")
    raw.to_csv(path, index=False)
    return path, folder / "dictionary.csv"


def spss(path: Path, seed: int = 3) -> dict:
    """An SPSS (.sav) or Stata (.dta) file with variable and value labels; returns what its codes mean."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "pid": [f"S{i:02d}" for i in range(N)], "v1": rng.integers(20, 85, N).astype(float),
        "v2": rng.choice([1.0, 2.0], N), "v3": rng.choice([0.0, 1.0], N), "v4": rng.choice([1.0, 2.0, 3.0, 4.0], N),
        "v5": np.round(rng.uniform(18, 40, N), 1), "v6": rng.integers(0, 11, N).astype(float),
    })
    writer = pyreadstat.write_dta if path.suffix == ".dta" else pyreadstat.write_sav
    writer(frame, str(path), column_labels={
        "pid": "Probanden-ID", "v1": "Alter", "v2": "Geschlecht", "v3": "Raucher", "v4": "Leitsyndrom",
        "v5": "BMI", "v6": "Schmerz Rücken vor"},
        variable_value_labels={"v2": {1.0: "weiblich", 2.0: "männlich"}, "v3": {0.0: "Nichtraucher", 1.0: "Raucher"},
                               "v4": {1.0: "Facettensyndrom", 2.0: "Bandscheibenvorfall",
                                      3.0: "Spinalkanalstenose", 4.0: "Deformität"}})
    return {"sex": {"1": "F", "2": "M"}, "smoking": {"0": False, "1": True},
            "syndrome": dict(zip("1234", ("facet joint pain", "lumbar disc herniation", "degenerative stenosis",
                                          "degenerative deformity")))}
