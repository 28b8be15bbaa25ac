"""Manuscript tables: paper formats, Markdown / LaTeX / XLSX writers, byte-identical reruns."""

import json
import zipfile

import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook
from openpyxl.cell.rich_text import CellRichText

from spinestudy import study
from spinestudy.report import manuscript_tables as mt
from spinestudy.stats import associations, posthoc, table1
from stats_cohort import cohort
from test_figures import synthetic_inputs


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, config):
    """Synthetic inputs, with Table 1, post hoc and associations computed by the statistics modules
    on a generated cohort (so a change of their output format breaks these tests)."""
    root = tmp_path_factory.mktemp("inputs")
    paths = synthetic_inputs(root)
    analysis, gradings, _ = cohort(400, seed=2)
    analysis.to_parquet(root / "analysis.parquet")
    gradings.to_parquet(root / "gradings.parquet")
    for key, module in (("table1", table1), ("posthoc", posthoc)):
        module.write(root / "analysis.parquet", root / "gradings.parquet", study.path_of(config["study"]),
                     config["stats"], root / f"{key}.csv")
        paths[key] = root / f"{key}.csv"
    associations.write(root / "analysis.parquet", study.path_of(config["study"]), config["stats"],
                       root / "associations.csv")
    paths["associations"] = root / "associations.csv"
    return paths


@pytest.mark.parametrize("p, test, expected", [
    (1.29e-38, "A", "1.29 × 10^{-38} ^{A}"), (0.0031, "K", "0.003 ^{K}"), (0.2, "", "0.200"),
    (float("nan"), "K", ""), (0.0009996, "none", "1.00 × 10^{-3}")])
def test_p_values_as_the_papers_print_them(p, test, expected):
    assert mt.p_value(p, test) == expected


def test_percent_and_number():
    assert mt.percent(1, 7) == "14.29% (1/7)" and mt.percent(0, 4) == "0% (0/4)" and mt.percent(5, 10) == "50% (5/10)"
    assert mt.number(5.15e-18) == "5.15 × 10^{-18}" and mt.number(0) == "0" and mt.number(-0.0104) == "-0.010"


def test_table1_groups_grades_under_a_heading(inputs, config):
    table = mt.table1(inputs["table1"], config)
    first = table.frame.iloc[:, 0].tolist()
    assert "Pfirrmann disc degeneration grades, % (n/total)" in first and "grade 5" in first
    assert table.frame.columns[-1] == "P-value" and "threshold P-value < 0.003" in table.footnote
    assert any(cell.endswith("^{K}") for cell in table.frame["P-value"])


def test_captions_are_the_study_files_else_general(inputs, config, tmp_path):
    """RuDDS's study file names its captions; a study without them gets the general ones; the study schema knows
    every manuscript table."""
    assert mt.table1(inputs["table1"], config).title == (
        "Table 1. General characteristics and MRI findings by leading syndrome")
    data = yaml.safe_load(study.path_of("rudds").read_text())
    del data["captions"]
    (tmp_path / "plain.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    plain = mt.table1(inputs["table1"], config | {"study": str(tmp_path / "plain.yaml")})
    assert plain.title == "Table 1. General characteristics and MRI findings"
    schema = yaml.safe_load(study.SCHEMA.read_text())
    assert schema["properties"]["captions"]["propertyNames"]["enum"] == list(mt.CAPTIONS)


def test_table2_marks_not_estimable_and_zero(inputs, config):
    frame = mt.lasso(inputs["lasso"], config).frame
    assert set(frame["Facet joint pain"]) <= {"", "–"}
    assert any(c.startswith("0") or "IRR" in c for c in frame["Total"])


def test_writers_render_superscripts(inputs, config):
    table = mt.table1(inputs["table1"], config)
    assert "<sup>A</sup>" in mt.to_markdown(table) or "<sup>K</sup>" in mt.to_markdown(table)
    latex = mt.to_latex(table)
    assert r"\toprule" in latex and r"\bottomrule" in latex and r"\textsuperscript{K}" in latex and r"\%" in latex
    assert "^{" not in mt.to_html(table)
    assert mt.latex_text("1.29 × 10^{-38} ^{A}") == r"1.29 $\times$ 10\textsuperscript{-38} \textsuperscript{A}"


def test_agreement_table_pools_levels_per_comparison(inputs, config, tmp_path):
    table = mt.agreement(inputs["agreement"], config)
    first = table.frame["Scale"].tolist()
    assert first[0] == "Inter-reader agreement" and "Intra-reader agreement" in first
    row = table.frame[table.frame["Scale"] == "Pfirrmann grade"].iloc[0]
    assert row["Units"] == str(5 * 30) and row["Quadratically weighted kappa"].count("[") == 1
    assert row["ICC(2,1)"] == "–" and row["Interpretation"] in {"moderate", "substantial", "almost perfect"}
    assert "the first reader's grade is analysed" in table.footnote
    empty = tmp_path / "agreement.csv"
    empty.write_text("comparison,scale,level,statistic,estimate,note\n,,,,,no second read\n")
    assert mt.agreement(empty, config).frame.empty and "No agreement to report" in mt.agreement(empty, config).footnote


def test_every_table_in_all_formats_and_identical_reruns(inputs, config, tmp_path):
    tables = mt.write(inputs, config, tmp_path / "a", tmp_path / "a" / "tables.xlsx")
    mt.write(inputs, config, tmp_path / "b", tmp_path / "b" / "tables.xlsx")
    assert [t.name for t in tables][:2] == ["table1", "table2"] and len(tables) == len(mt.TABLES)
    for path in (tmp_path / "a").iterdir():
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name
    book = load_workbook(tmp_path / "a" / "tables.xlsx", rich_text=True)
    assert book.sheetnames == [t.name for t in tables]
    sheet = book["table1"]
    assert sheet["A1"].value.startswith("Table 1.")
    assert any(isinstance(c.value, CellRichText) for row in sheet.iter_rows() for c in row)
    assert zipfile.ZipFile(tmp_path / "a" / "tables.xlsx").infolist()[0].date_time == (1980, 1, 1, 0, 0, 0)
    shape = next(t for t in tables if t.name == "shape_by_modic")
    n = pd.read_csv(inputs["shape_by_modic"])["n_I"].iloc[0]
    assert f"Modic I (n = {n})" in shape.frame.columns and shape.frame["P-value"].str.endswith("^{K}").all()


def test_radiomics_tables_read_the_writers_formats(inputs, config):
    tables = {t.name: t.frame for t in mt.build(inputs, config)}
    result = json.loads(inputs["classifier"].read_text())
    classifier = tables["classifier"].set_index("Metric")
    nested = result["nested"]["metrics"]["accuracy"]
    assert classifier.loc["Accuracy", "Nested cross-validation"] == (
        f"{mt.number(nested['estimate'])} [{mt.number(nested['ci_low'])}; {mt.number(nested['ci_high'])}]")
    assert classifier.loc["Lesions", "Paper's scheme"] == str(result["n_lesions"])
    screen = pd.read_csv(inputs["mwu_screen"])
    total = tables["mwu_screen"].set_index("Image type").loc["All image types", "All sequences"]
    assert total.startswith(f"{screen['significant'].sum()}/{len(screen)} ")
    assert len(tables["dunn"]) == len(pd.read_csv(inputs["dunn"])) and len(tables["icc"]) == len(pd.read_csv(inputs["icc"]))
    correlations, long = tables["correlations"], pd.read_csv(inputs["correlations"])
    assert [c.split(" (")[0].split(",")[0] for c in correlations.columns[1:4]] == ["ODI before", "Back NPRS before", "Age"]
    assert all(c.endswith((", ρ", ", r")) for c in correlations.columns[1:])
    assert len(correlations) == long["feature"].nunique() + long["kind"].nunique()  # a heading per kind
    assert correlations.iloc[0, 0] == "Shape features" and correlations.shape[1] == 1 + long.groupby(
        ["outcome", "method"]).ngroups
    assert len(tables["lasso_features"]) == len(pd.read_csv(inputs["lasso_features"]))
