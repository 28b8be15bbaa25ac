# Tables: every centre's clinical and grading files, validated (pandera), mapped and merged.


rule tables:
    input:
        tables=table_files,
        series_index="results/ingest/series_index.parquet",
    output:
        analysis="results/tables/analysis.parquet",
        gradings="results/tables/gradings_long.parquet",
        reads="results/tables/reads_long.parquet",
        exclusions="results/tables/exclusions.csv",
        flow="results/tables/flow.csv",
        missingness="results/tables/missingness.csv",
    params:
        centres=config["centres"],
        on_invalid=config["tables"]["on_invalid"],
        mcid_threshold=config["tables"]["mcid_threshold"],
        resolution=config["tables"].get("reader_resolution", "first"),
    resources:
        mem_mb=4000,
        runtime=20,
    script:
        "../../scripts/tables/build_tables.py"
