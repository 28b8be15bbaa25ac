"""Snakemake entry point: merge per-patient radiomics tables (spinestudy.radiomics_extract.merge)."""
from spinestudy.radiomics_extract import merge

merge(list(snakemake.input), snakemake.output[0])
