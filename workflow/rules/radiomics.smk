# Radiomics: one PyRadiomics job per batch of patients (config batch_digits; all ROIs and sequences of a
# series from one image load), then the cohort-wide feature, diagnostics and exclusion tables.


rule radiomics_batch:
    input:
        volumes="results/ingest/volumes/{centre}/{batch}",
        params=config["radiomics"]["params"],
        labels=config["radiomics"]["labels"],
        masks=lambda wc: [m for m in batch_masks(wc).values() if m],
    output:
        features="results/radiomics/{centre}/{batch}.parquet",
        diagnostics="results/radiomics/{centre}/{batch}.diagnostics.parquet",
        exclusions="results/radiomics/{centre}/{batch}.exclusions.csv",
    params:
        masks=batch_masks,
        settings=config["radiomics"],
    threads: 1
    resources:
        mem_mb=4000,
        runtime=lambda wc: 60 * len(batch(wc)),
    script:
        "../../scripts/radiomics_batch.py"


rule radiomics_features:
    input:
        per_batch("results/radiomics/{centre}/{batch}.parquet"),
    output:
        "results/radiomics/features.parquet",
    resources:
        mem_mb=2000,
        runtime=15,
    script:
        "../../scripts/radiomics_merge.py"


rule radiomics_diagnostics:
    input:
        per_batch("results/radiomics/{centre}/{batch}.diagnostics.parquet"),
    output:
        "results/radiomics/diagnostics.parquet",
    resources:
        mem_mb=2000,
        runtime=15,
    script:
        "../../scripts/radiomics_merge.py"


rule radiomics_exclusions:
    input:
        per_batch("results/radiomics/{centre}/{batch}.exclusions.csv"),
    output:
        "results/radiomics/exclusions.csv",
    resources:
        mem_mb=2000,
        runtime=15,
    script:
        "../../scripts/merge_exclusions.py"
