"""Snakemake entry point: the tables stage (spinestudy.tables.merge.build_tables)."""
from pathlib import Path

from spinestudy import logs, pseudonym
from spinestudy.tables.merge import build_tables

logs.to_file(snakemake.log[0])

build_tables(
    centres=snakemake.params.centres,
    key=pseudonym.key_from_config(snakemake.config),
    out_dir=Path(snakemake.output.analysis).parent,
    series_index=snakemake.input.series_index,
    on_invalid=snakemake.params.on_invalid,
    study_window=snakemake.params.study_window,
    min_patients=snakemake.params.min_patients,
    resolution=snakemake.params.resolution,
    lookup=snakemake.output.lookup,
    study=snakemake.input.study,
)
