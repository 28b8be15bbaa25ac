"""Snakemake entry point: merge per-patient series indices (spinestudy.ingest.job.merge_index)."""
from spinestudy import logs
from spinestudy.ingest.job import merge_index

logs.to_file(snakemake.log[0])

merge_index(list(snakemake.input), snakemake.output[0])
