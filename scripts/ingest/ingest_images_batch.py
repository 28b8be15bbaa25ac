"""Snakemake entry point: ingest one batch of patients' converted images (spinestudy.ingest.images)."""
import SimpleITK as sitk

from spinestudy import pseudonym
from spinestudy.ingest.images import ingest_patient
from spinestudy.ingest.job import ingest_batch

sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(snakemake.threads)
ingest_batch(
    folders=snakemake.params.images,
    centre=snakemake.wildcards.centre,
    cfg=snakemake.params.ingest,
    key=pseudonym.key_from_config(snakemake.config),
    out_index=snakemake.output.index,
    out_exclusions=snakemake.output.exclusions,
    out_volumes=snakemake.output.volumes,
    per_patient=ingest_patient,
)
