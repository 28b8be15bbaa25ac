"""Benchmark: bootstrap internal validation of a LASSO logistic model (issue 24's target: B = 200 on 5,000
patients with 20 candidate predictors in under 2 minutes on 2 cores).

    .venv/bin/python benchmarks/prediction.py [--patients 5000] [--predictors 20] [--bootstraps 200]
                                              [--method lasso] [--folds 10] [--penalties 20]

Simulates predictors and a binary outcome (five true effects), runs validation.validate and prints the wall
time in total and per replicate.
"""

import argparse
import time

import numpy as np
from scipy import special

from spinestudy.prediction import validation


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--predictors", type=int, default=20)
    parser.add_argument("--bootstraps", type=int, default=200)
    parser.add_argument("--method", default="lasso", choices=validation.METHODS)
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--penalties", type=int, default=20)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    x = rng.standard_normal((args.patients, args.predictors))
    y = (rng.random(args.patients) < special.expit(-1 + x[:, :5] @ np.full(5, 0.5))).astype(float)
    start = time.perf_counter()
    result = validation.validate(x, y, {"method": args.method, "bootstraps": args.bootstraps, "folds": args.folds,
                                        "n_penalties": args.penalties, "seed": 1})
    took = time.perf_counter() - start
    print(f"{args.method}, {args.patients} patients, {args.predictors} predictors, B = {args.bootstraps}: "
          f"{took:.1f} s ({took / (args.bootstraps + 1):.2f} s per development), {len(result.failures)} failed")
    print(result.table.to_string(index=False))


if __name__ == "__main__":
    main()
