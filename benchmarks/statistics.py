"""Benchmark: the five statistics outputs on a large synthetic cohort.

    .venv/bin/python benchmarks/statistics.py [--patients 100000] [--bootstraps 20] [--folds 5] [--lambdas 15]

Builds analysis-shaped tables in memory (demo_tables.simulate_cohort + derived, as
tests/stats_cohort.py does), writes them as parquet to a temporary folder, runs each output's
write() and prints the wall time per output and in total.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# This file's name shadows the standard library's `statistics` (which seaborn, under scikit-posthocs, imports)
# when Python puts the script's folder first on sys.path: replace that entry by the tests folder.
sys.path[:] = [str(REPO / "tests")] + [p for p in sys.path if Path(p or ".").resolve() != REPO / "benchmarks"]

from spinestudy import study  # noqa: E402
from spinestudy.stats import (
    associations,  # noqa: E402
    lasso,
    posthoc,
    prevalence,
    table1,
)
from stats_cohort import cohort  # noqa: E402

STUDY = study.path_of(study.DEFAULT)  # the demo cohort is RuDDS's


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--bootstraps", type=int, default=20)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--lambdas", type=int, default=15)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    settings = {"alpha": 0.003, "binary_test": "kruskal", "posthoc": {"alpha": 0.005, "p_adjust": "holm"},
                "lasso": {"rule": "lambda.min", "folds": args.folds, "n_lambdas": args.lambdas,
                          "bootstraps": args.bootstraps, "seed": args.seed}}
    start = time.perf_counter()
    analysis, long, _ = cohort(args.patients, args.seed)
    print(f"cohort of {args.patients} patients ({len(long)} levels): {time.perf_counter() - start:.1f} s (not counted)")
    with tempfile.TemporaryDirectory() as tmp:
        a, g = Path(tmp) / "analysis.parquet", Path(tmp) / "gradings_long.parquet"
        analysis.to_parquet(a, index=False)
        long.to_parquet(g, index=False)
        outputs = {
            "table1": lambda out: table1.write(a, g, STUDY, settings, out),
            "posthoc": lambda out: posthoc.write(a, g, STUDY, settings, out),
            "prevalence_by_decade": lambda out: prevalence.write(a, g, STUDY, settings, out),
            "lasso": lambda out: lasso.write(a, STUDY, settings, out),
            "associations": lambda out: associations.write(a, STUDY, settings, out),
        }
        total = 0.0
        for name, run in outputs.items():
            t0 = time.perf_counter()
            run(Path(tmp) / f"{name}.csv")
            took = time.perf_counter() - t0
            total += took
            print(f"{name:22s} {took:7.1f} s")
    print(f"{'total':22s} {total:7.1f} s  (lasso: {args.folds} folds x {args.lambdas} lambdas, "
          f"{args.bootstraps} bootstraps)")


if __name__ == "__main__":
    main()
