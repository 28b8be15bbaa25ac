"""Snakemake entry point: merge per-patient radiomics tables (spinestudy.radiomics.extract.merge)."""
from spinestudy import logs
from spinestudy.radiomics.extract import merge

logs.to_file(snakemake.log[0])

merge(list(snakemake.input), snakemake.output[0])
