"""Job logs (spinestudy.logs): what a job writes, and a failing rule's traceback in its log file."""

import subprocess
import sys

import pandas as pd
import pytest
import yaml
from conftest import REPO

from snakemake_runner import absolute_config_paths, snakemake
from spinestudy.demo.cohort import generate
from spinestudy.tables.readers import demo_mapping

JOB = """
import logging, warnings
from spinestudy import logs
logs.to_file({path!r})
logging.getLogger("spinestudy.tables").info("read 12 rows")
logging.getLogger("radiomics").setLevel(logging.INFO)
logging.getLogger("radiomics").info("Calculating features")
logging.getLogger("radiomics").warning("mask spacing differs")
warnings.warn("a library is deprecated", FutureWarning)
raise ValueError("clinical.csv row 3: sex 'X' is not a code of the mapping")
"""


def test_job_log_holds_own_messages_warnings_and_the_traceback(tmp_path):
    path = tmp_path / "logs" / "job.log"
    result = subprocess.run([sys.executable, "-c", JOB.format(path=str(path))], capture_output=True, text=True,
                            cwd=REPO)
    assert result.returncode == 1 and "ValueError: clinical.csv row 3" in result.stderr  # still on the terminal
    log = path.read_text()
    assert "INFO spinestudy: started on " in log and "INFO spinestudy.tables: read 12 rows" in log
    assert "Calculating features" not in log and "WARNING radiomics: mask spacing differs" in log
    assert "WARNING py.warnings:" in log and "FutureWarning: a library is deprecated" in log
    failure = log.split("CRITICAL spinestudy: job failed\n", 1)[1]
    assert failure.startswith("Traceback (most recent call last):")
    assert failure.rstrip().endswith("ValueError: clinical.csv row 3: sex 'X' is not a code of the mapping")


@pytest.mark.workflow
def test_failing_rule_leaves_its_traceback_in_its_log(tmp_path, config):
    """The real tables rule on a clinical table with an unmapped sex code (a tables-only cohort: no images)."""
    generate(tmp_path / "cohort", patients=4, centres=["A"], seed=3, images=False)
    mapping = demo_mapping("A", tmp_path / "cohort" / "A")
    clinical = pd.read_csv(mapping["clinical"]["path"], dtype=str, keep_default_na=False)
    clinical.loc[1, "sex"] = "X"
    clinical.to_csv(mapping["clinical"]["path"], index=False)
    work = tmp_path / "work"
    work.mkdir()
    cfg = absolute_config_paths(config) | {"cohort": "own", "centres": {"A": mapping}}
    cfg.pop("demo")
    (work / "config.yaml").write_text(yaml.safe_dump(cfg))

    output = snakemake(work, "results/tables/analysis.parquet", fails=True)
    assert "Error in rule tables" in output
    log = (work / "logs/tables.log").read_text()
    assert "CRITICAL spinestudy: job failed\nTraceback (most recent call last):" in log
    error = log.rstrip().rsplit("\n", 1)[1]
    assert "A_clinical.csv" in error and "'X'" in error, error
    assert (work / "logs/series_index.log").read_text().count("\n") == 1  # a job that went well: its start line
