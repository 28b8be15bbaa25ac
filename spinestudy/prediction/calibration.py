"""Flexible calibration curve of a binary-outcome model with its bootstrap optimism correction (Harrell's
rms::calibrate; Austin & Steyerberg 2014 Stat Med 33:517), from the curves validation.validate collects.

At each grid point of predicted risk: the apparent curve (lowess of the outcome on the apparent predictions,
performance.calibration_curve), a pointwise percentile band (the apparent model's curve over the bootstrap
samples of the successful replicates: the sampling variability of the curve, the model held fixed), the
optimism (mean over the replicates of the refitted model's curve in its bootstrap sample minus its curve in the
original sample) and the corrected curve (apparent minus optimism, clipped to [0, 1]). The distribution of the
predicted risks per outcome class: patients counted at their nearest grid point.
"""

import warnings

import numpy as np
import pandas as pd

from spinestudy.prediction import performance

COLUMNS = ["predicted", "apparent", "ci_low", "ci_high", "optimism", "corrected", "replicates", "with_outcome",
           "without_outcome", "note"]


def table(grid: np.ndarray, curves: dict[str, np.ndarray], y: np.ndarray, risk: np.ndarray,
          confidence: float = 0.95) -> pd.DataFrame:
    """One row per grid point (COLUMNS); `replicates` counts those whose curves are defined there."""
    y, risk = np.asarray(y, dtype=float), np.asarray(risk, dtype=float)
    apparent = performance.calibration_curve(y, risk, grid)
    gap = curves["training"] - curves["test"]
    defined = ~np.isnan(gap) & ~np.isnan(curves["resampled"])
    counts = defined.sum(axis=0)
    with warnings.catch_warnings():  # a grid point without a defined curve is NaN, noted
        warnings.simplefilter("ignore", RuntimeWarning)
        optimism = np.nanmean(np.where(defined, gap, np.nan), axis=0)
    low, high = band(np.where(defined, curves["resampled"], np.nan), confidence)
    return pd.DataFrame({"predicted": grid, "apparent": apparent, "ci_low": low, "ci_high": high,
                         "optimism": optimism, "corrected": np.clip(apparent - optimism, 0, 1), "replicates": counts,
                         **histogram(grid, y, risk), "note": np.where(counts > 0, "", "no bootstrap curve here")})


def band(curves: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise percentile interval over the rows (NaN where no row is defined)."""
    tail = 100 * (1 - confidence) / 2
    out = np.full((2, curves.shape[1]), np.nan)
    some = (~np.isnan(curves)).any(axis=0)
    if some.any():
        out[:, some] = np.nanpercentile(curves[:, some], [tail, 100 - tail], axis=0)
    return out[0], out[1]


def histogram(grid: np.ndarray, y: np.ndarray, risk: np.ndarray) -> dict[str, np.ndarray]:
    """Patients with and without the outcome whose predicted risk is nearest to each grid point."""
    nearest = np.searchsorted((grid[1:] + grid[:-1]) / 2, risk)
    return {"with_outcome": np.bincount(nearest[y == 1], minlength=len(grid)),
            "without_outcome": np.bincount(nearest[y == 0], minlength=len(grid))}
