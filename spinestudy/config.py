"""Load and validate config/config.yaml against workflow/schemas/config.schema.yaml."""

from pathlib import Path

import jsonschema
import yaml

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """The configuration breaks its schema; the message names the key and the rule."""


MOVED = {("tables", "mcid_threshold"): "moved to the study file: the threshold of its derived variable mcid "
                                       "(config/studies/README.md)"}  # keys of earlier configs, and where they went


def validate(config: dict) -> dict:
    """Return config unchanged if it satisfies the schema, else raise ConfigError naming the key."""
    schema = yaml.safe_load(SCHEMA.read_text())
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"  {'/'.join(map(str, e.absolute_path)) or '(top level)'}: {e.message}" for e in errors]
        lines += [f"  {section}/{key}: {where}" for (section, key), where in MOVED.items()
                  if key in (config.get(section) or {})]
        raise ConfigError("invalid configuration:\n" + "\n".join(lines))
    return config


def load(path: str | Path) -> dict:
    """Read a YAML config file and validate it."""
    with open(path) as fh:
        return validate(yaml.safe_load(fh))
