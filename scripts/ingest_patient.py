"""Snakemake entry point: ingest one patient folder (spinestudy.ingest.ingest_patient)."""
import SimpleITK as sitk

from spinestudy import pseudonym
from spinestudy.ingest import ingest_patient

sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(snakemake.threads)
ingest_patient(
    folder=snakemake.input.folder,
    centre=snakemake.wildcards.centre,
    patient=snakemake.wildcards.patient,
    cfg=snakemake.params.ingest,
    key=pseudonym.key_from_config(snakemake.config),
    out_index=snakemake.output.index,
    out_exclusions=snakemake.output.exclusions,
    out_volumes=snakemake.output.volumes,
)
