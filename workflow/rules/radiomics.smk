# Radiomics: one PyRadiomics job per patient (all ROIs and sequences of a series from one image load),
# then the cohort-wide feature, diagnostics and exclusion tables.


rule radiomics_patient:
    input:
        volumes="results/ingest/volumes/{centre}/{patient}",
        params=config["radiomics"]["params"],
        labels=config["radiomics"]["labels"],
        mask=patient_mask,
    output:
        features="results/radiomics/{centre}/{patient}.parquet",
        diagnostics="results/radiomics/{centre}/{patient}.diagnostics.parquet",
        exclusions="results/radiomics/{centre}/{patient}.exclusions.csv",
    params:
        settings=config["radiomics"],
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    script:
        "../../scripts/radiomics_patient.py"


rule radiomics_features:
    input:
        per_patient("results/radiomics/{centre}/{patient}.parquet"),
    output:
        "results/radiomics/features.parquet",
    resources:
        mem_mb=2000,
        runtime=15,
    script:
        "../../scripts/radiomics_merge.py"


rule radiomics_diagnostics:
    input:
        per_patient("results/radiomics/{centre}/{patient}.diagnostics.parquet"),
    output:
        "results/radiomics/diagnostics.parquet",
    resources:
        mem_mb=2000,
        runtime=15,
    script:
        "../../scripts/radiomics_merge.py"


rule radiomics_exclusions:
    input:
        per_patient("results/radiomics/{centre}/{patient}.exclusions.csv"),
    output:
        "results/radiomics/exclusions.csv",
    resources:
        mem_mb=2000,
        runtime=15,
    script:
        "../../scripts/merge_exclusions.py"
