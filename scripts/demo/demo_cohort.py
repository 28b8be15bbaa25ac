"""Snakemake entry point: generate the demo cohort (spinestudy.demo.cohort.generate)."""
from spinestudy.demo.cohort import generate

generate(
    out=snakemake.params.out,
    patients=snakemake.params.patients,
    centres=snakemake.params.centres,
    seed=snakemake.params.seed,
    jobs=snakemake.threads,
    imaging_patients=snakemake.params.imaging_patients,
    imaging_centres=snakemake.params.imaging_centres,
)
