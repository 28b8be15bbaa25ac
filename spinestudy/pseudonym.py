"""Keyed pseudonyms for patient identifiers and DICOM UIDs (HMAC-SHA256).

The same key maps the same (centre, id) to the same pseudonym in every stage, so the imaging and the
clinical tables join without any identifier leaving the inputs. Without the key a pseudonym cannot be
reversed or recomputed.
"""

import hashlib
import hmac
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class MissingKeyError(RuntimeError):
    """No usable pseudonymisation key in the environment, a key file or (demo only) the config."""


def _key_file(path: str, env: str) -> str:
    file = Path(path).expanduser().resolve()
    if file.is_relative_to(REPO):
        raise MissingKeyError(f"pseudonym.key_file {path} lies inside the repository, where it could be committed: "
                              f"keep it outside, or set the environment variable {env}")
    if not file.is_file():
        raise MissingKeyError(f"pseudonym.key_file {path} does not exist (or set the environment variable {env})")
    return file.read_text().strip()


def key_from_config(config: dict) -> bytes:
    """The key from the environment variable the config names, else the key file, else (demo cohort only) the
    config's demo key. With own data (cohort: own) the demo key committed in the config is refused."""
    settings = config["pseudonym"]
    env = settings["key_env"]
    key = os.environ.get(env) or (_key_file(settings["key_file"], env) if settings.get("key_file") else None)
    if not key and config.get("cohort") == "own":
        raise MissingKeyError(
            f"cohort: own needs a secret pseudonymisation key: set the environment variable {env} (or "
            "pseudonym.key_file, a file outside the repository); the config's demo key is refused for own data"
        )
    key = key or settings.get("key")
    if not key:
        raise MissingKeyError(f"no pseudonymisation key: set the environment variable {env} or pseudonym.key in the config")
    return key.encode()


def _digest(key: bytes, *parts: str) -> str:
    return hmac.new(key, "/".join(parts).encode(), hashlib.sha256).hexdigest()


def patient(key: bytes, centre: str, identifier: str) -> str:
    """Pseudonym of a patient identifier within a centre, e.g. 'p3f9c0a12be77'."""
    return "p" + _digest(key, centre, identifier.strip())[:12]


def uid(key: bytes, original: str) -> str:
    """A valid DICOM UID (2.25 root, PS3.5 B.2) standing in for an original UID."""
    return "2.25." + str(int(_digest(key, "uid", original)[:32], 16))
