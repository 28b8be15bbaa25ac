"""Snakemake entry point: remove the outputs of patients no longer delivered (spinestudy.provenance.withdraw)."""
from spinestudy import logs
from spinestudy.provenance.withdraw import withdraw

logs.to_file(snakemake.log[0])

p = snakemake.params
withdraw(p.delivered, p.batch_files, p.robustness, p.robustness_files, snakemake.output.ledger, p.versions)
