"""Snakemake entry point of the statistics, radiomics-statistics and prediction rules:
spinestudy.<params.module>.write(inputs and outputs by name, settings=params.settings)."""
import importlib

from spinestudy import logs

logs.to_file(snakemake.log[0])

module = importlib.import_module(f"spinestudy.{snakemake.params.module}")
inputs = {k: v if isinstance(v, str) else list(v) for k, v in snakemake.input.items()}
module.write(**inputs, **dict(snakemake.output.items()), settings=snakemake.params.settings)
