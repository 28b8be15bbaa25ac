"""Snakemake entry point: record the run's data version and its changes (spinestudy.provenance.changes.record)."""
from spinestudy import logs
from spinestudy.provenance.changes import record
from spinestudy.provenance.snapshot import TABLES

logs.to_file(snakemake.log[0])

tables = {name: snakemake.input[name] for name in TABLES}
record(snakemake.input.series_index, snakemake.input.analysis, snakemake.input.gradings, tables,
       snakemake.input.classifier, snakemake.config, snakemake.params.settings, snakemake.output.version,
       snakemake.output.changes)
