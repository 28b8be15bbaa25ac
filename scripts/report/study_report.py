"""Snakemake entry point: the self-contained study page (spinestudy.report.study.write_study)."""
from spinestudy import logs
from spinestudy.report.study import write_study

logs.to_file(snakemake.log[0])

write_study(dict(snakemake.input.items()), snakemake.config, snakemake.output[0])
