"""The in-memory analysis-shaped tables (stats_cohort.cohort) have the shape of the tables stage's outputs."""

from spinestudy import study
from spinestudy.tables.schemas import tables as study_tables
from stats_cohort import cohort

RUDDS = study_tables(study.load("rudds"))


def test_cohort_has_the_tables_stage_shape():
    analysis, long, _ = cohort(60, seed=3)
    RUDDS.analysis.validate(analysis)
    assert len(analysis) == 60 and len(long) == 300
    assert {"pfirrmann_ge4", "modic_any", "tep_score", "modic_upper", "tep_lower"} <= set(long.columns)
