"""Every benchmark script runs at a small size and prints its figures, so none can break unnoticed."""

import hashlib
import hmac
import os
import re
import subprocess
import sys

import pytest

from conftest import REPO
from snakemake_runner import HTML_ONLY


def bench(script: str, *args: str, env: dict | None = None) -> str:
    """Run benchmarks/<script> with args (and env, default this process's); fail with its output tail if it fails."""
    result = subprocess.run([sys.executable, str(REPO / "benchmarks" / script), *args], capture_output=True, text=True,
                            env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def batches(patients: int, digits: int) -> int:
    """Batches of the DAG benchmark's study (patients A00000.. and B00000.., half each, key "bench"): distinct
    pseudonym prefixes, the pseudonyms computed here with HMAC-SHA256 of "<centre>/<id>"."""
    return sum(len({hmac.new(b"bench", f"{c}/{c}{i:05d}".encode(), hashlib.sha256).hexdigest()[:digits]
                    for i in range(patients // 2)}) for c in "AB")


def dag_rows(*args: str) -> dict[tuple[int, str], list[str]]:
    """The DAG benchmark's table, robustness on every patient: (patients, batch_digits) -> the other columns."""
    out = bench("dag.py", *args, "--robustness-sample", "1")
    return {(int(r[0]), r[1]): r[2:] for r in map(str.split, out.splitlines()) if r and r[0].isdigit()}


def test_dag_benchmark_plans_one_job_per_patient_in_a_small_study_and_batches_a_large_one():
    rows = dag_rows("--patients", "50", "--batch-digits", "auto", "0") | dag_rows("--patients", "1002")  # default
    assert list(rows) == [(50, "auto"), (50, "0"), (1002, "auto")]
    stages = {key: [int(n) for n in row[:3]] for key, row in rows.items()}  # ingestion, radiomics, robustness
    assert stages[50, "auto"] == [50] * 3  # one job per patient (every patient is in the robustness sample)
    assert stages[50, "0"] == [2] * 3  # an explicit batch_digits overrides auto: 0 is one job per centre
    assert stages[1002, "auto"] == [batches(1002, 2)] * 3 and 256 < batches(1002, 2) < 1002  # 2 digits
    others = {int(row[3]) - sum(stages[key]) for key, row in rows.items()}  # merges, statistics, figures, report
    assert len(others) == 1 and others.pop() > 20
    assert all(float(n) > 0 for row in rows.values() for n in row[4:7])  # dry-run wall and CPU seconds, jobs/s


@pytest.mark.workflow
def test_end_to_end_benchmark_runs_a_small_demo_in_a_scratch_directory():
    results = sorted((REPO / "results").rglob("*")) if (REPO / "results").is_dir() else []
    out = bench("end_to_end.py", "--cores", "2", "--patients", "40", "--imaging-patients", "2",
                "--params", str(REPO / "config/radiomics/mr_quick.yaml"), env=os.environ | HTML_ONLY)
    figures = dict(re.findall(r"^(\D+?)\s{2,}(.+)$", out, re.MULTILINE))
    assert figures["demo patients"] == "40 (2 with images)" and figures["cores"] == "2"
    wall, cpu, efficiency = (float(figures[k]) for k in ("wall time (s)", "CPU time (s)", "parallel efficiency"))
    assert wall > 0 and cpu > 0 and efficiency == pytest.approx(cpu / (2 * wall), abs=0.05)
    assert 100 < float(figures["peak RSS (MiB)"]) < 24 * 1024 and float(figures["results/ (MiB)"]) > 0.1
    assert (sorted((REPO / "results").rglob("*")) if (REPO / "results").is_dir() else []) == results


def test_statistics_benchmark_prints_every_output():
    out = bench("statistics.py", "--patients", "2000", "--bootstraps", "2", "--folds", "3", "--lambdas", "3")
    for name in ("table1", "posthoc", "prevalence_by_decade", "lasso", "associations", "total"):
        assert re.search(rf"^{name} +\d+\.\d s", out, re.MULTILINE), (name, out)


def test_onboarding_benchmark_approves_nothing_wrong():
    out = bench("onboarding.py", "--patients", "40")
    present = re.search(r"^variables the files have: (\d+), approved and right ([\d.]+)%", out, re.MULTILINE)
    # 4 demo centres x (13 clinical + 9 grading columns), the German workbook's 13 + 7, REDCap's 10 (raw and
    # label export) and the SPSS file's 7 (tests/onboard_corpus.py)
    assert int(present[1]) == 4 * (13 + 9) + 13 + 7 + 2 * 10 + 7 and float(present[2]) >= 90
    assert re.findall(r"wrong approvals: (\d+)", out) == ["0", "0"], out
