# Two commands: `make run` (whole workflow on the demo cohort) and `make test`.
# Both create .venv and install the pinned dependencies first if needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CORES  ?= all

.PHONY: run test clean

run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES)

test: $(STAMP)
	$(BIN)/python -m pytest

# pyradiomics 3.0.1's sdist needs numpy at build time (and 3.1.0's is broken on Python 3.11),
# so numpy goes in first and pyradiomics builds without isolation; pip then sees it satisfied.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet numpy==2.4.6 setuptools wheel
	$(BIN)/python -m pip install --quiet --no-build-isolation pyradiomics==3.0.1
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

clean:
	rm -rf results logs .snakemake
