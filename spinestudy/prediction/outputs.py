"""One prediction model from the analysis table (config `prediction:`, one entry under `models:`), written to
results/prediction/<model>/: sample size, apparent and optimism-corrected performance, the full model, the
decision curve, the failed bootstrap replicates, the calibration curve and the performance per centre.

Binary outcomes, complete cases: patients without the outcome or a predictor are counted in sample_size.csv
(`incomplete`), never dropped unseen.
"""

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special

from spinestudy.prediction import TABLES, calibration, centres, decision_curve, performance, sample_size, validation

ASSUMED = ("r2_cs", "r2_nagelkerke", "c_statistic")
PERFORMANCE_EXTRA = ["ci_low", "ci_high", "bootstraps", "failed"]
COEFFICIENTS = ["term", "coef", "odds_ratio", "selected_share", "method", "penalty_C"]


def write(analysis: Path, settings: dict, out_sample_size: str, out_performance: str, out_coefficients: str,
          out_decision_curve: str, out_failures: str, out_calibration: str, out_centres: str) -> None:
    """Fit and validate the model settings["model"] names and write its TABLES."""
    tables = build(pd.read_parquet(analysis), settings)
    for name, out in zip(TABLES, (out_sample_size, out_performance, out_coefficients, out_decision_curve,
                                  out_failures, out_calibration, out_centres)):
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        tables[name].to_csv(out, index=False)


def build(patients: pd.DataFrame, settings: dict) -> dict[str, pd.DataFrame]:
    """The TABLES of one model; settings are the `prediction` section with `model` naming the entry."""
    spec = settings["models"][settings["model"]]
    columns = [spec["outcome"], *spec["predictors"]]
    missing = [c for c in ["centre", *columns] if c not in patients]
    if missing:
        raise ValueError(f"prediction model {settings['model']}: analysis table has no column {missing}")
    try:
        data = patients[columns].astype(float)
    except (TypeError, ValueError) as error:
        raise ValueError(f"prediction model {settings['model']}: a column of {columns} is not numeric: {error}")
    complete = data.dropna()
    y, x = complete[spec["outcome"]].to_numpy(), complete[spec["predictors"]].to_numpy()
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"prediction model {settings['model']}: outcome {spec['outcome']} is not binary (0/1)")
    size = needed(spec, y, len(data) - len(complete))
    events = int(y.sum())
    if min(events, len(y) - events) < settings["min_events"]:
        return not_estimable(size, spec, f"{events} with and {len(y) - events} without {spec['outcome']} "
                                         f"(< {settings['min_events']}) among {len(y)} complete cases")
    cfg = {k: settings[k] for k in ("bootstraps", "seed", "folds", "n_penalties", "lambda_ratio", "l1_ratio")}
    try:
        result = validation.validate(x, y, cfg | {"method": spec["method"]})
    except (ValueError, np.linalg.LinAlgError, *validation.FAILURES) as error:
        return not_estimable(size, spec, f"the model cannot be developed: {type(error).__name__}: {error}")
    lp = result.model.linear_predictor(x)
    risk = special.expit(lp)
    return {"sample_size": size, "performance": performance_table(result, y, lp, settings),
            "coefficients": coefficients(result, spec),
            "decision_curve": decision_curve.table(y, risk, decision_curve.thresholds(settings["thresholds"])),
            "failures": result.failures,
            "calibration": calibration.table(result.grid, result.curves, y, risk, settings["confidence"]),
            "centres": centres.table(patients.loc[complete.index, "centre"], y, lp, settings["min_events"],
                                     settings["confidence"])}


def not_estimable(size: pd.DataFrame, spec: dict, reason: str) -> dict[str, pd.DataFrame]:
    """The sample-size table, and the other tables' rows without values, each saying why."""
    note = f"not estimable: {reason}"
    return {"sample_size": size,
            "performance": pd.DataFrame({"measure": performance.BINARY}).reindex(
                columns=["measure", *validation.COLUMNS, *PERFORMANCE_EXTRA]).assign(note=note),
            "coefficients": pd.DataFrame({"term": ["intercept", *spec["predictors"]]}).reindex(
                columns=COEFFICIENTS).assign(method=spec["method"], note=note),
            "decision_curve": pd.DataFrame(columns=decision_curve.COLUMNS),
            "failures": pd.DataFrame(columns=["replicate", "reason"]),
            "calibration": pd.DataFrame(columns=calibration.COLUMNS),
            "centres": pd.DataFrame(columns=centres.COLUMNS)}


def needed(spec: dict, y: np.ndarray, incomplete: int) -> pd.DataFrame:
    """pmsampsize's criteria for the anticipated performance and prevalence (default: the observed one), next
    to the complete cases and events available."""
    assumed = spec["sample_size"]
    events = int(y.sum())
    available = {"n_available": len(y), "events_available": events,
                 "epp_available": events / len(spec["predictors"]), "incomplete": incomplete}
    prevalence = assumed.get("prevalence") or (events / len(y) if len(y) else 0.0)
    if not 0 < prevalence < 1:
        return pd.DataFrame([available | {"note": f"no sample size: observed prevalence {prevalence:.3g} and none "
                                                  "configured (sample_size: prevalence)"}])
    out = sample_size.binary(len(spec["predictors"]), prevalence, shrinkage=assumed["shrinkage"],
                             **{k: assumed[k] for k in ASSUMED if k in assumed})
    return out.assign(**available, enough=len(y) >= out["n"], note="")


def performance_table(result: validation.Validation, y: np.ndarray, lp: np.ndarray, settings: dict) -> pd.DataFrame:
    """rms::validate's table, the apparent C statistic's CI, and the replicates that failed."""
    _, low, high = performance.c_statistic_ci(y, special.expit(lp), settings["confidence"])
    table = result.table.assign(ci_low=np.nan, ci_high=np.nan, bootstraps=settings["bootstraps"],
                                failed=len(result.failures), note="")
    table.loc[table["measure"] == "c_statistic", ["ci_low", "ci_high"]] = low, high
    return table


def coefficients(result: validation.Validation, spec: dict) -> pd.DataFrame:
    """Intercept and every coefficient on the predictors' own scale, odds ratios, bootstrap selection share."""
    model = result.model
    return pd.DataFrame({"term": ["intercept", *spec["predictors"]], "coef": np.r_[model.intercept, model.coef],
                         "odds_ratio": np.exp(np.r_[model.intercept, model.coef]),
                         "selected_share": np.r_[np.nan, result.selected], "method": spec["method"],
                         "penalty_C": model.penalty, "note": ""})
