"""Snakemake entry point: the IBSI / CLEAR reporting checklist (spinestudy.report.study.write_checklist)."""
from spinestudy import logs
from spinestudy.report.study import write_checklist

logs.to_file(snakemake.log[0])

write_checklist(snakemake.config, snakemake.output[0], **dict(snakemake.input.items()))
