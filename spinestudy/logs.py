"""A Snakemake job's log file. Every entry point in scripts/ calls `logs.to_file(snakemake.log[0])` first thing
after its imports (a `run:` block: `logs.to_file(log[0])`; a `shell:` command: `2> {log}`), so that what a job
has to say lands in its rule's `log:` file: spinestudy's own messages from INFO up, every library's warnings
and errors, Python warnings, and the traceback of a failure. Jobs running side by side then no longer mix their
output on the terminal, and on a cluster a failed job's traceback is under logs/, next to the others."""

import logging
import os
import socket
import sys
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
log = logging.getLogger("spinestudy")


def _worth_keeping(record: logging.LogRecord) -> bool:
    """spinestudy's records from INFO up, anyone's from WARNING up: libraries' INFO chatter stays out
    (PyRadiomics sets its own logger to INFO and would write several lines per feature class)."""
    return record.levelno >= logging.WARNING or record.name.partition(".")[0] == "spinestudy"


def to_file(path: str | os.PathLike) -> None:
    """Write this process's log records, warnings and uncaught exception to `path` (replaced)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, mode="w")
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(_worth_keeping)
    logging.getLogger().addHandler(handler)
    log.setLevel(logging.INFO)
    logging.captureWarnings(True)
    report = sys.excepthook

    def log_failure(kind, error, traceback):
        log.critical("job failed", exc_info=(kind, error, traceback))
        report(kind, error, traceback)  # and on the terminal, as without a log

    sys.excepthook = log_failure
    log.info("started on %s (pid %d)", socket.gethostname(), os.getpid())
