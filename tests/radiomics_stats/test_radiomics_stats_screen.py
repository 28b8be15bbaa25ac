"""Mann-Whitney screen (paper Figure 1) and the correlation filter against independent values."""

import numpy as np
import pandas as pd
import pingouin as pg
import pytest

from spinestudy.radiomics_stats import screen as fs


def _rows(rng, n1=14, n2=17):
    modic = np.repeat([1, 2], [n1, n2])
    return pd.DataFrame({"centre": "A", "patient": [f"p{i}" for i in range(n1 + n2)], "label": "25",
                         "structure": "L5 inferior endplate Modic lesion", "modic": modic,
                         "T1_original_firstorder_Mean": rng.normal(modic, 1.0),
                         "STIR_wavelet-LLH_glcm_Contrast": rng.normal(0, 1, n1 + n2).round(1),  # ties
                         "T2_original_shape_Flatness": 0.5})


def test_mann_whitney_matches_pingouin_and_keeps_sequence_and_image_type():
    rows = _rows(np.random.default_rng(0))
    out = fs.mwu_table(rows, {"contrast": [1, 2]}).set_index("feature")
    for feature in ("T1_original_firstorder_Mean", "STIR_wavelet-LLH_glcm_Contrast"):
        x, y = (rows.loc[rows["modic"] == t, feature] for t in (1, 2))
        expected = pg.mwu(x, y)
        assert out.loc[feature, "p"] == pytest.approx(expected["p_val"].iloc[0], rel=1e-9)
        assert out.loc[feature, "u"] == pytest.approx(expected["U_val"].iloc[0])
    assert out.loc["STIR_wavelet-LLH_glcm_Contrast", ["sequence", "image_type", "feature_class", "feature_name"]].tolist() \
        == ["STIR", "wavelet-LLH", "glcm", "Contrast"]
    assert np.isnan(out.loc["T2_original_shape_Flatness", "p"])
    assert out.loc["T2_original_shape_Flatness", "note"] == "constant across lesions: no test"
    assert not out.loc["T2_original_shape_Flatness", "significant"]


def test_mann_whitney_without_lesions_of_a_type_says_so():
    rows = _rows(np.random.default_rng(0))
    out = fs.mwu_table(rows[rows["modic"] == 2], {"contrast": [1, 2]})
    assert out["p"].isna().all() and (out["note"] == "no lesion of type I or II").all()


def test_correlation_filter_drops_the_feature_with_the_higher_mean_absolute_correlation():
    rng = np.random.default_rng(1)
    u, v, c = rng.normal(size=(3, 2000))
    a, hub, b = u + 0.4 * v, u, u - 0.4 * v  # r(a, hub) = r(b, hub) ~ 0.93, r(a, b) ~ 0.72
    x = np.column_stack([a, hub, b, c])
    r = np.abs(np.corrcoef(x, rowvar=False))
    assert r[0, 1] > 0.9 and r[1, 2] > 0.9 and r[0, 2] < 0.9
    keep = fs.CorrelationFilter(0.9).fit(x).get_support()
    assert keep.tolist() == [True, False, True, True]  # the hub goes; a and b then no longer collide
    assert fs.CorrelationFilter(0.99).fit(x).get_support().all()


def test_screen_keeps_significant_features_and_at_least_the_best_one():
    rng = np.random.default_rng(2)
    y = np.repeat([0, 1], 20)
    x = np.column_stack([y + rng.normal(0, 0.3, 40), rng.normal(size=40), rng.normal(size=40)])
    assert fs.UnivariateScreen(0.05).fit(x, y).get_support()[0]
    noise = fs.UnivariateScreen(1e-12).fit(x, y)
    assert noise.get_support().sum() == 1 and noise.get_support()[np.argmin(noise.pvalues_)]
    three = np.repeat([0, 1, 2], [10, 15, 15])
    v = three + rng.normal(0, 0.8, 40)
    kw = fs.UnivariateScreen().fit(v[:, None], three)
    expected = pg.kruskal(pd.DataFrame({"v": v, "g": three}), dv="v", between="g")["p_unc"].iloc[0]
    assert kw.pvalues_[0] == pytest.approx(expected, rel=1e-9)
