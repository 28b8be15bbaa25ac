"""Snakemake entry point: generate the demo cohort (spinestudy.demo.generate)."""
from spinestudy.demo import generate

generate(
    out=snakemake.params.out,
    patients=snakemake.params.patients,
    centres=snakemake.params.centres,
    seed=snakemake.params.seed,
    jobs=snakemake.threads,
)
