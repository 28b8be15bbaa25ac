"""Snakemake entry point: ingest one batch of patient folders (spinestudy.ingest.job.ingest_batch)."""
import SimpleITK as sitk

from spinestudy import logs, pseudonym
from spinestudy.ingest.job import ingest_batch

logs.to_file(snakemake.log[0])

sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(snakemake.threads)
ingest_batch(
    folders=snakemake.params.folders,
    centre=snakemake.wildcards.centre,
    cfg=snakemake.params.ingest,
    key=pseudonym.key_from_config(snakemake.config),
    out_index=snakemake.output.index,
    out_exclusions=snakemake.output.exclusions,
    out_volumes=snakemake.output.volumes,
    out_lookup=snakemake.output.lookup,
    out_descriptions=snakemake.output.descriptions,
    procedure_dates=snakemake.params.procedure_dates,
    patient_ids=snakemake.input.patient_ids or None,
)
