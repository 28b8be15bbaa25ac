"""Keyed pseudonyms: stable for a key, different across keys and centres, valid DICOM UIDs."""

import hashlib
import hmac
import re

import pytest
from conftest import REPO
from pydicom.uid import UID

from spinestudy import cli, pseudonym


def test_patient_pseudonym_is_the_keyed_hmac():
    expected = hmac.new(b"secret-key", b"A/A0001", hashlib.sha256).hexdigest()[:12]
    assert pseudonym.patient(b"secret-key", "A", "A0001") == "p" + expected
    assert pseudonym.patient(b"secret-key", "A", " A0001 ") == "p" + expected


def test_pseudonym_depends_on_key_and_centre():
    values = {pseudonym.patient(k, c, "0001") for k in (b"key-one-x", b"key-two-x") for c in ("A", "B")}
    assert len(values) == 4 and all(re.fullmatch(r"p[0-9a-f]{12}", v) for v in values)


def test_uid_is_valid_and_stable():
    new = pseudonym.uid(b"secret-key", "1.2.840.113619.2.55.3.1234")
    assert UID(new).is_valid and len(new) <= 64 and new.startswith("2.25.")
    assert new == pseudonym.uid(b"secret-key", "1.2.840.113619.2.55.3.1234")
    assert new != pseudonym.uid(b"other-key", "1.2.840.113619.2.55.3.1234")


def test_key_comes_from_environment_first(monkeypatch, config):
    monkeypatch.setenv(config["pseudonym"]["key_env"], "from-the-env")
    assert pseudonym.key_from_config(config) == b"from-the-env"
    monkeypatch.delenv(config["pseudonym"]["key_env"])
    assert pseudonym.key_from_config(config) == config["pseudonym"]["key"].encode()
    with pytest.raises(pseudonym.MissingKeyError, match=config["pseudonym"]["key_env"]):
        pseudonym.key_from_config({"pseudonym": {"key_env": config["pseudonym"]["key_env"]}})


def test_own_cohort_refuses_the_demo_key(monkeypatch, config, tmp_path):
    env = config["pseudonym"]["key_env"]
    monkeypatch.delenv(env, raising=False)
    own = dict(config, cohort="own")
    with pytest.raises(pseudonym.MissingKeyError, match=f"set the environment variable {env}"):
        pseudonym.key_from_config(own)
    monkeypatch.setenv(env, "from-the-env")
    assert pseudonym.key_from_config(own) == b"from-the-env"
    monkeypatch.delenv(env)
    (tmp_path / "key").write_text("from-a-file-outside\n")
    assert pseudonym.key_from_config(dict(own, pseudonym=dict(own["pseudonym"], key_file=str(tmp_path / "key")))) \
        == b"from-a-file-outside"
    inside = dict(own, pseudonym=dict(own["pseudonym"], key_file=str(pseudonym.REPO / "config" / "config.yaml")))
    with pytest.raises(pseudonym.MissingKeyError, match="inside the repository"):
        pseudonym.key_from_config(inside)


def test_cli_outside_the_project_asks_for_the_config(monkeypatch, tmp_path, capsys, config):
    """Run from another directory, the default config/config.yaml is not there: a clear exit, no traceback."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(config["pseudonym"]["key_env"], raising=False)
    with pytest.raises(SystemExit) as info:
        cli.main(["pseudonym", "A", "A0001"])
    assert str(info.value) == ("no configuration file config/config.yaml here: run spinestudy in the project "
                               "directory, or give the project's config with --config PATH")
    cli.main(["pseudonym", "A", "A0001", "--config", str(REPO / "config" / "config.yaml")])
    key = config["pseudonym"]["key"].encode()
    assert capsys.readouterr().out == f"A0001\t{pseudonym.patient(key, 'A', 'A0001')}\n"
    with pytest.raises(SystemExit, match="centre 'Z' is not in .*: its centres are A, B, C"):
        cli.main(["pseudonym", "Z", "A0001", "--config", str(REPO / "config" / "config.yaml")])
