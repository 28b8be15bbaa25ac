"""Benchmark: the whole demo workflow end to end in a scratch directory (what `make run` does).

Generates the demo cohort and runs every rule in a temporary working directory with the repository's
config (the repository's resources/ and results/ are not touched). Prints the wall time, the CPU time of
all jobs (user + system of Snakemake and its children), the parallel efficiency CPU / (wall x cores)
(target >= 0.8), the peak resident memory of the largest single process (a job or Snakemake itself) and
the size of results/. --patients, --imaging-patients and --params give a smaller run (tests use them).
Run: .venv/bin/python benchmarks/end_to_end.py [--cores 2] [--patients N] [--imaging-patients N] [--params FILE]
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def workdir(root: Path, args: argparse.Namespace) -> Path:
    """A scratch working directory holding the run's config, with the repository's label table and
    parameter files linked in (the config names them relative to the working directory)."""
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    config["demo"] |= {k: v for k, v in {"patients": args.patients, "imaging_patients": args.imaging_patients}.items()
                       if v}
    if args.params:
        config["radiomics"]["params"] = str(args.params.resolve())
    (root / "config").mkdir()
    for name in ("labels.yaml", "radiomics"):
        (root / "config" / name).symlink_to(REPO / "config" / name)
    (root / "config.yaml").write_text(yaml.safe_dump(config))
    return root


def run(work: Path, cores: int) -> float:
    """Wall time of `snakemake all` in work, with the config replacing config/config.yaml."""
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(work),
               "--configfile", str(work / "config.yaml"), "--replace-workflow-config", "--cores", str(cores),
               "--quiet", "all"]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if result.returncode:
        sys.exit(result.stdout[-3000:] + result.stderr[-3000:])
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=os.cpu_count())
    parser.add_argument("--patients", type=int, help="demo patients (default: the config's)")
    parser.add_argument("--imaging-patients", type=int, help="of whom with images (default: the config's)")
    parser.add_argument("--params", type=Path, help="PyRadiomics parameter file (default: the config's)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = workdir(Path(tmp), args)
        wall = run(work, args.cores)
        results = sum(p.stat().st_size for p in (work / "results").rglob("*") if p.is_file())
        demo = yaml.safe_load((work / "config.yaml").read_text())["demo"]
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # every process the run started, once it has ended
    cpu = usage.ru_utime + usage.ru_stime
    print(f"demo patients         {demo['patients']} ({demo.get('imaging_patients', 'all')} with images)")
    print(f"cores                 {args.cores}")
    print(f"wall time (s)         {wall:.0f}")
    print(f"CPU time (s)          {cpu:.0f}")
    print(f"parallel efficiency   {cpu / (wall * args.cores):.2f}")
    print(f"peak RSS (MiB)        {usage.ru_maxrss / 1024:.0f}")  # Linux: KiB, of the largest single process
    print(f"results/ (MiB)        {results / 2**20:.1f}")


if __name__ == "__main__":
    main()
