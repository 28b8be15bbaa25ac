"""Snakemake entry point of the radiomics statistics rules:
spinestudy.<params.module>.write(inputs and outputs by name, settings=the radiomics_stats config)."""
import importlib

module = importlib.import_module(f"spinestudy.{snakemake.params.module}")
files = {k: (list(v) if k == "perturbed" else v) for k, v in snakemake.input.items()}
module.write(**files, **dict(snakemake.output.items()), settings=snakemake.config["radiomics_stats"])
