"""Decision curve analysis (Vickers & Elkin 2006 Med Decis Making 26:565; Vickers et al. 2019 Diagn Progn Res
3:18): net benefit of treating patients whose predicted risk reaches a threshold, against treating all and none.

At threshold t with odds w = t / (1 - t), net benefit = TP / n - FP / n * w (a patient is treated when the risk
is >= t, as dcurves does); treat all: prevalence - (1 - prevalence) * w; treat none: 0. Net interventions avoided
per 100 patients = 100 * (NB_model - NB_all) / w.
"""

import numpy as np
import pandas as pd

DEFAULTS = {"low": 0.01, "high": 0.99, "step": 0.01}
COLUMNS = ["threshold", "net_benefit_model", "net_benefit_all", "net_benefit_none", "avoided_per_100",
           "treated", "true_positives", "false_positives"]


def thresholds(settings: dict) -> np.ndarray:
    """Thresholds low, low + step, ..., high (both strictly inside (0, 1): net benefit is undefined at 1 and
    meaningless at 0)."""
    cfg = DEFAULTS | settings
    if not 0 < cfg["low"] <= cfg["high"] < 1 or cfg["step"] <= 0:
        raise ValueError(f"decision-curve thresholds need 0 < low <= high < 1 and step > 0, not {cfg}")
    count = int(np.floor((cfg["high"] - cfg["low"]) / cfg["step"] + 1e-9)) + 1
    return np.round(cfg["low"] + cfg["step"] * np.arange(count), 10)


def table(y: np.ndarray, risk: np.ndarray, at: np.ndarray) -> pd.DataFrame:
    """One row per threshold: net benefit of the model, treat all and treat none, and interventions avoided."""
    y, risk, at = np.asarray(y, dtype=float), np.asarray(risk, dtype=float), np.asarray(at, dtype=float)
    if len(y) != len(risk) or not np.isin(y, (0, 1)).all():
        raise ValueError("decision curve: one 0/1 outcome per predicted risk")
    if ((at <= 0) | (at >= 1)).any():
        raise ValueError("decision-curve thresholds must lie strictly between 0 and 1")
    treated = risk[None, :] >= at[:, None]
    tp = (treated & (y == 1)).sum(axis=1)
    fp = (treated & (y == 0)).sum(axis=1)
    n, odds, prevalence = len(y), at / (1 - at), y.mean()
    model = tp / n - fp / n * odds
    everyone = prevalence - (1 - prevalence) * odds
    return pd.DataFrame({"threshold": at, "net_benefit_model": model, "net_benefit_all": everyone,
                         "net_benefit_none": 0.0, "avoided_per_100": 100 * (model - everyone) / odds,
                         "treated": treated.sum(axis=1), "true_positives": tp, "false_positives": fp})
