"""Snakemake entry point: the figures' shared local copy of plotly.js (spinestudy.report.export.write_plotly_js)."""
from spinestudy.report.export import write_plotly_js

write_plotly_js(snakemake.output[0])
