"""Study page, methods, provenance, checklist, figure rule entry point."""

import pytest

from spinestudy.config import REPO
from spinestudy.report import study as report
from test_figures import synthetic_inputs

RADIOMICS = REPO / "results" / "radiomics"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    paths = synthetic_inputs(tmp_path_factory.mktemp("inputs"))
    if (RADIOMICS / "diagnostics.parquet").is_file():
        paths["diagnostics"] = RADIOMICS / "diagnostics.parquet"
    return paths


def test_study_page_is_self_contained_and_deterministic(inputs, config, tmp_path):
    first = report.write_study(inputs, config, tmp_path / "a.html", commit="0" * 40, date="2024-01-01")
    second = report.write_study(inputs, config, tmp_path / "b.html", commit="0" * 40, date="2024-01-01")
    page = first.read_text()
    assert first.read_bytes() == second.read_bytes()
    assert page.count("Plotly.newPlot") == len(report.FIGURES) and "<script src=" not in page
    assert page.count("plotly.js v") == 1  # the library inlined once
    order = [page.index(f'id="{anchor}"') for anchor in ("fig-flow", "fig-prevalence", "table-prevalence", "table-table2",
                                                          "fig-forest", "fig-classifier")]
    assert order == sorted(order)
    assert "0" * 40 in page and "2024-01-01" in page and "plotly " in page and "pyradiomics " in page


def test_methods_follow_the_config(config, inputs):
    changed = config | {"stats": config["stats"] | {"alpha": 0.01, "transform": "box-cox"}}
    text = " ".join(report.methods(changed, inputs.get("diagnostics")))
    assert "P < 0.01" in text and "box-cox-transformed" in text
    assert f"{config['stats']['lasso']['folds']}-fold" in text and "Wilson" in text
    if "diagnostics" in inputs:
        assert "PyRadiomics v3.0.1" in text and "bin width of 25" in text and "native grid" in text


def test_radiomics_statistics_methods_are_prose_from_the_config(config):
    text = report.methods(config)[-1]
    c = config["radiomics_stats"]["classifier"]
    assert " = [" not in text and "classifier C" not in text  # no dump of config keys
    assert f"{c['outer_folds']} outer folds, grouped by patient" in text and "C in {0.1, 1.0, 10.0 and 100.0}" in text
    assert "fitted on each outer training fold only" in text and "Modic type as a biological covariate" in text
    assert "eroded and dilated by 1 voxel(s)" in text
    off = config | {"radiomics_stats": config["radiomics_stats"] | {"harmonisation": {"enabled": False}}}
    assert "Features were not harmonised across centres." in report.methods(off)[-1]


def test_provenance_hash_changes_with_the_config(config):
    one, two = report.provenance(config, "c", "d"), report.provenance(config | {"cohort": "own"}, "c", "d")
    assert one["config_sha256"] != two["config_sha256"] and one["packages"]["plotly"] == "7.1.0"


def test_checklist_fills_what_the_pipeline_knows(config, inputs, tmp_path):
    report.write_checklist(config, tmp_path / "checklist.csv", inputs.get("diagnostics"), inputs["features"],
                           inputs["classifier"])
    table = report.checklist(config, inputs.get("diagnostics"), inputs["features"], inputs["classifier"])
    assert set(table["checklist"]) == {"IBSI", "CLEAR", "TRIPOD+AI"} and (tmp_path / "checklist.csv").is_file()
    assert (table.loc[table["checklist"] == "TRIPOD+AI", "value"] == report.FOR_AUTHORS).all()  # no model tables
    values = dict(zip(table["item"], table["value"]))
    assert values["Image acquisition and reconstruction parameters"] == report.FOR_AUTHORS
    if "diagnostics" in inputs:
        assert values["Intensity discretisation"] == "fixed bin width 25"
        assert values["Software and version"] == "PyRadiomics v3.0.1"
    assert (table["status"] == "filled").sum() >= 8


def test_checklist_gives_the_classifier_metrics(config, inputs):
    table = report.checklist(config, inputs.get("diagnostics"), inputs["features"], inputs["classifier"])
    values = dict(zip(table["item"], table["value"]))
    performance = values["Performance metrics with confidence intervals"]
    assert performance.startswith("nested CV: accuracy ") and "; paper protocol: accuracy " in performance
    assert values["Validation scheme"].startswith("nested cross-validation grouped by patient (5 outer, 3 inner")
    assert "LASSO" in values["Feature selection"]


def test_write_figure_rule_entry_point(inputs, tmp_path, monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "none"))
    assert not report.write_figure("flow", inputs, tmp_path / "flow.html", tmp_path / "flow.png")
    assert (tmp_path / "flow.html").is_file()
    with pytest.raises(ValueError, match="missing inputs"):
        report.write_figure("forest", {}, tmp_path / "x.html")


def test_filter_row_and_methods_say_what_pyradiomics_filters_are(config, inputs):
    """Issue 19, point 8: LoG and wavelet are PyRadiomics 3.0.1's, not IBSI 2's; named only when enabled."""
    table = report.checklist(config, inputs.get("diagnostics"), inputs["features"], inputs["classifier"])
    row = dict(zip(table["item"], table["value"]))["Image filters"]
    assert "not IBSI-2 compliant" in row and "sigma squared in voxels" in row and "only level-1 wavelets" in row
    assert "no rotation-invariant pooling" in row
    assert "not IBSI-2 compliant" in " ".join(report.methods(config, inputs.get("diagnostics")))
    assert report.filters_vs_ibsi2(["Original", "Square"]) == ""
    assert "wavelet" not in report.filters_vs_ibsi2(["LoG"])
