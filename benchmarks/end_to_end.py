"""Benchmark: the whole demo workflow end to end in a scratch directory (what `make run` does).

Prints wall time, CPU time of all jobs (user + system of Snakemake and its children) and the parallel
efficiency CPU / (wall x cores); target >= 0.8. Run: .venv/bin/python benchmarks/end_to_end.py [--cores 2]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=os.cpu_count())
    parser.add_argument("--patients", type=int, help="demo patients (default: the config's)")
    args = parser.parse_args()
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    if args.patients:
        config["demo"]["patients"] = args.patients
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "config").mkdir()
        for name in ("labels.yaml", "radiomics"):
            os.symlink(REPO / "config" / name, work / "config" / name)
        (work / "config.yaml").write_text(yaml.safe_dump(config))
        command = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(work),
                   "--configfile", str(work / "config.yaml"), "--cores", str(args.cores), "--quiet", "all"]
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if result.returncode:
            sys.exit(result.stderr[-3000:])
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime
    print(f"demo patients         {config['demo']['patients']}")
    print(f"cores                 {args.cores}")
    print(f"wall time (s)         {wall:.0f}")
    print(f"CPU time (s)          {cpu:.0f}")
    print(f"parallel efficiency   {cpu / (wall * args.cores):.2f}")


if __name__ == "__main__":
    main()
