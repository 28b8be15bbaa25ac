"""Snakemake entry point: the IBSI / CLEAR reporting checklist (spinestudy.report.study.write_checklist)."""
from spinestudy.report.study import write_checklist

write_checklist(snakemake.config, snakemake.output[0], **dict(snakemake.input.items()))
