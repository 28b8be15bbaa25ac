"""Modic classifier: nested cross-validation finds the planted (overlapping) shapes, stays at chance on noise and
on permuted labels, while the paper's protocol (selection on all data) reports accuracy that noise alone produces."""

import json

import numpy as np
import pandas as pd
import pytest

from radiomics_cohort import shape_cohort
from spinestudy.radiomics_stats import classifier as mc
from spinestudy.radiomics_stats import harmonisation
from spinestudy.radiomics_stats import shape as modic_shape

FAST = {"seed": 1, "classifier": {"C": [1.0, 10.0], "gamma": ["scale"], "bootstraps": 100}}


@pytest.fixture(scope="module")
def lesion_design():
    rows, _ = modic_shape.lesions(*shape_cohort())
    return mc.design(rows, FAST)


def test_nested_cv_finds_the_planted_shapes(lesion_design):
    x, y, groups, notes = lesion_design
    lasso, report = mc.run(x, y, groups, FAST)
    nested = report["nested"]["metrics"]
    assert report["class_counts"] == {"I": 34, "II": 62} and not notes
    # mixed type I/II lesions (phantom.FATTY_SHARE_BETA): realistic, not perfect separation
    assert 0.7 < nested["balanced_accuracy"]["estimate"] < 0.92 and nested["balanced_accuracy"]["ci_low"] > 0.5
    assert 0.75 < nested["auc_macro"]["estimate"] < 0.97
    paper = report["paper"]["metrics"]
    assert paper["balanced_accuracy"]["estimate"] > nested["balanced_accuracy"]["estimate"]  # selection on all data
    assert not lasso.empty and (lasso["coefficient"] != 0).all() and lasso["target"].eq("II").all()
    assert set(lasso["feature"]) == set(report["paper"]["selected_features"])
    assert sum(map(sum, report["nested"]["confusion_matrix"]["matrix"])) == len(y)
    assert all(0 < share <= 1 for share in report["nested"]["selection_frequency"].values())


def test_nested_cv_is_at_chance_on_permuted_labels(lesion_design):
    x, y, groups, _ = lesion_design
    permuted = np.random.default_rng(5).permutation(y)
    _, report = mc.run(x, permuted, groups, FAST)
    assert abs(report["nested"]["metrics"]["balanced_accuracy"]["estimate"] - 0.5) < 0.15
    assert report["nested"]["metrics"]["balanced_accuracy"]["ci_low"] < 0.5


def test_selection_on_all_data_overfits_noise_that_nested_cv_exposes():
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(60, 2000)), columns=[f"T1_original_firstorder_F{i}" for i in range(2000)])
    y, groups = np.repeat([1, 2], 30), np.array([f"p{i}" for i in range(60)])
    _, report = mc.run(x, y, groups, FAST)
    paper, nested = (report[k]["metrics"]["balanced_accuracy"]["estimate"] for k in ("paper", "nested"))
    assert paper > 0.8 and abs(nested - 0.5) < 0.15
    assert report["accuracy"]["paper"] > report["accuracy"]["nested"]


def test_too_few_lesions_are_reported_not_estimable(tmp_path):
    features, gradings = shape_cohort()
    rows, _ = modic_shape.lesions(features, gradings)
    few = rows[(rows["modic"] == 2) | (rows.index == rows.index[rows["modic"] == 1][0])]
    lasso, report = mc.run(*mc.design(few, FAST)[:3], FAST)
    assert lasso.empty and report["notes"][0].startswith("not estimable")
    features[features["patient"] == "p000"].to_parquet(tmp_path / "f.parquet")
    gradings.to_parquet(tmp_path / "g.parquet")
    mc.write(tmp_path / "f.parquet", tmp_path / "f.parquet", tmp_path / "g.parquet", FAST, tmp_path / "lasso.csv",
             tmp_path / "clf.json")
    assert json.loads((tmp_path / "clf.json").read_text())["notes"][-1].startswith("not estimable")
    assert pd.read_csv(tmp_path / "lasso.csv").columns.tolist() == mc.LASSO_COLUMNS


def test_whole_cohort_combat_inflates_a_centre_confounded_estimate_that_in_fold_combat_does_not():
    """No lesion feature carries the Modic type; centre A shifts every feature and holds 85% of the type II
    lesions. ComBat on all lesions with the type as covariate (the paper's harmonisation) makes the labels
    predictable (Nygaard et al., Biostatistics 2016: batch adjustment with an unbalanced group covariate);
    ComBat fitted inside each training fold, without labels, leaves them at chance."""
    pytest.importorskip("inmoose")
    rng = np.random.default_rng(4)
    n, p = 120, 200
    centre = np.repeat(["A", "B"], n // 2)
    y = np.where(centre == "A", rng.random(n) < 0.85, rng.random(n) < 0.15).astype(int) + 1
    x = pd.DataFrame(rng.normal(size=(n, p)) + (centre == "A")[:, None] * rng.normal(0, 2, p),
                     columns=[f"T2_original_firstorder_F{i}" for i in range(p)])
    groups = np.array([f"{c}/p{i:03d}" for i, c in enumerate(centre)])
    settings = FAST | {"harmonisation": {"enabled": True}}
    rows = x.assign(centre=centre, patient=groups, modic=y)
    harmonised, note = harmonisation.harmonise(rows, settings)
    assert note == ""
    whole = mc.run(harmonised[x.columns], y, groups, settings)[1]["nested"]["metrics"]["balanced_accuracy"]
    in_fold = mc.run(x, y, groups, settings, in_fold_combat=True)[1]["nested"]["metrics"]["balanced_accuracy"]
    assert whole["estimate"] > 0.6 and abs(in_fold["estimate"] - 0.5) < 0.12
    assert whole["estimate"] - in_fold["estimate"] > 0.1


def test_centre_combat_learns_on_training_rows_and_drops_the_centre_column():
    rng = np.random.default_rng(3)
    centre = np.repeat([0.0, 1.0], 30)
    values = rng.normal(size=(60, 4)) * np.where(centre == 0, 1.0, 2.0)[:, None] + 5 * centre[:, None]
    x = np.column_stack([centre, values])
    step = harmonisation.CentreComBat().fit(x[::2])
    out = step.transform(x[1::2])
    assert out.shape == (30, 4)
    means = pd.DataFrame(out).groupby(centre[1::2]).mean()
    assert (means.diff().iloc[1].abs() < 1.0).all()  # a 5-unit centre shift removed from unseen rows
    assert step.get_feature_names_out(["centre", "a", "b", "c", "d"]).tolist() == ["a", "b", "c", "d"]
    unseen = np.column_stack([np.full(3, 7.0), values[:3]])  # a centre the training rows did not have
    np.testing.assert_array_equal(step.transform(unseen), values[:3])
