"""Snakemake entry point: one batch of patients' radiomics (spinestudy.radiomics.job.run_batch)."""
from spinestudy import logs
from spinestudy.radiomics.job import run_batch

logs.to_file(snakemake.log[0])

run_batch(
    volume_dir=snakemake.input.volumes,
    patient_masks=snakemake.params.masks,
    settings=snakemake.params.settings,
    centre=snakemake.wildcards.centre,
    out=snakemake.output.features,
    out_diagnostics=snakemake.output.diagnostics,
    out_exclusions=snakemake.output.exclusions,
)
