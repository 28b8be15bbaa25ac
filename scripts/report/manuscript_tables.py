"""Snakemake entry point: manuscript tables as Markdown, LaTeX and XLSX (spinestudy.report.manuscript_tables.write)."""
from pathlib import Path

from spinestudy import logs
from spinestudy.report.manuscript_tables import write

logs.to_file(snakemake.log[0])

write(dict(snakemake.input.items()), snakemake.config, Path(snakemake.output.table1_md).parent, snakemake.output.xlsx)
