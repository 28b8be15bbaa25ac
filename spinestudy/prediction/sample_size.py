"""Minimum sample size for developing a prediction model (Riley et al. 2019 Stat Med 38:1262 and 1276; BMJ 2020
368:m441), criterion by criterion as R's pmsampsize 1.1.1 computes them.

Binary outcome: (1) expected uniform shrinkage >= S, (2) apparent and adjusted Nagelkerke R2 within 0.05,
(3) the overall risk within +/- 0.05. Continuous outcome: (1) shrinkage >= S, (2) apparent and adjusted R2 within
0.05, (3) the residual SD within a multiplicative margin of error (MMOE), (4) the mean outcome (intercept) within
the MMOE. Two departures from pmsampsize 1.1.1, both fixed in its 1.1.2: criterion 4 uses the residual variance
SD^2 (1 - R2) and a positive t quantile while searching (1.1.1 used SD and flipped the sign inside its loop, so the
search stopped after one step), and criterion 2 rounds up. Criterion 3 searches from p + 2 rather than from 234,
so an MMOE other than 1.1 gives the smallest n (the same n, 234 + p, for the default).
"""

import numpy as np
import pandas as pd
from scipy import integrate, special, stats

Z_INTERCEPT = 1.96  # pmsampsize's fixed normal quantile for criterion 3 (binary)


def max_r2_cs(prevalence: float) -> float:
    """Largest Cox-Snell R2 a binary outcome with this prevalence allows (Riley 2019, equation 23)."""
    null_loglik = prevalence * np.log(prevalence) + (1 - prevalence) * np.log(1 - prevalence)
    return 1 - np.exp(2 * null_loglik)


def r2_cs_from_c(c_statistic: float, prevalence: float) -> float:
    """Cox-Snell R2 implied by a C statistic (Riley et al. 2021 Stat Med 40:859), computed exactly.

    pmsampsize simulates one million linear predictors, N(0, 1) without and N(mu, 1) with the outcome,
    mu = sqrt(2) Phi^-1(C), and fits a logistic calibration model; for two normals of equal variance that model
    is exactly logit p = log(prevalence / (1 - prevalence)) + mu x - mu^2 / 2, so its expected log-likelihood is an
    integral, here evaluated by quadrature (no simulation noise, no seed).
    """
    if not 0.5 < c_statistic < 1:
        raise ValueError(f"c_statistic must lie in (0.5, 1), not {c_statistic}")
    mu = np.sqrt(2) * stats.norm.ppf(c_statistic)
    offset = np.log(prevalence / (1 - prevalence)) - mu**2 / 2

    def expected(centre: float, sign: int) -> float:
        return integrate.quad(lambda x: stats.norm.pdf(x, centre) * special.log_expit(sign * (offset + mu * x)),
                              -np.inf, np.inf)[0]

    loglik = prevalence * expected(mu, 1) + (1 - prevalence) * expected(0.0, -1)
    null_loglik = prevalence * np.log(prevalence) + (1 - prevalence) * np.log(1 - prevalence)
    return 1 - np.exp(-2 * (loglik - null_loglik))


def binary(parameters: int, prevalence: float, r2_cs: float | None = None, r2_nagelkerke: float | None = None,
           c_statistic: float | None = None, shrinkage: float = 0.9) -> pd.DataFrame:
    """Rows criterion 1-3 and final: n, shrinkage, events, events per parameter (EPP) and the R2 assumed.

    The anticipated performance is given as exactly one of the Cox-Snell R2 (adjusted, or from an external
    validation), Nagelkerke's R2, or a C statistic.
    """
    if not 0 < prevalence < 1:
        raise ValueError(f"prevalence must lie in (0, 1), not {prevalence}")
    given = {"r2_cs": r2_cs, "r2_nagelkerke": r2_nagelkerke, "c_statistic": c_statistic}
    if sum(v is not None for v in given.values()) != 1:
        raise ValueError(f"give exactly one of {', '.join(given)} (got {given})")
    top = max_r2_cs(prevalence)
    if r2_nagelkerke is not None:
        r2_cs = r2_nagelkerke * top
    elif c_statistic is not None:
        r2_cs = r2_cs_from_c(c_statistic, prevalence)
    if not 0 < r2_cs < top:
        raise ValueError(f"Cox-Snell R2 {r2_cs:.4g} must lie in (0, {top:.4g}), the maximum for prevalence "
                         f"{prevalence} (Riley et al. 2019, equation 23)")
    if not r2_cs < shrinkage < 1:
        raise ValueError(f"shrinkage must lie in (R2 = {r2_cs:.4g}, 1), not {shrinkage}")

    def n_for(target: float) -> int:  # Riley 2019 Part II, equation 11
        return int(np.ceil(parameters / ((target - 1) * np.log(1 - r2_cs / target))))

    small_difference = r2_cs / (r2_cs + 0.05 * top)
    sizes = [n_for(shrinkage), n_for(small_difference),
             int(np.ceil((Z_INTERCEPT / 0.05) ** 2 * prevalence * (1 - prevalence)))]
    sizes.append(max(sizes))
    worst = max(shrinkage, small_difference)
    out = pd.DataFrame({"criterion": ["shrinkage", "optimism", "intercept", "final"], "n": sizes,
                        "shrinkage": [shrinkage, small_difference, worst, worst], "parameters": parameters,
                        "prevalence": prevalence, "r2_cs": r2_cs, "max_r2_cs": top, "r2_nagelkerke": r2_cs / top,
                        "c_statistic": c_statistic})
    out["events"] = out["n"] * prevalence
    out["epp"] = out["events"] / parameters
    return out


def continuous(parameters: int, r2: float, intercept: float, sd: float, shrinkage: float = 0.9,
               mmoe: float = 1.1) -> pd.DataFrame:
    """Rows criterion 1-4 and final: n, expected shrinkage at that n, subjects per parameter (SPP), and the
    intercept's 95% CI at the final n."""
    if not 0 < r2 < 1:
        raise ValueError(f"r2 must lie in (0, 1), not {r2}")
    if intercept == 0 or sd <= 0 or mmoe <= 1:
        raise ValueError(f"intercept must be non-zero, sd and mmoe - 1 positive (got {intercept}, {sd}, {mmoe})")
    p = parameters

    def expected_shrinkage(n):  # Riley 2019 Part I, equation 12, apparent R2 from the adjusted one
        n = np.asarray(n, dtype=float)
        apparent = (r2 * (n - p - 1) + p) / (n - 1)
        return 1 + (p - 2) / (n * np.log(1 - apparent))

    def residual_mmoe(n):
        df = np.asarray(n, dtype=float) - p - 1
        return np.sqrt(np.maximum(df / stats.chi2.ppf(0.025, df), stats.chi2.ppf(0.975, df) / df))

    n1 = smallest(lambda n: expected_shrinkage(n) >= shrinkage, p + 2)
    n2 = int(np.ceil(1 + p * (1 - r2) / 0.05))
    n3 = smallest(lambda n: residual_mmoe(n) <= mmoe, p + 2)

    def half_width(n):
        n = np.asarray(n, dtype=float)
        return stats.t.ppf(0.975, n - p - 1) * np.sqrt(sd**2 * (1 - r2) / n)

    n4 = smallest(lambda n: (abs(intercept) + half_width(n)) / abs(intercept) <= mmoe, max(n1, n2, n3))
    sizes = [n1, n2, n3, n4, max(n1, n2, n3, n4)]
    out = pd.DataFrame({"criterion": ["shrinkage", "optimism", "residual_sd", "intercept", "final"], "n": sizes,
                        "shrinkage": expected_shrinkage(sizes), "parameters": p, "r2": r2, "spp": np.divide(sizes, p),
                        "intercept": intercept, "sd": sd})
    width = half_width(sizes[-1])
    return out.assign(intercept_ci_low=intercept - width, intercept_ci_high=intercept + width)


def smallest(ok, start: int) -> int:
    """Smallest integer n >= start with ok(n) (ok vectorised over a numpy array, monotone in n)."""
    low, chunk = start, 256
    while low < start + 10**8:
        hits = np.flatnonzero(ok(np.arange(low, low + chunk)))
        if len(hits):
            return int(low + hits[0])
        low, chunk = low + chunk, chunk * 2
    raise ValueError(f"no sample size below {start + 10**8} meets the criterion")
