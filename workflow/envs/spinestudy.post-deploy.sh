#!/usr/bin/env bash
# Snakemake runs this once in the new environment of spinestudy.yaml, from the working directory, which must be
# the repository (as for `make run`). pyradiomics 3.0.1's sdist imports numpy while pip builds it, which pip's
# isolated build cannot see, so it is built here against the environment's numpy (as the Makefile does); then
# spinestudy itself, whose dependencies are all pinned in spinestudy.yaml.
set -euo pipefail
grep -qs '^name = "spinestudy"' pyproject.toml || {
    echo "run Snakemake from the spinestudy repository to deploy its conda environment (cwd: $PWD)" >&2
    exit 1
}
python -m pip install --no-build-isolation pyradiomics==3.0.1
python -m pip install --no-deps -e .
