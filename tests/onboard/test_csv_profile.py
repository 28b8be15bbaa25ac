"""A cp1252 semicolon CSV with a title line: encoding, delimiter, header row and decimal comma found; the
profile's counts, suppression, scale and date format; identifying columns found by their values; 999 missing."""

import numpy as np
import pandas as pd
import yaml

from spinestudy.onboard.run import onboard
from spinestudy.tables.readers import read_clinical

N = 40


def write(path, rng) -> pd.DataFrame:
    frame = pd.DataFrame({
        "Pat-Nr": [f"{i:04d}" for i in range(N)],
        "Pat": [f"Müller-{i}, Jürgen" for i in range(N)],  # a name, under an unrevealing header
        "Datum 2": [f"{d:02d}.03.19{y}" for d, y in zip(rng.integers(1, 28, N), rng.integers(40, 80, N))],
        "Alter": rng.integers(30, 80, N),
        "Geschlecht": ["männlich"] * 21 + ["weiblich"] * 15 + ["divers"] * 4,
        "BMI": [f"{b:.1f}".replace(".", ",") for b in rng.uniform(19, 38, N - 2)] + ["999", "999"],
        "Diagnose": ["Facettensyndrom"] * 20 + ["Spinalkanalstenose"] * 20,
        "VAS Rücken präop": rng.integers(0, 101, N),  # a 0-100 scale
        "OP-Datum": [f"{d:02d}.{m:02d}.2022" for d, m in zip(rng.integers(1, 28, N), rng.integers(1, 13, N))],
    })
    text = "Export Wirbelsäulenstudie;;;\n" + frame.to_csv(sep=";", index=False)
    path.write_bytes(text.encode("cp1252"))
    return frame


def test_csv_detection_profile_identifiers_and_scale(tmp_path):
    frame = write(tmp_path / "klinik.csv", np.random.default_rng(4))
    result = onboard("K", [str(tmp_path / "klinik.csv")], str(tmp_path / "K.yaml"), logs=str(tmp_path / "logs"))
    assert result["tables"]["clinical"].options == {"format": "csv", "sep": ";", "encoding": "cp1252",
                                                    "header_row": 2}
    profile = pd.read_csv(tmp_path / "logs" / "K_profile.csv", keep_default_na=False).set_index("column")
    assert profile.loc["Geschlecht", "top"] == "männlich (21); weiblich (15)"  # divers: 4 times, suppressed
    assert profile.loc["Geschlecht", "suppressed"] == 1 and profile.loc["Geschlecht", "distinct"] == 3
    assert profile.loc["BMI", "decimal"] == "," and profile.loc["BMI", "type"] == "number"
    assert profile.loc["VAS Rücken präop", "scale"] == "0-100"
    assert profile.loc["OP-Datum", "date_format"] == "%d.%m.%Y"
    assert profile.loc["Pat", "identifier"].startswith("free text")
    assert profile.loc["Datum 2", "identifier"].endswith("birth dates?")
    assert profile.loc[["Pat", "Datum 2"], "top"].tolist() == ["", ""]
    found = {p.target.key: p for p in result["proposals"]["clinical"]}
    assert found["patient_id"].column.name == "Pat-Nr" and found["procedure_date"].column.name == "OP-Datum"
    back = found["nprs_back_before"]
    assert back.status != "approved" and "0-100 scale" in (back.why if back.column else back.why)
    codes = {c.code: (c.value, c.status) for c in found["sex"].codes}
    assert codes == {"männlich": ("M", "approved"), "weiblich": ("F", "approved"), "divers": (None, "unmatched")}
    spec = yaml.safe_load((tmp_path / "K.yaml").read_text())["centres"]["K"]["clinical"]
    assert spec["missing"] == ["", "999"] and spec["decimal"] == ","
    spec["codes"]["sex"]["divers"] = "F"  # the reviewer's answers: a valid value for the third code,
    spec["columns"]["nprs_back_before"] = None  # and the 0-100 VAS is not the 0-10 NPRS
    spec["review"] = {k: v | {"status": "approved"} for k, v in spec["review"].items()}
    read = read_clinical("K", spec, b"key")
    assert read.problems == []
    bmi = [float(b.replace(",", ".")) for b in frame["BMI"][:-2]]
    assert np.allclose(read.frame["bmi"][:-2], bmi) and read.frame["bmi"][-2:].isna().all()  # 999: missing
