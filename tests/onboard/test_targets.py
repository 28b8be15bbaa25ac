"""targets() lists exactly what a centre mapping must name: the columns the table readers take from the
study's schemas (tables.schemas.Tables), each endplate apart, with the study file's ranges and levels."""

from spinestudy import study as studies
from spinestudy.onboard.targets import targets
from spinestudy.tables.schemas import tables


def test_targets_are_the_columns_the_readers_require():
    schemas = tables(studies.load())
    found = targets()
    assert [t.key for t in found if t.table == "clinical"] == ["patient_id"] + schemas.clinical_columns
    assert [t.key for t in found if t.table == "gradings" and "." not in t.key] == ["patient_id"] + \
        schemas.level_columns
    assert [t.key for t in found if "." in t.key] == [f"endplates.{side}.{c}" for side in ("upper", "lower")
                                                      for c in schemas.endplate_columns]
    assert {t.key for t in found if t.required} == schemas.required | {"level"}
    by_key = {t.key: t for t in found}
    assert (by_key["odi_before"].low, by_key["odi_before"].high) == (0, 100)  # rudds.yaml: range [0, 100]
    assert (by_key["endplates.lower.tep"].low, by_key["endplates.lower.tep"].high) == (1, 6)  # Rajasekaran 1-6
    assert by_key["sex"].levels == ("F", "M") and by_key["smoking"].kind == "boolean"
