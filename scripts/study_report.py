"""Snakemake entry point: the self-contained study page (spinestudy.report.write_study)."""
from spinestudy.report import write_study

write_study(dict(snakemake.input.items()), snakemake.config, snakemake.output[0])
