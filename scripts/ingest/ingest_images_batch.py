"""Snakemake entry point: ingest one batch of patients' converted images (spinestudy.ingest.images.ingest_batch)."""
from spinestudy import logs, pseudonym
from spinestudy.ingest.images import ingest_batch

logs.to_file(snakemake.log[0])

out = snakemake.output
ingest_batch(snakemake.params.images, snakemake.wildcards.centre, snakemake.params.ingest,
             pseudonym.key_from_config(snakemake.config), out.index, out.exclusions, out.volumes)
