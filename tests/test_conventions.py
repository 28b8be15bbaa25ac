"""Snakemake workflow conventions: `snakemake --lint` finds nothing, the Snakefile and rule files are formatted
by snakefmt (settings in pyproject.toml), and the workflow catalog's usage files are complete."""

import os
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import REPO

SNAKEFMT = Path(sys.executable).with_name("snakefmt")


def test_snakemake_lint_finds_nothing():
    result = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], cwd=REPO, capture_output=True, text=True,
                            env=os.environ | {"PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Lints for" not in result.stdout + result.stderr
    assert "Congratulations, your workflow is in a good condition!" in result.stdout + result.stderr


def test_snakefile_and_rules_are_snakefmt_formatted():
    result = subprocess.run([str(SNAKEFMT), "--check", "--diff", "Snakefile", "workflow/rules"], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_config_readme_explains_every_config_key():
    """Every key of the schema's first two levels, of a centre and of a centre's table, in `backticks`."""
    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    keys = [*schema["properties"], *schema["$defs"]["table"]["properties"],
            *schema["properties"]["centres"]["additionalProperties"]["properties"]]
    keys += [key for spec in schema["properties"].values() for key in spec.get("properties", {})]
    readme = (REPO / "config/README.md").read_text()
    assert [key for key in keys if f"`{key}`" not in readme] == []


def test_workflow_catalog_usage():
    usage = yaml.safe_load((REPO / ".snakemake-workflow-catalog.yml").read_text())["usage"]
    assert set(usage) == {"mandatory-flags", "software-stack-deployment"}
    assert usage["software-stack-deployment"] == {"conda": True, "apptainer": False, "apptainer+conda": False,
                                                  "report": True}


def test_profiles_resume_an_interrupted_run():
    """Both profiles redo the jobs a killed run left unfinished (tests/test_refresh.py kills one locally)."""
    for profile in ("default", "slurm"):
        assert yaml.safe_load((REPO / "profiles" / profile / "config.yaml").read_text())["rerun-incomplete"] is True
