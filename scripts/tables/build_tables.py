"""Snakemake entry point: the tables stage (spinestudy.tables.merge.build_tables)."""
from pathlib import Path

from spinestudy import pseudonym
from spinestudy.tables.merge import build_tables

build_tables(
    centres=snakemake.params.centres,
    key=pseudonym.key_from_config(snakemake.config),
    out_dir=Path(snakemake.output.analysis).parent,
    series_index=snakemake.input.series_index,
    on_invalid=snakemake.params.on_invalid,
    mcid_threshold=snakemake.params.mcid_threshold,
    resolution=snakemake.params.resolution,
)
