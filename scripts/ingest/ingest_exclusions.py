"""Snakemake entry point: the ingestion exclusion log (spinestudy.ingest.job.merge_exclusions)."""
from spinestudy import logs, pseudonym
from spinestudy.ingest.job import merge_exclusions

logs.to_file(snakemake.log[0])

merge_exclusions(list(snakemake.input), snakemake.params.stray, snakemake.output.exclusions,
                 pseudonym.key_from_config(snakemake.config), snakemake.output.lookup)
