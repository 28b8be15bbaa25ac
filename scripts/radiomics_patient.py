"""Snakemake entry point: one patient's radiomics (spinestudy.radiomics_job.run_patient)."""
from spinestudy.radiomics_job import run_patient

run_patient(
    volume_dir=snakemake.input.volumes,
    mask=snakemake.input.mask[0] if snakemake.input.mask else None,
    settings=snakemake.params.settings,
    centre=snakemake.wildcards.centre,
    patient=snakemake.wildcards.patient,
    out=snakemake.output.features,
    out_diagnostics=snakemake.output.diagnostics,
    out_exclusions=snakemake.output.exclusions,
)
