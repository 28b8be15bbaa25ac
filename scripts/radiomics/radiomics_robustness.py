"""Snakemake entry point: one batch's perturbed re-extraction (spinestudy.radiomics.job.run_robustness_batch)."""
from spinestudy import logs
from spinestudy.radiomics.job import run_robustness_batch

logs.to_file(snakemake.log[0])

run_robustness_batch(
    volume_dir=snakemake.input.volumes,
    patient_masks=snakemake.params.masks,
    radiomics=snakemake.params.radiomics,
    radiomics_stats=snakemake.params.radiomics_stats,
    centre=snakemake.wildcards.centre,
    out=snakemake.output[0],
)
