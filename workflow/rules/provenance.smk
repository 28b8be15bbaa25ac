# Data versions: a pseudonymous snapshot of each complete run (patients, per-stage digests, manuscript
# numbers) stored under results/provenance/, and what changed since the previous run (or provenance.since).


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
