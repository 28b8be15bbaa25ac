# DICOM ingestion: one job per batch of patient folders (config batch_digits; by default one patient),
# then the cohort-wide index and exclusion log. Files are named by keyed labels in results/; the label ->
# path lookups go to logs/ingest/files/ (local, never under results/).
from spinestudy.ingest.procedure_dates import procedure_dates


@functools.cache
def centre_procedure_dates(centre):
    cohort_ready()
    return procedure_dates(centre, config["centres"][centre].get("clinical"), KEY)


def batch_procedure_dates(wc):
    """Pseudonym -> procedure date of a batch's patients (only when the study choice rule uses it)."""
    if config["ingest"]["study_choice"] != "latest_on_or_before_procedure":
        return {}
    dates = centre_procedure_dates(wc.centre)
    return {p: dates.get(p) for p in batch(wc)}


rule ingest_batch:
    input:
        folders=lambda wc: list(map(str, batch(wc).values())),
        patient_ids=lambda wc: config["centres"][wc.centre].get("dicom_patient_ids", []),
    output:
        index="results/ingest/batches/{centre}/{batch}.parquet",
        exclusions="results/ingest/batches/{centre}/{batch}.exclusions.csv",
        volumes=directory("results/ingest/volumes/{centre}/{batch}"),
        lookup="logs/ingest/files/{centre}/{batch}.csv",
    params:
        folders=lambda wc: {p: str(f) for p, f in batch(wc).items()},
        files=lambda wc: [folder_digest(f) for f in batch(wc).values()],
        procedure_dates=batch_procedure_dates,
        ingest=config["ingest"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=lambda wc: 20 * len(batch(wc)),
    script:
        "../../scripts/ingest/ingest_batch.py"


rule series_index:
    input:
        per_batch("results/ingest/batches/{centre}/{batch}.parquet"),
    output:
        "results/ingest/series_index.parquet",
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
    params:
        stray=lambda wc: {c: stray_files(c) for c in IMAGING_CENTRES},
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/ingest/ingest_exclusions.py"
