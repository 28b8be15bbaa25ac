"""Snakemake entry point: the self-contained study page (spinestudy.report.study.write_study)."""
from spinestudy.report.study import write_study

write_study(dict(snakemake.input.items()), snakemake.config, snakemake.output[0])
