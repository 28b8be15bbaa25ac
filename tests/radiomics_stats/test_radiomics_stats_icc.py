"""Robustness: ICC(3,1) against Shrout & Fleiss (1979)."""

import pandas as pd
import pytest

from spinestudy.radiomics_stats import icc

# Shrout & Fleiss (1979), Table 2: six targets rated by four judges; ICC(3,1) = 0.71 (and ICC(1,1) = 0.17).
SHROUT_FLEISS = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]


def test_icc_3_1_reproduces_shrout_and_fleiss():
    rows = pd.DataFrame([{"centre": "A", "patient": f"p{t}", "label": "1", "structure": "lesion", "perturbation": j,
                          "T2_original_firstorder_Mean": float(v), "T2_original_firstorder_Median": 1.0}
                         for t, ratings in enumerate(SHROUT_FLEISS) for j, v in zip("abcd", ratings)])
    out = icc.icc_table(rows, {}).set_index("feature")
    assert out.loc["T2_original_firstorder_Mean", "icc"] == pytest.approx(0.71, abs=0.005)
    # R psych 2.2.9, ICC(SHROUT_FLEISS, lmer = FALSE): ICC3 lower and upper bound, printed with digits = 15
    assert out.loc["T2_original_firstorder_Mean", ["ci_low", "ci_high"]].tolist() == pytest.approx(
        [0.3424647650339254, 0.945858259955360], abs=1e-9)
    assert not out.loc["T2_original_firstorder_Mean", "robust"]  # 0.71 < 0.75
    assert out.loc["T2_original_firstorder_Median", "note"] == "constant: no ICC"
    few = icc.icc_table(rows[rows["patient"].isin(["p0", "p1"])], {})
    assert few["icc"].isna().all() and few["note"].str.contains("< 3").all()
