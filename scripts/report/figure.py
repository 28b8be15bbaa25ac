"""Snakemake entry point of the figure rules (spinestudy.report.study.write_figure)."""
from spinestudy.report.study import write_figure

write_figure(snakemake.params.figure, dict(snakemake.input.items()), snakemake.output.html,
             snakemake.output.get("png"), snakemake.output.get("svg"))
