# Tables: every centre's clinical and grading files, validated (pandera), mapped and merged. A table
# file's content digest is a parameter: a corrected file reruns the stage even with an older mtime (cp -p).
# Table files are named by keyed labels in results/; the label -> path lookup goes to logs/tables/files.csv.


rule tables:
    input:
        tables=table_files,
        study=STUDY.path,
        series_index="results/ingest/series_index.parquet",
    output:
        analysis="results/tables/analysis.parquet",
        gradings="results/tables/gradings_long.parquet",
        reads="results/tables/reads_long.parquet",
        exclusions="results/tables/exclusions.csv",
        flow="results/tables/flow.csv",
        missingness="results/tables/missingness.csv",
        lookup="logs/tables/files.csv",
    log:
        "logs/tables.log",
    conda:
        "../envs/spinestudy.yaml"
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        centres=config["centres"],
        digests=table_digests,
        on_invalid=config["tables"]["on_invalid"],
        study_window=config["tables"]["study_window"],
        min_patients=config["tables"]["min_patients"],
        resolution=config["tables"].get("reader_resolution", "first"),
    script:
        "../../scripts/tables/build_tables.py"
