"""Keyed pseudonyms: stable for a key, different across keys and centres, valid DICOM UIDs."""

import hashlib
import hmac
import re

import pytest
from pydicom.uid import UID

from spinestudy import pseudonym


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
