"""Snakemake entry point: one patient's perturbed re-extraction (spinestudy.radiomics_job.run_robustness)."""
from spinestudy.radiomics_job import run_robustness

run_robustness(
    volume_dir=snakemake.input.volumes,
    mask=snakemake.input.mask[0] if snakemake.input.mask else None,
    radiomics=snakemake.params.radiomics,
    radiomics_stats=snakemake.params.radiomics_stats,
    centre=snakemake.wildcards.centre,
    patient=snakemake.wildcards.patient,
    out=snakemake.output[0],
)
