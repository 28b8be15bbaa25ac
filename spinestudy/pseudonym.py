"""Keyed pseudonyms for patient identifiers and DICOM UIDs (HMAC-SHA256).

The same key maps the same (centre, id) to the same pseudonym in every stage, so the imaging and the
clinical tables join without any identifier leaving the inputs. Without the key a pseudonym cannot be
reversed or recomputed.
"""

import hashlib
import hmac
import os


class MissingKeyError(RuntimeError):
    """No pseudonymisation key in the environment or the config."""


def key_from_config(config: dict) -> bytes:
    """The key from the environment variable the config names, else the config's fallback key."""
    settings = config["pseudonym"]
    key = os.environ.get(settings["key_env"]) or settings.get("key")
    if not key:
        raise MissingKeyError(
            f"no pseudonymisation key: set the environment variable {settings['key_env']} "
            "or pseudonym.key in the config"
        )
    return key.encode()


def _digest(key: bytes, *parts: str) -> str:
    return hmac.new(key, "/".join(parts).encode(), hashlib.sha256).hexdigest()


def patient(key: bytes, centre: str, identifier: str) -> str:
    """Pseudonym of a patient identifier within a centre, e.g. 'p3f9c0a12be77'."""
    return "p" + _digest(key, centre, identifier.strip())[:12]


def uid(key: bytes, original: str) -> str:
    """A valid DICOM UID (2.25 root, PS3.5 B.2) standing in for an original UID."""
    return "2.25." + str(int(_digest(key, "uid", original)[:32], 16))
