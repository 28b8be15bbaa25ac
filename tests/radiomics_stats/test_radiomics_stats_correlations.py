"""Correlations of lesion features with pain scores and age: values, BH adjustment, per-patient lesions."""

import numpy as np
import pandas as pd
import pingouin as pg
import pytest

from spinestudy.radiomics_stats import correlations as fc


def _data(n=12, seed=0):
    rng = np.random.default_rng(seed)
    shape = rng.normal(size=n)
    rows = pd.DataFrame({"centre": "A", "patient": [f"p{i}" for i in range(n)], "structure": "L5 lesion",
                         "modic": np.tile([1, 2, 3], n)[:n], "T2_original_shape_Sphericity": shape,
                         "T2_original_shape_VoxelVolume": 100.0, "T1_original_firstorder_Mean": rng.normal(size=n)})
    patients = pd.DataFrame({"centre": "A", "patient": rows["patient"], "odi_before": 30 + 10 * shape + rng.normal(0, 3, n),
                             "nprs_back_before": rng.integers(0, 11, n), "age": np.nan})
    return rows, patients


def test_correlations_match_pingouin_and_leave_out_unconfigured_types():
    rows, patients = _data()
    out = fc.table(rows, patients, ["T1_original_firstorder_Mean"], {"correlations": {"modic_types": [1, 2]}})
    kept = rows[rows["modic"] != 3].merge(patients)
    for method in ("spearman", "pearson"):
        row = out[(out["feature"] == "T2_original_shape_Sphericity") & (out["outcome"] == "odi_before")
                  & (out["method"] == method)].iloc[0]
        expected = pg.corr(kept["T2_original_shape_Sphericity"], kept["odi_before"], method=method)
        assert row["n"] == 8 and row["r"] == pytest.approx(expected["r"].iloc[0]) and row["p"] == pytest.approx(expected["p_val"].iloc[0])
    assert set(out["kind"]) == {"morphological", "selected"}
    age = out[out["outcome"] == "age"]
    assert age["r"].isna().all() and age["note"].str.startswith("0 patients").all()
    volume = out[(out["feature"] == "T2_original_shape_VoxelVolume") & (out["outcome"] != "age")]
    assert volume["p"].isna().all() and volume["note"].eq("constant over patients: no correlation").all()


def test_benjamini_hochberg_matches_a_hand_worked_example():
    # p = 0.01, 0.04, 0.03, 0.005 (m = 4): sorted 0.005, 0.01, 0.03, 0.04 -> x 4/1, 4/2, 4/3, 4/4
    # = 0.02, 0.02, 0.04, 0.04 (step-up minimum from the largest): in input order 0.02, 0.04, 0.04, 0.02
    assert fc.adjust(pd.Series([0.01, 0.04, 0.03, 0.005]), "fdr_bh") == pytest.approx([0.02, 0.04, 0.04, 0.02])


def test_largest_lesion_represents_a_patient():
    rows = pd.DataFrame({"centre": "A", "patient": ["p1", "p1", "p2"], "modic": [1, 2, 2],
                         "T2_original_shape_VoxelVolume": [10.0, 50.0, 5.0], "T2_original_shape_Sphericity": [0.1, 0.9, 0.5]})
    cfg = fc.DEFAULTS
    largest = fc.per_patient(rows, ["T2_original_shape_Sphericity"], cfg, "T2_original_shape_VoxelVolume")
    assert largest.set_index("patient")["T2_original_shape_Sphericity"].to_dict() == {"p1": 0.9, "p2": 0.5}
    mean = fc.per_patient(rows, ["T2_original_shape_Sphericity"], cfg | {"aggregate": "mean"}, "")
    assert mean.set_index("patient")["T2_original_shape_Sphericity"].to_dict() == pytest.approx({"p1": 0.5, "p2": 0.5})
