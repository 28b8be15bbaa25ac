"""One form per centre for patient ids (config centres.<id>.ids): the rules, folder listing, mismatch hint."""

import pytest
import yaml

from spinestudy import cli, ids, pseudonym


@pytest.mark.parametrize("raw, rules, expected", [
    (" 7 ", None, "7"),
    ("7", {"zero_pad": 3}, "007"),
    ("0007", {"zero_pad": 3}, "0007"),
    ("A7", {"zero_pad": 3}, "A7"),  # only ids of digits are padded
    ("a0012", {"case": "upper"}, "A0012"),
    ("ID-007", {"pattern": "(?:ID-)?0*([0-9]+)"}, "7"),
    ("7", {"pattern": "(?:ID-)?0*([0-9]+)"}, "7"),
    ("site2-p14", {"pattern": "site[0-9]-(?P<id>p[0-9]+)", "case": "upper", "zero_pad": 4}, "P14"),
    ("  ab12 ", {"pattern": "[a-z]+[0-9]+", "case": "upper"}, "AB12"),
    ("id 12", {"pattern": "id ([0-9]+)", "zero_pad": 4}, "0012"),  # pattern, then case, then padding
])
def test_normalise(raw, rules, expected):
    assert ids.normalise(raw, rules) == expected


def test_id_outside_the_pattern_is_an_error():
    with pytest.raises(ids.IdError, match=r"^does not match ids.pattern '\(\?:ID-\)\?\(\[0-9\]\+\)'$"):
        ids.normalise("X-12", {"pattern": "(?:ID-)?([0-9]+)"})


def test_folder_ids(tmp_path):
    for name in ("007", "012", "3"):
        (tmp_path / name).mkdir()
    (tmp_path / "notes.txt").write_text("not a patient")
    assert ids.folder_ids(tmp_path, {"zero_pad": 3}) == {tmp_path / "007": "007", tmp_path / "012": "012",
                                                         tmp_path / "3": "003"}
    (tmp_path / "7").mkdir()
    with pytest.raises(ids.IdError, match="^patient folders '007' and '7' are the same id '007'$"):
        ids.folder_ids(tmp_path, {"zero_pad": 3})
    with pytest.raises(ids.IdError, match="^patient folder '007' does not match ids.pattern"):
        ids.folder_ids(tmp_path, {"pattern": "P[0-9]+"})


def test_form_hint():
    assert ids.form_hint("B", {"clinical table": {"7", "12"}, "DICOM folders": {"007", "012"}}) == (
        "the ids match once case and leading zeros are ignored ('12' in the clinical table, '012' in the DICOM "
        "folders): set centres.B.ids: {zero_pad: 3}")
    assert ids.form_hint("A", {"gradings table": {"a0001"}, "DICOM folders": {"A0001"}}).endswith("{case: upper}")
    assert "pattern" in ids.form_hint("A", {"clinical table": {"A0001"}, "DICOM folders": {"a1"}})
    assert ids.form_hint("A", {"clinical table": {"7", "8"}, "gradings table": {"7", "8"}}) == ""
    assert ids.form_hint("A", {"clinical table": {"7"}, "gradings table": {"9"}}) == ""


def test_pseudonym_command_uses_the_centres_id_form(tmp_path, config, capsys, monkeypatch):
    """`spinestudy pseudonym A 7` finds the patient of folder 007 when centre A pads its ids to 3 digits."""
    monkeypatch.delenv(config["pseudonym"]["key_env"], raising=False)
    config = config | {"centres": config["centres"] | {"A": config["centres"]["A"] | {"ids": {"zero_pad": 3}}}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    cli.main(["pseudonym", "A", "7", "--config", str(tmp_path / "config.yaml")])
    key = config["pseudonym"]["key"].encode()
    assert capsys.readouterr().out == f"7\t{pseudonym.patient(key, 'A', '007')}\n"
