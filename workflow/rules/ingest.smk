# DICOM ingestion: one job per batch of patient folders (config batch_digits; auto: one patient up to 1,000),
# then the cohort-wide index and exclusion log. Files are named by keyed labels in results/; the label ->
# path lookups go to logs/ingest/files/, the SeriesDescriptions as written to logs/ingest/descriptions/
# (local, never under results/).


rule ingest_batch:
    input:
        folders=lambda wc: list(map(str, batch(wc).values())),
        patient_ids=lambda wc: config["centres"][wc.centre].get("dicom_patient_ids", []),
    output:
        index="results/ingest/batches/{centre}/{batch}.parquet",
        exclusions="results/ingest/batches/{centre}/{batch}.exclusions.csv",
        volumes=directory("results/ingest/volumes/{centre}/{batch}"),
        lookup="logs/ingest/files/{centre}/{batch}.csv",
        descriptions="logs/ingest/descriptions/{centre}/{batch}.csv",
    log:
        "logs/ingest_batch/{centre}/{batch}.log",
    wildcard_constraints:
        centre=one_of(c for c in IMAGING_CENTRES if c not in IMAGE_CENTRES),
    conda:
        "../envs/spinestudy.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=lambda wc: 20 * len(batch(wc)),
    params:
        folders=lambda wc: {p: str(f) for p, f in batch(wc).items()},
        files=lambda wc: [folder_digest(f) for f in batch(wc).values()],
        procedure_dates=batch_procedure_dates,
        ingest=config["ingest"],
    script:
        "../../scripts/ingest/ingest_batch.py"


# Centres sending converted images (config `images:`) instead of DICOM: same outputs (spinestudy.ingest.images).
rule ingest_images_batch:
    input:
        lambda wc: sorted(str(f) for patient in batch(wc).values() for f in patient.files.values()),
    output:
        index="results/ingest/batches/{centre}/{batch}.parquet",
        exclusions="results/ingest/batches/{centre}/{batch}.exclusions.csv",
        volumes=directory("results/ingest/volumes/{centre}/{batch}"),
    log:
        "logs/ingest_images_batch/{centre}/{batch}.log",
    wildcard_constraints:
        centre=one_of(IMAGE_CENTRES),
    conda:
        "../envs/spinestudy.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=lambda wc: 5 * len(batch(wc)),
    params:
        images=lambda wc: {p: {s: str(f) for s, f in files.files.items()} for p, files in batch(wc).items()},
        ingest=config["ingest"],
    script:
        "../../scripts/ingest/ingest_images_batch.py"


rule series_index:
    input:
        per_batch("results/ingest/batches/{centre}/{batch}.parquet"),
    output:
        "results/ingest/series_index.parquet",
    log:
        "logs/series_index.log",
    conda:
        "../envs/spinestudy.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/ingest/series_index.py"


rule ingest_exclusions:
    input:
        per_batch("results/ingest/batches/{centre}/{batch}.exclusions.csv"),
    output:
        exclusions="results/ingest/exclusions.csv",
        lookup="logs/ingest/files/outside_patient_folders.csv",
    log:
        "logs/ingest_exclusions.log",
    conda:
        "../envs/spinestudy.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        stray=lambda wc: {c: stray_files(c) for c in IMAGING_CENTRES},
    script:
        "../../scripts/ingest/ingest_exclusions.py"
