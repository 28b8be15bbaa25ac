"""Run the workflow in a scratch working directory, as a user would, and read Snakemake's own job counts."""

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import REPO

from spinestudy.tables.readers import demo_mapping

FIGURES = ["flow", "prevalence", "forest", "agreement", "shape_by_modic", "mwu_screen", "lasso_features", "classifier",
           "correlations", "combat"]
RADIOMICS_FIGURES = FIGURES[4:]
LESION_STATS = ["lesion_features", "modic_shape", "mwu_screen", "modic_classifier", "feature_correlations"]
REPORT = ["manuscript_tables", "study_report", "checklist", "all"]
# Jobs that rerun, once each, when the analysis tables change: statistics, lesion statistics, the prediction model
# (one in the config) and its calibration and decision-curve figures, figures, report.
AFTER_TABLES = {rule: 1 for rule in ["tables", *(f"stats_{m}" for m in ("table1", "posthoc", "prevalence", "lasso",
                                                                         "associations", "agreement")),
                                     *LESION_STATS, "prediction", *(f"figure_{f}" for f in FIGURES),
                                     "figure_calibration", "figure_decision_curve", "provenance", *REPORT]}
RADIOMICS_MERGES = {"radiomics_features": 1, "radiomics_diagnostics": 1, "radiomics_exclusions": 1}
SNAKEMAKE = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile")]
KEY = {"SPINESTUDY_PSEUDONYM_KEY": "workflow-test-key"}
# PNG/SVG export is checked once, on the first run of tests/test_workflow.py (static=True), and in tests/report;
# every other run writes HTML figures only, as a machine without Chromium does (measured: this saves no
# noticeable time, the runs' cost is per job, not per figure).
HTML_ONLY = {"BROWSER_PATH": "/nonexistent/no-browser"}


def command(workdir: Path, *args: str, config: str = "config.yaml", cores: str | None = "2") -> list[str]:
    """The Snakemake command line for workdir with workdir/config (without --cores when cores is None); args
    come first, as --configfile takes every value after it."""
    return SNAKEMAKE + (["--cores", cores] if cores else []) + [
        *args, "--directory", str(workdir), "--configfile", str(workdir / config)]


def snakemake(workdir: Path, *args: str, config: str = "config.yaml", cores: str | None = "2",
              fails: bool = False, static: bool = False) -> str:
    """Run Snakemake in workdir (figures as HTML only unless static); fail the test with its log tail if it
    fails (or, with fails, if it succeeds)."""
    result = subprocess.run(command(workdir, *args, config=config, cores=cores), capture_output=True, text=True,
                            env=os.environ | KEY | ({} if static else HTML_ONLY))
    assert (result.returncode != 0) == fails, result.stdout[-3000:] + result.stderr[-5000:]
    return result.stdout + result.stderr


def plan_cluster_job(workdir: Path, rule: str, **wildcards: str) -> dict[str, int]:
    """Plan one job the way a cluster job step does (the SLURM executor runs `snakemake --target-jobs
    rule:wildcards --allowed-rules rule` on the node): its DAG must resolve every input to exactly one rule.
    Returns the job counts of the dry run."""
    target = f"{rule}:" + ",".join(f"{k}={v}" for k, v in wildcards.items())
    return job_counts(snakemake(workdir, "--dry-run", "--force", "--nolock", "--target-jobs", target,
                                "--allowed-rules", rule))


def job_counts(log: str) -> dict[str, int]:
    """Snakemake's own 'Job stats' table: rule -> number of jobs."""
    table = log.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.MULTILINE) if m[1] != "total"}


def absolute_config_paths(config: dict) -> dict:
    """The config with its repository-relative files (label table, PyRadiomics parameters) made absolute,
    for runs in a scratch working directory."""
    radiomics = config["radiomics"] | {"params": str(REPO / config["radiomics"]["params"]),
                                       "labels": str(REPO / config["radiomics"]["labels"])}
    stats = config["radiomics_stats"]
    robustness = stats["robustness"] | {"params": str(REPO / stats["robustness"]["params"])}
    return config | {"radiomics": radiomics, "radiomics_stats": stats | {"robustness": robustness}}


def write_config(workdir: Path, base: dict, cohort: Path, centres: list[str], batch_digits: int = 12) -> None:
    """workdir/config.yaml for a generated demo cohort's centres as own data (quick PyRadiomics settings)."""
    mapping = {c: demo_mapping(c, str(cohort / c)) | {"dicom": str(cohort / c / "dicom"),
                                                      "masks": str(cohort / c / "masks" / "{id}.nii.gz")}
               for c in centres}
    config = absolute_config_paths(base)
    config |= {"cohort": "own", "centres": mapping, "batch_digits": batch_digits,
               "radiomics": config["radiomics"] | {"params": str(REPO / "config/radiomics/mr_quick.yaml")}}
    config.pop("demo")
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
