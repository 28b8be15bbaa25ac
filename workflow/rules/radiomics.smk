# Radiomics: one PyRadiomics job per batch of patients (config batch_digits; all ROIs and sequences of a
# series from one image load), then the cohort-wide feature, diagnostics and exclusion tables; and the
# robustness re-extraction of perturbed ROIs (its ICC is in radiomics_stats.smk).


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
        "../../scripts/radiomics/radiomics_batch.py"


rule radiomics_features:
    input:
        per_batch("results/radiomics/{centre}/{batch}.parquet"),
    output:
        "results/radiomics/features.parquet",
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
    resources:
        mem_mb=2000,
        runtime=15,
    script:
        "../../scripts/radiomics/merge_exclusions.py"


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
        "../../scripts/radiomics/radiomics_robustness.py"
