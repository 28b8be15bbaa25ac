"""Benchmark: Snakemake DAG construction (dry run) for synthetic studies of 1,000 and 10,000 patients.

Each patient folder holds three series (one placeholder file each: a dry run reads no file) and a mask;
two centres share the patients; the robustness re-extraction runs on a share of them, as a large study
would configure it (radiomics_stats.robustness.sample). Each study is planned with the default batching
(batch_digits auto) unless --batch-digits names others (12: one job per patient; 2: at most 256 batches
per centre). The generated config replaces config/config.yaml (--replace-workflow-config). Prints the jobs
per batch stage and in total, the dry run's wall and CPU time and jobs per second.
Target: <= 10 s for 10,000 patients.
Run: .venv/bin/python benchmarks/dag.py [--patients 1000 10000] [--batch-digits auto 12 2] [--robustness-sample 0.1]
"""

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
TABLES = {"clinical", "gradings", "gradings_reader2", "gradings_repeat", "gradings_consensus"}


def study(root: Path, patients: int, base: dict, sample: float, batch_digits: int | str) -> Path:
    """A scratch working directory with `patients` patient folders over centres A and B and its config."""
    centres = {}
    for centre in ("A", "B"):
        dicom, masks = root / centre / "dicom", root / centre / "masks"
        masks.mkdir(parents=True)
        for i in range(patients // 2):
            folder = dicom / f"{centre}{i:05d}"
            for series in ("t1", "t2", "stir"):
                (folder / series).mkdir(parents=True)
                (folder / series / "IM0001.dcm").touch()
            (masks / f"{centre}{i:05d}.nii.gz").touch()
        centres[centre] = base["centres"][centre] | {"dicom": str(dicom), "masks": str(masks / "{id}.nii.gz")}
        for table in TABLES & set(base["centres"][centre]):  # every table the demo centre sends, empty
            path = root / centre / Path(base["centres"][centre][table]["path"]).name
            path.touch()
            centres[centre][table] = base["centres"][centre][table] | {"path": str(path)}
    (root / "config").symlink_to(REPO / "config")  # parameter files and label table, relative in the config
    stats = base["radiomics_stats"] | {"robustness": base["radiomics_stats"]["robustness"] | {"sample": sample}}
    (root / "config.yaml").write_text(yaml.safe_dump(base | {"cohort": "own", "centres": centres,
                                                              "radiomics_stats": stats, "batch_digits": batch_digits}))
    return root


def dry_run(workdir: Path) -> tuple[float, float, dict[str, int]]:
    """Wall and CPU time (user + system; on a loaded machine the wall time is longer) of `snakemake --dry-run`
    and its job counts (rule -> jobs, and "total")."""
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory",
               str(workdir), "--configfile", str(workdir / "config.yaml"), "--replace-workflow-config", "--cores", "2",
               "--dry-run", "--quiet", "rules"]
    start, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(command, capture_output=True, text=True, env=os.environ | {"SPINESTUDY_PSEUDONYM_KEY": "bench"})
    seconds, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if result.returncode:
        sys.exit(result.stdout[-3000:] + result.stderr[-3000:])
    table = result.stdout.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    return seconds, cpu, {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.MULTILINE)}


def digits(value: str) -> int | str:
    """A --batch-digits value: auto or a number of digits."""
    return value if value == "auto" else int(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--batch-digits", type=digits, nargs="+", default=["auto"], help="config batch_digits")
    parser.add_argument("--robustness-sample", type=float, default=0.1, help="share of patients re-extracted")
    args = parser.parse_args()
    base = yaml.safe_load((REPO / "config/config.yaml").read_text())
    print(f"robustness re-extraction on {args.robustness_sample:.0%} of the patients")
    print(f"{'patients':>9} {'batch_digits':>13} {'ingest':>7} {'radiomics':>10} {'robustness':>11} {'jobs':>7}"
          f" {'dry run (s)':>12} {'CPU (s)':>8} {'jobs/s':>8}")
    for n in args.patients:
        for setting in args.batch_digits:
            with tempfile.TemporaryDirectory() as tmp:
                seconds, cpu, jobs = dry_run(study(Path(tmp), n, base, args.robustness_sample, setting))
            stages = (jobs["ingest_batch"], jobs["radiomics_batch"], jobs.get("radiomics_robustness_batch", 0))
            print(f"{n:>9} {setting:>13} {stages[0]:>7} {stages[1]:>10} {stages[2]:>11} {jobs['total']:>7}"
                  f" {seconds:>12.1f} {cpu:>8.1f} {jobs['total'] / seconds:>8.0f}")


if __name__ == "__main__":
    main()
