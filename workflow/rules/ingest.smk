# DICOM ingestion: one job per batch of patient folders (config batch_digits; by default one patient),
# then the cohort-wide index and exclusion log.


rule ingest_batch:
    input:
        folders=lambda wc: list(map(str, batch(wc).values())),
    output:
        index="results/ingest/batches/{centre}/{batch}.parquet",
        exclusions="results/ingest/batches/{centre}/{batch}.exclusions.csv",
        volumes=directory("results/ingest/volumes/{centre}/{batch}"),
    log:
        "logs/ingest_batch/{centre}/{batch}.log",
    conda:
        "../envs/spinestudy.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=lambda wc: 20 * len(batch(wc)),
    params:
        folders=lambda wc: {p: str(f) for p, f in batch(wc).items()},
        files=lambda wc: [folder_digest(f) for f in batch(wc).values()],
        ingest=config["ingest"],
    script:
        "../../scripts/ingest/ingest_batch.py"


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
        "results/ingest/exclusions.csv",
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
