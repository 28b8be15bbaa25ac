"""Snakemake entry point: merge per-patient series indices (spinestudy.ingest.merge_index)."""
from spinestudy.ingest import merge_index

merge_index(list(snakemake.input), snakemake.output[0])
