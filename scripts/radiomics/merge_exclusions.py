"""Snakemake entry point: merge per-job exclusion logs (spinestudy.exclusions.merge)."""
from spinestudy.exclusions import merge

merge(list(snakemake.input), snakemake.output[0])
