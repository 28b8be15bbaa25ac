# Radiomics: one PyRadiomics job per batch of patients (config batch_digits; all ROIs and sequences of a
# series from one image load), then the cohort-wide feature, diagnostics and exclusion tables; and the
# robustness re-extraction of perturbed ROIs (its ICC is in radiomics_stats.smk).


rule radiomics_batch:
    input:
        volumes="results/ingest/volumes/{centre}/{batch}",
        params=config["radiomics"]["params"],
        labels=config["radiomics"]["labels"],
        masks=lambda wc: [m for m in batch_masks(wc).values() if m],
        label_descriptions=label_descriptions,
    output:
        features="results/radiomics/{centre}/{batch}.parquet",
        diagnostics="results/radiomics/{centre}/{batch}.diagnostics.parquet",
        exclusions="results/radiomics/{centre}/{batch}.exclusions.csv",
    log:
        "logs/radiomics_batch/{centre}/{batch}.log",
    conda:
        "../envs/spinestudy.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=lambda wc: 60 * len(batch(wc)),
    params:
        masks=batch_masks,
        settings=radiomics_settings,
    script:
        "../../scripts/radiomics/radiomics_batch.py"


rule radiomics_features:
    input:
        per_batch("results/radiomics/{centre}/{batch}.parquet"),
    output:
        "results/radiomics/features.parquet",
    log:
        "logs/radiomics_features.log",
    conda:
        "../envs/spinestudy.yaml"
    resources:
        mem_mb=2000,
        runtime=15,
    script:
        "../../scripts/radiomics/radiomics_merge.py"


rule radiomics_diagnostics:
    input:
        per_batch("results/radiomics/{centre}/{batch}.diagnostics.parquet"),
    output:
        "results/radiomics/diagnostics.parquet",
    log:
        "logs/radiomics_diagnostics.log",
    conda:
        "../envs/spinestudy.yaml"
    resources:
        mem_mb=2000,
        runtime=15,
    script:
        "../../scripts/radiomics/radiomics_merge.py"


rule radiomics_exclusions:
    input:
        per_batch("results/radiomics/{centre}/{batch}.exclusions.csv"),
    output:
        "results/radiomics/exclusions.csv",
    log:
        "logs/radiomics_exclusions.log",
    conda:
        "../envs/spinestudy.yaml"
    resources:
        mem_mb=2000,
        runtime=15,
    script:
        "../../scripts/radiomics/merge_exclusions.py"


# A robustness job's settings: the robustness re-extraction's without the sample share (common.smk).
ROBUSTNESS_JOB_SETTINGS = config["radiomics_stats"] | {
    "robustness": {k: v for k, v in ROBUSTNESS.items() if k != "sample"}
}


rule radiomics_robustness_batch:
    input:
        volumes="results/ingest/volumes/{centre}/{batch}",
        params=config["radiomics_stats"]["robustness"]["params"],
        labels=config["radiomics"]["labels"],
        masks=lambda wc: [m for m in batch_masks(wc, in_robustness_sample).values() if m],
        label_descriptions=label_descriptions,
    output:
        "results/radiomics/perturbed/{centre}/{batch}.parquet",
    log:
        "logs/radiomics_robustness_batch/{centre}/{batch}.log",
    conda:
        "../envs/spinestudy.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=lambda wc: 60 * len(batch_masks(wc, in_robustness_sample)),
    params:
        masks=lambda wc: batch_masks(wc, in_robustness_sample),
        radiomics=radiomics_settings,
        radiomics_stats=ROBUSTNESS_JOB_SETTINGS,
    script:
        "../../scripts/radiomics/radiomics_robustness.py"
