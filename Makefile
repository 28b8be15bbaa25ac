# Two commands: `make run` (whole workflow on the demo cohort) and `make test`.
# Both create .venv and install the pinned dependencies first if needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CORES  ?= all

.PHONY: run test clean system

# A run killed outright leaves Snakemake's lock behind: spinestudy.unlock removes it when no Snakemake process
# runs here, and rerun-incomplete (profiles/default) redoes the jobs the killed run left unfinished.
run: $(STAMP) system
	$(BIN)/python -m spinestudy.unlock
	$(BIN)/snakemake --cores $(CORES)

test: $(STAMP) system
	$(BIN)/python -m pytest

# Chromium (Debian package) lets kaleido export PNG/SVG figures and the report test open study.html.
# Installed when missing and we may (root with apt-get, as on CI); otherwise the workflow writes HTML
# figures only and says so once.
system:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-liberation >/dev/null; \
	  else echo "note: no chromium; PNG/SVG figures need it (sudo apt-get install chromium fonts-liberation)"; fi; }

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
