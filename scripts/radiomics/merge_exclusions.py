"""Snakemake entry point: merge per-job exclusion logs (spinestudy.exclusions.merge)."""
from spinestudy import logs
from spinestudy.exclusions import merge

logs.to_file(snakemake.log[0])

merge(list(snakemake.input), snakemake.output[0])
