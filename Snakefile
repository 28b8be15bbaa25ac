# spinestudy: DICOM ingestion -> radiomics -> validated tables -> statistics -> figures and report.
# This file only wires the stages together; each stage lives in workflow/rules/<stage>.smk.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/demo.smk"
include: "workflow/rules/ingest.smk"
include: "workflow/rules/radiomics.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/stats.smk"
include: "workflow/rules/radiomics_stats.smk"
include: "workflow/rules/prediction.smk"
include: "workflow/rules/provenance.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        "results/ingest/series_index.parquet",
        "results/ingest/exclusions.csv",
        "results/radiomics/features.parquet",
        "results/radiomics/diagnostics.parquet",
        "results/radiomics/exclusions.csv",
        "results/tables/analysis.parquet",
        "results/tables/gradings_long.parquet",
        "results/tables/reads_long.parquet",
        "results/tables/exclusions.csv",
        "results/tables/flow.csv",
        "results/tables/missingness.csv",
        expand("results/stats/{name}", name=STATS.values()),
        "results/stats/agreement.csv",
        RADIOMICS_STATS_OUTPUTS,
        PREDICTION_OUTPUTS,
        expand("results/figures/{figure}.{fmt}", figure=FIGURE_INPUTS, fmt=FIGURE_FORMATS),
        PREDICTION_FIGURE_OUTPUTS,
        "results/tables.xlsx",
        "results/report/study.html",
        "results/report/checklist.csv",
        "results/provenance/version.json",
        "results/provenance/changes.csv",
