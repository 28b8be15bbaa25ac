"""Snakemake entry point: merge per-patient radiomics tables (spinestudy.radiomics.extract.merge)."""
from spinestudy.radiomics.extract import merge

merge(list(snakemake.input), snakemake.output[0])
