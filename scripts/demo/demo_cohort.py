"""Snakemake entry point: generate the demo cohort (spinestudy.demo.cohort.generate)."""
from pathlib import Path

from spinestudy import logs
from spinestudy.demo.cohort import generate

logs.to_file(snakemake.log[0])

generate(
    out=Path(snakemake.output[0]).parent,
    patients=snakemake.params.patients,
    centres=snakemake.params.centres,
    seed=snakemake.params.seed,
    jobs=snakemake.threads,
    imaging_patients=snakemake.params.imaging_patients,
    imaging_centres=snakemake.params.imaging_centres,
)
