"""Snakemake entry point: merge per-patient series indices (spinestudy.ingest.job.merge_index)."""
from spinestudy.ingest.job import merge_index

merge_index(list(snakemake.input), snakemake.output[0])
