# Radiomics statistics on the Modic lesion ROIs (Modic radiomics study, Tables 1-2, Figures 1-2): ComBat
# harmonisation (or pass-through), shape tables, Mann-Whitney screen, LASSO + SVM with nested CV,
# correlations with pain, and feature robustness (ICC) from the perturbed re-extractions (radiomics.smk).
RS = "results/radiomics_stats"
RADIOMICS_STATS_OUTPUTS = [
    f"{RS}/{name}"
    for name in (
        "combat_diagnostic.csv",
        "shape_by_modic.csv",
        "dunn.csv",
        "mwu_screen.csv",
        "lasso_features.csv",
        "classifier.json",
        "correlations.csv",
        "icc.csv",
    )
]


rule lesion_features:
    input:
        features="results/radiomics/features.parquet",
        gradings="results/tables/gradings_long.parquet",
    output:
        out_features=f"{RS}/lesion_features.parquet",
        out_diagnostic=f"{RS}/combat_diagnostic.csv",
    log:
        "logs/lesion_features.log",
    conda:
        "../envs/spinestudy.yaml"
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        module="radiomics_stats.harmonisation",
        settings=config["radiomics_stats"],
    script:
        "../../scripts/write_outputs.py"


rule modic_shape:
    input:
        features=f"{RS}/lesion_features.parquet",
        gradings="results/tables/gradings_long.parquet",
    output:
        out_shape=f"{RS}/shape_by_modic.csv",
        out_dunn=f"{RS}/dunn.csv",
    log:
        "logs/modic_shape.log",
    conda:
        "../envs/spinestudy.yaml"
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        module="radiomics_stats.shape",
        settings=config["radiomics_stats"],
    script:
        "../../scripts/write_outputs.py"


rule mwu_screen:
    input:
        features=f"{RS}/lesion_features.parquet",
        gradings="results/tables/gradings_long.parquet",
    output:
        out=f"{RS}/mwu_screen.csv",
    log:
        "logs/mwu_screen.log",
    conda:
        "../envs/spinestudy.yaml"
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        module="radiomics_stats.screen",
        settings=config["radiomics_stats"],
    script:
        "../../scripts/write_outputs.py"


rule modic_classifier:
    input:
        features=f"{RS}/lesion_features.parquet",
        raw="results/radiomics/features.parquet",
        gradings="results/tables/gradings_long.parquet",
    output:
        out_lasso=f"{RS}/lasso_features.csv",
        out_classifier=f"{RS}/classifier.json",
    log:
        "logs/modic_classifier.log",
    conda:
        "../envs/spinestudy.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        module="radiomics_stats.classifier",
        settings=config["radiomics_stats"],
    script:
        "../../scripts/write_outputs.py"


rule feature_correlations:
    input:
        features=f"{RS}/lesion_features.parquet",
        gradings="results/tables/gradings_long.parquet",
        analysis="results/tables/analysis.parquet",
        lasso=f"{RS}/lasso_features.csv",
    output:
        out=f"{RS}/correlations.csv",
    log:
        "logs/feature_correlations.log",
    conda:
        "../envs/spinestudy.yaml"
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        module="radiomics_stats.correlations",
        settings=config["radiomics_stats"],
    script:
        "../../scripts/write_outputs.py"


rule icc:
    input:
        perturbed=per_batch("results/radiomics/perturbed/{centre}/{batch}.parquet", in_robustness_sample),
    output:
        out=f"{RS}/icc.csv",
    log:
        "logs/icc.log",
    conda:
        "../envs/spinestudy.yaml"
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        module="radiomics_stats.icc",
        settings=config["radiomics_stats"],
    script:
        "../../scripts/write_outputs.py"
