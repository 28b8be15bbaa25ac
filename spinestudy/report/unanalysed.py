"""Mapped but not analysed: study variables that a centre maps to one of its columns but that no analysis of the
run reads (Table 1's rows and group, the derived variables' sources, the associations, LASSO, reader agreement
where a centre sends a second read, prediction models, and the procedure date of the ingestion's study choice).
Listed once in the study page's log and on the page, by centre and variable (never the centre's column names)."""

import logging
from html import escape

from spinestudy import study as studies
from spinestudy.stats import agreement, associations, lasso
from spinestudy.tables.merge import SECOND_READS

LOG = logging.getLogger(__name__)
TABLES = ("clinical", "gradings")
KEYS = {"patient_id", "level"}  # the mappings' key columns, not variables


def used(config: dict, study: studies.Study) -> set[str]:
    """The study variables some analysis of this run reads."""
    rows = {row["variable"] for row in study.analyses.get("table1", {}).get("rows", [])}
    group = {study.group.name} if study.group else set()
    models = config.get("prediction", {}).get("models", {}).values()
    predicted = {v for model in models for v in (*model["predictors"], model["outcome"])}
    second = any(f"gradings_{read}" in spec for spec in config["centres"].values() for read in SECOND_READS)
    prevalence = {item["name"] for item in study.analyses.get("prevalence", {}).get("findings", [])}
    return (rows | group | prevalence | study.sources() | associations.uses(study) | lasso.uses(study) | predicted
            | {"procedure_date"} | (set(agreement.scales(study)) if second else set()))


def mapped(config: dict) -> dict[str, set[str]]:
    """Centre -> the variables its clinical and grading mappings map to a column (not null)."""
    found = {}
    for centre, spec in config["centres"].items():
        names = set()
        for table in TABLES:
            mapping = spec.get(table, {})
            names |= {v for v, column in mapping.get("columns", {}).items() if column and v not in KEYS}
            names |= {v for side in mapping.get("endplates", {}).values() for v, column in side.items() if column}
        found[centre] = names
    return found


def unanalysed(config: dict) -> dict[str, list[str]]:
    """Centre -> its mapped variables no analysis reads (sorted); centres with none left out."""
    reads = used(config, studies.of(config))
    return {c: sorted(names - reads) for c, names in sorted(mapped(config).items()) if names - reads}


def html(config: dict) -> str:
    """The study page's paragraph, logged once as a warning when there is something to say."""
    found = unanalysed(config)
    if not found:
        return "<p>Every mapped variable is analysed.</p>"
    text = "; ".join(f"centre {c}: {', '.join(names)}" for c, names in found.items())
    LOG.warning("mapped but not analysed (no analysis of this study reads them): %s", text)
    return f'<p id="unanalysed">Mapped but not analysed (no analysis of this study reads them): {escape(text)}.</p>'
