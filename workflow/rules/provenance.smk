# Data versions: a pseudonymous snapshot of each complete run (patients, per-stage digests, manuscript
# numbers) stored under results/provenance/, and what changed since the previous run (or provenance.since);
# before it, the withdrawal of patients no longer delivered.


# Runs whenever the delivery (its params) changes: removes the per-batch outputs of patients no longer
# delivered and their digests in the stored versions (spinestudy.provenance.withdraw); a batch that keeps
# other patients is rebuilt by its own jobs, whose inputs change. The ledger is updated, not replaced.
rule withdraw:
    input:
        demo_manifest,
    output:
        ledger=update("logs/withdraw/patients.csv"),
    log:
        "logs/withdraw.log",
    conda:
        "../envs/spinestudy.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        delivered=delivery,
        batch_files=lambda wc: batch_files(rules.ingest_batch, rules.ingest_images_batch, rules.radiomics_batch),
        robustness=lambda wc: delivery(wc, in_robustness_sample),
        robustness_files=lambda wc: batch_files(rules.radiomics_robustness_batch),
        versions="results/provenance",
    script:
        "../../scripts/provenance/withdraw.py"


rule provenance:
    input:
        series_index="results/ingest/series_index.parquet",
        analysis="results/tables/analysis.parquet",
        gradings="results/tables/gradings_long.parquet",
        table1="results/stats/table1.csv",
        posthoc="results/stats/posthoc.csv",
        prevalence="results/stats/prevalence_by_decade.csv",
        lasso="results/stats/lasso.csv",
        associations="results/stats/associations.csv",
        classifier=f"{RS}/classifier.json",
        withdrawn=rules.withdraw.output.ledger,
    output:
        version="results/provenance/version.json",
        changes="results/provenance/changes.csv",
    log:
        "logs/provenance.log",
    conda:
        "../envs/spinestudy.yaml"
    resources:
        mem_mb=2000,
        runtime=15,
    params:
        settings=config["provenance"],
    script:
        "../../scripts/provenance/provenance.py"
