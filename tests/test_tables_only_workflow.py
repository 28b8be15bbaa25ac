"""A tables-only study end to end (issue 23): no centre sends images or a second read of its gradings, yet the
run completes and builds the study page, the manuscript tables and the workbook, which call radiomics and
reader agreement not applicable."""

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook

from snakemake_runner import FIGURES, absolute_config_paths, snakemake
from spinestudy import applicable
from spinestudy.stats.agreement import NO_READS

pytestmark = pytest.mark.workflow

RADIOMICS_STATS = ["combat_diagnostic.csv", "shape_by_modic.csv", "dunn.csv", "mwu_screen.csv", "lasso_features.csv",
                   "correlations.csv", "icc.csv"]
RADIOMICS_TABLES = ["shape_by_modic", "dunn", "icc", "classifier", "lasso_features", "correlations", "mwu_screen"]
CLINICAL_TABLES = ["table1", "table2", "posthoc", "prevalence", "associations"]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, config) -> Path:
    """The shipped config with the demo centres' dicom, masks and second reads left out, 40 patients; figures
    as HTML only (snakemake_runner.HTML_ONLY)."""
    work = tmp_path_factory.mktemp("tables_only")
    cfg = absolute_config_paths(config) | {"demo": {"out": "resources/demo", "patients": 40, "seed": 7}}
    cfg["centres"] = {centre: {k: v for k, v in spec.items()
                               if k not in ("dicom", "masks", "gradings_reader2", "gradings_repeat")}
                      for centre, spec in config["centres"].items()}
    (work / "config.yaml").write_text(yaml.safe_dump(cfg))
    snakemake(work)
    return work


def test_the_demo_is_tables_only(workdir):
    manifest = yaml.safe_load((workdir / "resources/demo/manifest.json").read_text())
    assert manifest["imaging"] == {} and sum(map(len, manifest["patients"].values())) == 40
    assert not any((workdir / "resources/demo").glob("*/dicom"))
    assert len(pd.read_parquet(workdir / "results/tables/analysis.parquet")) == 40
    assert len(pd.read_parquet(workdir / "results/radiomics/features.parquet")) == 0


def test_radiomics_statistics_and_agreement_are_not_applicable(workdir):
    for name in RADIOMICS_STATS:
        table = pd.read_csv(workdir / "results/radiomics_stats" / name)
        assert len(table) == 1 and table["note"].item() == applicable.NO_FEATURES, name
    classifier = yaml.safe_load((workdir / "results/radiomics_stats/classifier.json").read_text())
    assert classifier == {"note": applicable.NO_FEATURES}
    assert pd.read_csv(workdir / "results/stats/agreement.csv")["note"].tolist() == [NO_READS]


def test_report_manuscript_tables_and_workbook_are_built(workdir):
    page = (workdir / "results/report/study.html").read_text()
    manuscript = workdir / "results/manuscript"
    for name in [*CLINICAL_TABLES, *RADIOMICS_TABLES, "agreement"]:
        assert (manuscript / f"{name}.md").is_file() and (manuscript / f"{name}.tex").is_file(), name
        assert f'id="table-{name}"' in page, name
    for name in FIGURES:
        assert (workdir / f"results/figures/{name}.html").is_file(), name
        assert f'id="fig-{name}"' in page, name
    table1 = (manuscript / "table1.md").read_text()
    assert "Not applicable" not in table1 and "| Age" in table1
    assert len(load_workbook(workdir / "results/tables.xlsx").sheetnames) == 13


def test_radiomics_sections_say_not_applicable(workdir):
    page = (workdir / "results/report/study.html").read_text()
    sheets = load_workbook(workdir / "results/tables.xlsx")
    for name in [*RADIOMICS_TABLES, "agreement"]:
        reason = NO_READS if name == "agreement" else applicable.NO_FEATURES
        note = "Not" + reason.removeprefix("not")
        assert f"| {note} |" in (workdir / f"results/manuscript/{name}.md").read_text(), name
        assert sheets[name]["A3"].value == note, name
        assert f"<td>{note}</td>" in re.search(rf'id="table-{name}">.*?</table>', page).group(), name
    for name in [*FIGURES[4:], "agreement"]:
        reason = NO_READS if name == "agreement" else applicable.NO_FEATURES
        assert reason in (workdir / f"results/figures/{name}.html").read_text(), name
    assert f"Radiomics and radiomics statistics: {applicable.NO_FEATURES}." in page
    assert "reader agreement was not assessed" in page
