"""ComBat harmonisation: the centre effect diagnostic, and a clear 'not available' without inmoose."""

import numpy as np
import pandas as pd
import pytest

from spinestudy.radiomics_stats import harmonisation


def _rows(seed=0):
    rng = np.random.default_rng(seed)
    centre = np.repeat(["A", "B", "C"], 20)
    modic = np.tile([1, 2], 30)
    shift = pd.Series(centre).map({"A": 0.0, "B": 2.0, "C": -1.5}).to_numpy()
    features = {f"T1_original_firstorder_F{k}": rng.normal(modic + shift * (k % 2), 1.0) for k in range(10)}
    return pd.DataFrame({"centre": centre, "patient": [f"p{i}" for i in range(60)], "label": "25",
                         "structure": "L5 inferior endplate Modic lesion", "modic": modic, **features})


def test_diagnostic_counts_features_with_a_centre_difference_and_gives_pca_points():
    rows = _rows()
    out = harmonisation.diagnostic({"before": rows}, {}, "ComBat disabled in the configuration")
    summary = out[out["kind"] == "summary"].iloc[0]
    assert summary["n_features"] == 10 and summary["n_significant"] == 5 and summary["share_significant"] == 0.5
    assert (out["kind"] == "pca").sum() == 60 and out["note"].eq("ComBat disabled in the configuration").all()


def test_harmonise_reports_why_it_did_not_run():
    rows = _rows()
    same, note = harmonisation.harmonise(rows, {})
    assert same is rows and note == "ComBat disabled in the configuration"
    if not harmonisation.available():
        _, note = harmonisation.harmonise(rows, {"harmonisation": {"enabled": True}})
        assert note == "ComBat not available: inmoose is not installed"


def test_combat_removes_the_centre_effect_and_keeps_the_modic_effect():
    pytest.importorskip("inmoose")
    rows = _rows()
    after, note = harmonisation.harmonise(rows, {"harmonisation": {"enabled": True}})
    out = harmonisation.diagnostic({"before": rows, "after": after}, {}, note)
    share = out[out["kind"] == "summary"].set_index("stage")["share_significant"]
    assert note == "" and share["before"] == 0.5 and share["after"] == 0
    assert (after.groupby("modic")["T1_original_firstorder_F1"].mean().diff().iloc[-1]) > 0.5
