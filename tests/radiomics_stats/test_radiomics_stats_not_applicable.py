"""A tables-only study (no centre sends images): every radiomics statistic writes its outputs with one
"not applicable" note instead of failing (issue 23), while a feature table that has features keeps its own
per-feature notes."""

import json

import pandas as pd
import pytest

from radiomics_cohort import tables_only_inputs
from spinestudy import applicable
from spinestudy.radiomics.extract import KEYS
from spinestudy.radiomics_stats import classifier, correlations, harmonisation, icc, screen
from spinestudy.radiomics_stats import shape as modic_shape


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return tables_only_inputs(tmp_path_factory.mktemp("tables_only"))


@pytest.fixture
def settings(config):
    return config["radiomics_stats"]


def assert_one_note(path, columns):
    """One row whose note is the not-applicable reason, every other cell empty, the usual columns."""
    table = pd.read_csv(path)
    assert len(table) == 1 and table["note"].item() == applicable.NO_FEATURES, table
    assert table.drop(columns="note").isna().all().all()
    assert list(table.columns) == list(dict.fromkeys([*columns, "note"]))


def test_the_cohort_has_lesions_only_images_could_show(inputs):
    features, gradings = (pd.read_parquet(inputs[k]) for k in ("features", "gradings_long"))
    assert len(features) == 0 and list(features.columns) == KEYS
    assert (gradings[["modic_upper", "modic_lower"]] > 0).any(axis=1).sum() > 20


def test_harmonisation_writes_an_empty_lesion_table_and_the_note(inputs, settings, tmp_path):
    harmonisation.write(inputs["features"], inputs["gradings_long"], settings, tmp_path / "lesions.parquet",
                        tmp_path / "combat.csv")
    assert len(pd.read_parquet(tmp_path / "lesions.parquet")) == 0
    diagnostic = pd.read_csv(tmp_path / "combat.csv")
    assert diagnostic[["stage", "kind"]].values.tolist() == [["before", "summary"]]
    assert diagnostic["note"].item() == applicable.NO_FEATURES and diagnostic["n_features"].item() == 0


def test_shape_tables_are_not_applicable(inputs, settings, tmp_path):
    modic_shape.write(inputs["features"], inputs["gradings_long"], settings, tmp_path / "shape.csv",
                      tmp_path / "dunn.csv")
    assert_one_note(tmp_path / "shape.csv", modic_shape.SHAPE_COLUMNS)
    assert_one_note(tmp_path / "dunn.csv", modic_shape.DUNN_COLUMNS)


def test_mann_whitney_screen_is_not_applicable(inputs, settings, tmp_path):
    screen.write(inputs["features"], inputs["gradings_long"], settings, tmp_path / "mwu.csv")
    assert_one_note(tmp_path / "mwu.csv", screen.MWU_COLUMNS)


def test_classifier_is_not_applicable(inputs, settings, tmp_path):
    classifier.write(inputs["features"], inputs["features"], inputs["gradings_long"], settings,
                     tmp_path / "lasso.csv", tmp_path / "classifier.json")
    assert json.loads((tmp_path / "classifier.json").read_text()) == {"note": applicable.NO_FEATURES}
    assert_one_note(tmp_path / "lasso.csv", classifier.LASSO_COLUMNS)


def test_correlations_are_not_applicable(inputs, settings, tmp_path):
    pd.DataFrame(columns=classifier.LASSO_COLUMNS).to_csv(tmp_path / "lasso.csv", index=False)  # nothing selected
    correlations.write(inputs["features"], inputs["gradings_long"], inputs["analysis"], tmp_path / "lasso.csv",
                       settings, tmp_path / "correlations.csv")
    assert_one_note(tmp_path / "correlations.csv", correlations.COLUMNS)


def test_icc_is_not_applicable_without_perturbed_rows(settings, tmp_path):
    icc.write([], settings, tmp_path / "icc.csv")  # no centre sends images: no batch is re-extracted
    assert_one_note(tmp_path / "icc.csv", icc.COLUMNS)
    empty = tmp_path / "batch.parquet"  # a batch whose patients have no lesion ROI
    pd.DataFrame(columns=[*KEYS, "perturbation"]).to_parquet(empty)
    icc.write([empty], settings, tmp_path / "icc_batch.csv")
    assert_one_note(tmp_path / "icc_batch.csv", icc.COLUMNS)


def test_features_without_a_graded_lesion_are_not_called_not_applicable():
    """Features were extracted (discs) but no lesion is graded: the tables say why per feature, no note."""
    features = pd.DataFrame({"centre": ["A"], "patient": ["p1"], "label": ["10"], "structure": ["L1-L2 disc"],
                             "T2_original_shape_VoxelVolume": [950.0]})
    gradings = pd.DataFrame({"patient": ["p1"], "level": ["L1-L2"], "modic_upper": [0], "modic_lower": [0]})
    rows, _ = modic_shape.lesions(features, gradings)
    shape = modic_shape.shape_table(rows, {})
    assert shape["feature"].tolist() == ["VoxelVolume"] and not applicable.note(shape)
    assert shape["note"].item() == "no Modic lesion with a graded type"
