# Radiomics statistics on the Modic lesion ROIs (Modic radiomics study, Tables 1-2, Figures 1-2): ComBat
# harmonisation (or pass-through), shape tables, Mann-Whitney screen, LASSO + SVM with nested CV,
# correlations with pain, and feature robustness (ICC) from per-patient perturbed re-extractions.
RS = "results/radiomics_stats"
# Robustness re-extraction runs on a stable share of the patients (radiomics_stats.robustness.sample): a
# patient is in when its pseudonym (a keyed hash) read as a number in [0, 1) is below the share, so a new
# patient never changes whether another is in. A batch's job sees only which of its patients are in:
# changing the share adds or drops jobs and reruns just the batches whose sampled patients change (with one
# patient per batch, none).
ROBUSTNESS = config["radiomics_stats"]["robustness"]
ROBUSTNESS_JOB_SETTINGS = config["radiomics_stats"] | {
    "robustness": {k: v for k, v in ROBUSTNESS.items() if k != "sample"}
}


def in_robustness_sample(patient):
    return int(patient.removeprefix("p"), 16) < ROBUSTNESS["sample"] * 16 ** (len(patient) - 1)

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
    params:
        module="harmonisation",
        settings=config["radiomics_stats"],
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../../scripts/write_outputs.py"


rule modic_shape:
    input:
        features=f"{RS}/lesion_features.parquet",
        gradings="results/tables/gradings_long.parquet",
    output:
        out_shape=f"{RS}/shape_by_modic.csv",
        out_dunn=f"{RS}/dunn.csv",
    params:
        module="modic_shape",
        settings=config["radiomics_stats"],
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../../scripts/write_outputs.py"


rule mwu_screen:
    input:
        features=f"{RS}/lesion_features.parquet",
        gradings="results/tables/gradings_long.parquet",
    output:
        out=f"{RS}/mwu_screen.csv",
    params:
        module="feature_screen",
        settings=config["radiomics_stats"],
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../../scripts/write_outputs.py"


rule modic_classifier:
    input:
        features=f"{RS}/lesion_features.parquet",
        gradings="results/tables/gradings_long.parquet",
    output:
        out_lasso=f"{RS}/lasso_features.csv",
        out_classifier=f"{RS}/classifier.json",
    params:
        module="modic_classifier",
        settings=config["radiomics_stats"],
    threads: 2
    resources:
        mem_mb=4000,
        runtime=60,
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
    params:
        module="feature_correlations",
        settings=config["radiomics_stats"],
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../../scripts/write_outputs.py"


rule radiomics_robustness_batch:
    input:
        volumes="results/ingest/volumes/{centre}/{batch}",
        params=config["radiomics_stats"]["robustness"]["params"],
        labels=config["radiomics"]["labels"],
        masks=lambda wc: [m for m in batch_masks(wc, in_robustness_sample).values() if m],
    output:
        "results/radiomics/perturbed/{centre}/{batch}.parquet",
    params:
        masks=lambda wc: batch_masks(wc, in_robustness_sample),
        radiomics=config["radiomics"],
        radiomics_stats=ROBUSTNESS_JOB_SETTINGS,
    threads: 1
    resources:
        mem_mb=4000,
        runtime=lambda wc: 60 * len(batch_masks(wc, in_robustness_sample)),
    script:
        "../../scripts/radiomics_robustness.py"


rule icc:
    input:
        perturbed=per_batch("results/radiomics/perturbed/{centre}/{batch}.parquet", in_robustness_sample),
    output:
        out=f"{RS}/icc.csv",
    params:
        module="robustness",
        settings=config["radiomics_stats"],
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../../scripts/write_outputs.py"
