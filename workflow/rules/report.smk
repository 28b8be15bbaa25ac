# Figures (plotly: HTML always, PNG and SVG when a browser exists), manuscript tables (Markdown, LaTeX,
# one XLSX workbook), the study report page and the IBSI / CLEAR / TRIPOD+AI checklist.
from spinestudy.report.export import static_unavailable
from spinestudy.prediction import report_key

STATIC_SKIPPED = static_unavailable()
if STATIC_SKIPPED:
    logger.warning(STATIC_SKIPPED)
FIGURE_FORMATS = ["html"] if STATIC_SKIPPED else ["html", "png", "svg"]
FIGURE_INPUTS = {  # figure -> its inputs, named as the figure function's parameters
    "flow": {"flow": "results/tables/flow.csv"},
    "prevalence": {"prevalence": "results/stats/prevalence_by_decade.csv"},
    "forest": {"lasso": "results/stats/lasso.csv", "study": STUDY.path},  # the study: the outcomes' headings
    "agreement": {"agreement": "results/stats/agreement.csv", "confusion": "results/stats/agreement_confusion.csv"},
    "shape_by_modic": {
        "features": f"{RS}/lesion_features.parquet",
        "gradings": "results/tables/gradings_long.parquet",
        "shape_by_modic": f"{RS}/shape_by_modic.csv",
    },
    "mwu_screen": {"mwu_screen": f"{RS}/mwu_screen.csv"},
    "lasso_features": {"lasso_features": f"{RS}/lasso_features.csv"},
    "classifier": {"classifier": f"{RS}/classifier.json"},
    "correlations": {"correlations": f"{RS}/correlations.csv"},
    "combat": {"combat_diagnostic": f"{RS}/combat_diagnostic.csv"},
}
FIGURE_GROUP = {
    name: "Clinical" if name in ("flow", "prevalence", "forest", "agreement") else "Radiomics" for name in FIGURE_INPUTS
}
PREDICTION_MODELS = sorted(config["prediction"]["models"])
PREDICTION_FIGURES = ("calibration", "decision_curve")  # one per model, from the model's table of that name
PREDICTION_FIGURE_OUTPUTS = expand(
    "results/figures/prediction_{model}_{figure}.{fmt}",
    model=PREDICTION_MODELS,
    figure=PREDICTION_FIGURES,
    fmt=FIGURE_FORMATS,
)
PREDICTION_REPORT = {  # the models' tables, as the study page and the checklist name them
    report_key(model, name): f"results/prediction/{model}/{name}.csv"
    for model in PREDICTION_MODELS
    for name in PREDICTION_FILES
}
TABLE_INPUTS = {  # manuscript table input -> file
    "table1": "results/stats/table1.csv",
    "lasso": "results/stats/lasso.csv",
    "posthoc": "results/stats/posthoc.csv",
    "prevalence": "results/stats/prevalence_by_decade.csv",
    "associations": "results/stats/associations.csv",
    "shape_by_modic": f"{RS}/shape_by_modic.csv",
    "dunn": f"{RS}/dunn.csv",
    "icc": f"{RS}/icc.csv",
    "classifier": f"{RS}/classifier.json",
    "lasso_features": f"{RS}/lasso_features.csv",
    "correlations": f"{RS}/correlations.csv",
    "mwu_screen": f"{RS}/mwu_screen.csv",
    "agreement": "results/stats/agreement.csv",
}
MANUSCRIPT = {  # manuscript table file name -> caption
    "table1": "table1",
    "table2": "table2",
    "posthoc": "table_posthoc",
    "prevalence": "table_prevalence",
    "associations": "table_associations",
    "agreement": "table_agreement",
} | {
    name: "table_radiomics"
    for name in ("shape_by_modic", "dunn", "icc", "classifier", "lasso_features", "correlations", "mwu_screen")
}


rule plotly_js:
    output:
        "results/figures/plotly.min.js",
    log:
        "logs/plotly_js.log",
    conda:
        "../envs/spinestudy.yaml"
    resources:
        mem_mb=500,
        runtime=5,
    script:
        "../../scripts/report/plotly_js.py"


for figure_name, figure_inputs in FIGURE_INPUTS.items():

    rule:
        name:
            f"figure_{figure_name}"
        input:
            **figure_inputs,
            plotly_js="results/figures/plotly.min.js",
        output:
            **{
                fmt: report(
                    f"results/figures/{figure_name}.{fmt}",
                    caption=f"../report/figure_{figure_name}.rst",
                    category="Figures",
                    subcategory=FIGURE_GROUP[figure_name] if fmt == "html" else "Static",
                )
                for fmt in FIGURE_FORMATS
            },
        log:
            f"logs/figure_{figure_name}.log",
        conda:
            "../envs/spinestudy.yaml"
        resources:
            mem_mb=2000,
            runtime=15,
        params:
            figure=figure_name,
        script:
            "../../scripts/report/figure.py"


for figure_name in PREDICTION_FIGURES:

    rule:
        name:
            f"figure_{figure_name}"
        input:
            **{figure_name: f"results/prediction/{{model}}/{figure_name}.csv"},
            plotly_js="results/figures/plotly.min.js",
        output:
            **{
                fmt: report(
                    f"results/figures/prediction_{{model}}_{figure_name}.{fmt}",
                    caption=f"../report/figure_{figure_name}.rst",
                    category="Figures",
                    subcategory="Prediction" if fmt == "html" else "Static",
                )
                for fmt in FIGURE_FORMATS
            },
        log:
            f"logs/figure_{figure_name}_{{model}}.log",
        wildcard_constraints:
            model=one_of(PREDICTION_MODELS),
        conda:
            "../envs/spinestudy.yaml"
        resources:
            mem_mb=2000,
            runtime=15,
        params:
            figure=figure_name,
        script:
            "../../scripts/report/figure.py"


rule manuscript_tables:
    input:
        **TABLE_INPUTS,
    output:
        **{
            f"{name}_{ext}": report(
                f"results/manuscript/{name}.{ext}",
                caption=f"../report/{caption}.rst",
                category="Radiomics" if caption == "table_radiomics" else "Statistics",
                subcategory="Manuscript tables",
            )
            for name, caption in MANUSCRIPT.items()
            for ext in ("md", "tex")
        },
        xlsx=report(
            "results/tables.xlsx", caption="../report/tables_xlsx.rst", category="Statistics", subcategory="Workbook"
        ),
    log:
        "logs/manuscript_tables.log",
    conda:
        "../envs/spinestudy.yaml"
    resources:
        mem_mb=2000,
        runtime=15,
    script:
        "../../scripts/report/manuscript_tables.py"


rule study_report:
    input:
        **(TABLE_INPUTS | {k: v for inputs in FIGURE_INPUTS.values() for k, v in inputs.items()}),
        **PREDICTION_REPORT,
        diagnostics="results/radiomics/diagnostics.parquet",
        version="results/provenance/version.json",
        changes="results/provenance/changes.csv",
    output:
        report(
            "results/report/study.html", caption="../report/study.rst", category="Figures", subcategory="Study report"
        ),
    log:
        "logs/study_report.log",
    conda:
        "../envs/spinestudy.yaml"
    resources:
        mem_mb=2000,
        runtime=15,
    script:
        "../../scripts/report/study_report.py"


rule checklist:
    input:
        **PREDICTION_REPORT,
        diagnostics="results/radiomics/diagnostics.parquet",
        features="results/radiomics/features.parquet",
        classifier=f"{RS}/classifier.json",
    output:
        report(
            "results/report/checklist.csv",
            caption="../report/checklist.rst",
            category="Radiomics",
            subcategory="Reporting checklist",
        ),
    log:
        "logs/checklist.log",
    conda:
        "../envs/spinestudy.yaml"
    resources:
        mem_mb=2000,
        runtime=15,
    script:
        "../../scripts/report/checklist.py"
