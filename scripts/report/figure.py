"""Snakemake entry point of the figure rules (spinestudy.report.study.write_figure)."""
from spinestudy import logs
from spinestudy.report.study import write_figure

logs.to_file(snakemake.log[0])

write_figure(snakemake.params.figure, dict(snakemake.input.items()), snakemake.output.html,
             snakemake.output.get("png"), snakemake.output.get("svg"))
