"""A tables-only study with one read of the gradings (issue 23): the radiomics statistics and reader agreement
are not applicable; every figure, manuscript table (Markdown, LaTeX, XLSX) and the study page say so."""

import re

import pytest
from openpyxl import load_workbook

from radiomics_cohort import tables_only_outputs
from spinestudy import applicable, study
from spinestudy.radiomics.extract import merge
from spinestudy.report import manuscript_tables
from spinestudy.report import study as report
from spinestudy.stats import agreement
from stats_cohort import reads

RADIOMICS_FIGURES = ["shape_by_modic", "mwu_screen", "lasso_features", "classifier", "correlations", "combat"]
RADIOMICS_TABLES = ["shape_by_modic", "dunn", "icc", "classifier", "lasso_features", "correlations", "mwu_screen"]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, config) -> dict:
    """The report's inputs of the radiomics statistics and reader agreement, named as the report rules name them."""
    root = tmp_path_factory.mktemp("tables_only")
    out = tables_only_outputs(root, config["radiomics_stats"])
    first = reads(30, seed=3)[0].query("read == 'reader1'")  # one read: no second reader, no repeat
    first.to_parquet(root / "reads_long.parquet")
    agreement.write(root / "reads_long.parquet", study.path_of("rudds"), {}, root / "agreement.csv", root / "agreement_confusion.csv")
    merge([], root / "diagnostics.parquet")  # no ROI extracted
    return {name: out[name] for name in RADIOMICS_TABLES} | {
        "features": out["lesion_features"], "gradings": out["gradings_long"],
        "combat_diagnostic": out["combat_diagnostic"], "agreement": root / "agreement.csv",
        "confusion": root / "agreement_confusion.csv", "diagnostics": root / "diagnostics.parquet"}


def annotations(fig) -> str:
    return " ".join(a.text for a in fig.layout.annotations)


@pytest.mark.parametrize("name", RADIOMICS_FIGURES)
def test_radiomics_figures_say_not_applicable(inputs, name):
    assert applicable.NO_FEATURES in annotations(report.figure(name, inputs))
    assert len(report.figure(name, inputs).data) == 0


def test_agreement_figure_says_not_applicable(inputs):
    assert annotations(report.figure("agreement", inputs)) == agreement.NO_READS
    assert agreement.NO_READS.startswith(applicable.PREFIX)


def test_manuscript_tables_and_workbook_say_not_applicable(inputs, config, tmp_path):
    tables = manuscript_tables.write({k: inputs[k] for k in [*RADIOMICS_TABLES, "agreement"]}, config, tmp_path,
                                     tmp_path / "tables.xlsx")
    expected = {t.name: t.title for t in tables}
    assert list(expected) == [manuscript_tables.CAPTIONS[k][0] for k in [*RADIOMICS_TABLES, "agreement"]]
    sheets = load_workbook(tmp_path / "tables.xlsx")
    for name, title in expected.items():
        reason = agreement.NO_READS if name == "agreement" else applicable.NO_FEATURES
        note = "Not" + reason.removeprefix("not")
        assert (tmp_path / f"{name}.md").read_text() == f"**{title}**\n\n| Note |\n|:---|\n| {note} |\n"
        latex = (tmp_path / f"{name}.tex").read_text()
        assert f"\\midrule\n\\endhead\n{manuscript_tables.latex_text(note)} \\\\\n" in latex
        assert [[c.value for c in row] for row in sheets[name].iter_rows()] == [[title], ["Note"], [note]]


def test_study_page_says_not_applicable(inputs, config, tmp_path):
    page = report.write_study(inputs, config, tmp_path / "study.html", commit="0" * 40, date="2024-01-01").read_text()
    for name in [*RADIOMICS_TABLES, "agreement"]:
        table = re.search(rf'<table class="manuscript" id="table-{manuscript_tables.CAPTIONS[name][0]}">.*?</table>',
                          page).group()
        assert "<td>Not applicable: " in table, name
    assert f"<p>Radiomics and radiomics statistics: {applicable.NO_FEATURES}.</p>" in page
    assert "PyRadiomics (version not recorded)" not in page and "Modic lesion ROIs took" not in page
    assert page.count('<figure id="fig-') == len(RADIOMICS_FIGURES) + 1
