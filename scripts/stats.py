"""Snakemake entry point of the statistics rules: spinestudy.<params.module>.write(inputs, settings, out)."""
import importlib

module = importlib.import_module(f"spinestudy.{snakemake.params.module}")
module.write(**dict(snakemake.input.items()), settings=snakemake.params.settings, out=snakemake.output[0])
