"""Snakemake entry point: the ingestion exclusion log (spinestudy.ingest.merge_exclusions)."""
from spinestudy.ingest import merge_exclusions

merge_exclusions(list(snakemake.input), snakemake.params.stray, snakemake.output[0])
