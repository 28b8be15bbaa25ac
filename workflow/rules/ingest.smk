# DICOM ingestion: one job per patient folder, then the cohort-wide index and exclusion log.


rule ingest_patient:
    input:
        folder=patient_folder,
    output:
        index="results/ingest/patients/{centre}/{patient}.parquet",
        exclusions="results/ingest/patients/{centre}/{patient}.exclusions.csv",
        volumes=directory("results/ingest/volumes/{centre}/{patient}"),
    params:
        files=lambda wc: folder_digest(patient_folder(wc)),
        ingest=config["ingest"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    log:
        "logs/ingest/{centre}/{patient}.log",
    script:
        "../../scripts/ingest_patient.py"


rule series_index:
    input:
        per_patient("results/ingest/patients/{centre}/{patient}.parquet"),
    output:
        "results/ingest/series_index.parquet",
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/series_index.py"


rule ingest_exclusions:
    input:
        per_patient("results/ingest/patients/{centre}/{patient}.exclusions.csv"),
    output:
        "results/ingest/exclusions.csv",
    params:
        stray=lambda wc: {c: stray_files(c) for c in IMAGING_CENTRES},
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/ingest_exclusions.py"
