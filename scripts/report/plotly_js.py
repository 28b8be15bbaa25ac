"""Snakemake entry point: the figures' shared local copy of plotly.js (spinestudy.report.export.write_plotly_js)."""
from spinestudy import logs
from spinestudy.report.export import write_plotly_js

logs.to_file(snakemake.log[0])

write_plotly_js(snakemake.output[0])
