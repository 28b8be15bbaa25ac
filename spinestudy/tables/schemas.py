"""Pandera models of the tables stage, and lazy validation that returns every failure at once.

Gradings are two tables, not one long table with an `endplate` column: Pfirrmann and Jarosz grade a
disc (one value per level), Modic and Rajasekaran grade an endplate (two values per level). One long
table would repeat each disc grade on both endplate rows, so the copies could disagree and every
disc-level count would need de-duplicating; two tables keep one row per graded structure.

Ranges and categories are plausibility and scale limits; cross-field rules are dataframe checks whose
names mention the columns they involve (validation reports those columns for a failing row).
"""

import re

import pandas as pd
import pandera.pandas as pa
from pandera.typing.pandas import Series

from spinestudy.anatomy import ENDPLATES, LEVELS, SEQUENCES, SYNDROMES

KEY = ["centre", "patient"]
PSEUDONYM = r"^p[0-9a-f]{12}$"
AFTER_BEFORE = (("nprs_back_after", "nprs_back_before"), ("nprs_leg_after", "nprs_leg_before"))
AGE_DECADES = tuple(f"{lo}-{lo + 9}" for lo in range(10, 90, 10))  # RuDDS Figure 2: 10 to 90 years
SERIES_STATUS = ("volume", "not used", "excluded")

Int = pd.Int64Dtype
Bool = pd.BooleanDtype


def grade(low: int, high: int) -> pa.Field:
    """A nullable integer grade on the scale low..high."""
    return pa.Field(ge=low, le=high, nullable=True)


class Patient(pa.DataFrameModel):
    """Every table is keyed by centre and patient pseudonym (never a raw id)."""

    centre: Series[str]
    patient: Series[str] = pa.Field(str_matches=PSEUDONYM)

    class Config:
        coerce = True
        strict = True


class Clinical(Patient):
    """One row per patient: demographics, leading syndrome and questionnaires (RuDDS Methods)."""

    age: Series[float] = pa.Field(ge=0, le=120)  # years
    sex: Series[str] = pa.Field(isin=["F", "M"])
    bmi: Series[float] = pa.Field(ge=10, le=80, nullable=True)  # kg/m2
    smoking: Series[Bool] = pa.Field(nullable=True)
    syndrome: Series[str] = pa.Field(isin=SYNDROMES)
    nprs_back_before: Series[Int] = grade(0, 10)
    nprs_leg_before: Series[Int] = grade(0, 10)
    nprs_back_after: Series[Int] = grade(0, 10)
    nprs_leg_after: Series[Int] = grade(0, 10)
    odi_before: Series[Int] = grade(0, 100)
    dn4_before: Series[Int] = grade(0, 10)
    procedure_date: Series[pd.Timestamp] = pa.Field(nullable=True)

    class Config:
        unique = KEY

    @pa.dataframe_check(
        name="nprs_back_after, nprs_leg_after only where nprs_back_before, nprs_leg_before exist"
    )
    def after_needs_before(cls, df: pd.DataFrame) -> pd.Series:
        """The after-questionnaire is a follow-up of the before-questionnaire (RuDDS protocol)."""
        ok = pd.Series(True, index=df.index)
        for after, before in AFTER_BEFORE:
            ok &= df[after].isna() | df[before].notna()
        return ok


class LevelGradings(Patient):
    """One row per patient and lumbar level: disc grades."""

    level: Series[str] = pa.Field(isin=LEVELS)
    pfirrmann: Series[Int] = grade(1, 5)
    jarosz_height: Series[Int] = grade(0, 3)  # Jarosz disc height reduction
    osteophytes: Series[Int] = grade(0, 3)  # Jarosz osteophytes
    modic_disc: Series[Int] = grade(0, 3)  # Modic type when a source grades it per disc (SPIDER)
    disc_narrowing: Series[Bool] = pa.Field(nullable=True)  # binary gradings (SPIDER)
    disc_bulging: Series[Bool] = pa.Field(nullable=True)
    disc_herniation: Series[Bool] = pa.Field(nullable=True)
    spondylolisthesis: Series[Bool] = pa.Field(nullable=True)

    class Config:
        unique = KEY + ["level"]

    @pa.dataframe_check(name="level: all five lumbar levels L1-L2..L5-S1 graded")
    def all_levels(cls, df: pd.DataFrame) -> pd.Series:
        return df.groupby(KEY)["level"].transform("nunique") == len(LEVELS)


class EndplateGradings(Patient):
    """One row per patient, level and endplate (upper = inferior endplate of the cranial vertebra)."""

    level: Series[str] = pa.Field(isin=LEVELS)
    endplate: Series[str] = pa.Field(isin=ENDPLATES)
    modic: Series[Int] = grade(0, 3)  # 0 = none, 1-3 = Modic type
    tep: Series[Int] = grade(1, 6)  # Rajasekaran endplate defect grade
    endplate_defect: Series[Bool] = pa.Field(nullable=True)  # binary endplate change (SPIDER)

    class Config:
        unique = KEY + ["level", "endplate"]


class SeriesIndex(Patient):
    """results/ingest/series_index.parquet (columns of ingest.INDEX_COLUMNS)."""

    study_uid: Series[str]
    series_uid: Series[str] = pa.Field(unique=True)
    series_number: Series[Int] = pa.Field(nullable=True)
    series_description: Series[str] = pa.Field(nullable=True)
    modality: Series[str] = pa.Field(nullable=True)
    sequence: Series[str] = pa.Field(isin=SEQUENCES + ("other",))
    orientation: Series[str] = pa.Field(nullable=True)
    n_slices: Series[Int] = pa.Field(ge=0)
    n_rows: Series[Int] = pa.Field(alias="rows", ge=0, nullable=True)
    n_columns: Series[Int] = pa.Field(alias="columns", ge=0, nullable=True)
    pixel_spacing_row: Series[float] = pa.Field(gt=0, nullable=True)
    pixel_spacing_col: Series[float] = pa.Field(gt=0, nullable=True)
    slice_thickness: Series[float] = pa.Field(gt=0, nullable=True)
    slice_spacing: Series[float] = pa.Field(gt=0, nullable=True)
    manufacturer: Series[str] = pa.Field(nullable=True)
    model: Series[str] = pa.Field(nullable=True)
    field_strength: Series[float] = pa.Field(gt=0, nullable=True)
    repetition_time: Series[float] = pa.Field(ge=0, nullable=True)
    echo_time: Series[float] = pa.Field(ge=0, nullable=True)
    inversion_time: Series[float] = pa.Field(ge=0, nullable=True)
    status: Series[str] = pa.Field(isin=SERIES_STATUS)
    reason: Series[str] = pa.Field(nullable=True)
    volume: Series[str] = pa.Field(nullable=True)

    class Config:
        ordered = True


class Analysis(Clinical):
    """One row per analysed patient: the clinical row, derived variables (see derived.DEFINITIONS),
    the number of usable MRI volumes and optional radiomics summaries (columns radiomics_*)."""

    age_decade: Series[str] = pa.Field(isin=AGE_DECADES, nullable=True)
    mcid: Series[Bool] = pa.Field(nullable=True)
    pfirrmann_sum: Series[Int] = grade(5, 25)
    pfirrmann_ge4_n: Series[Int] = grade(0, 5)
    modic_any_n: Series[Int] = grade(0, 5)
    modic_type1_n: Series[Int] = grade(0, 5)
    modic_type2_n: Series[Int] = grade(0, 5)
    modic_type3_n: Series[Int] = grade(0, 5)
    tep_total: Series[Int] = grade(10, 60)
    endplate_defect_n: Series[Int] = grade(0, 5)
    jarosz_score: Series[Int] = grade(0, 30)
    height_reduction_n: Series[Int] = grade(0, 5)
    osteophytes_n: Series[Int] = grade(0, 5)
    n_findings: Series[Int] = grade(0, 5)
    n_volumes: Series[Int] = pa.Field(ge=0, nullable=True)
    radiomics: Series[float] = pa.Field(alias=r"^radiomics_.+", regex=True, nullable=True, required=False)

    @pa.dataframe_check(name="mcid exactly where nprs_back_before and nprs_back_after both exist")
    def mcid_needs_both(cls, df: pd.DataFrame) -> pd.Series:
        return df["mcid"].notna() == (df["nprs_back_before"].notna() & df["nprs_back_after"].notna())


def dtypes(model: type[pa.DataFrameModel]) -> dict[str, str]:
    """Column -> pandas dtype name of a model (regex columns left out)."""
    return {name: str(col.dtype) for name, col in model.to_schema().columns.items() if not col.regex}


def failures(model: type[pa.DataFrameModel], frame: pd.DataFrame) -> pd.DataFrame:
    """Validate lazily; one row per (check, frame index) with the columns and values involved.

    Columns: index, check, columns (tuple), values (tuple). Empty when the frame is valid. A
    dataframe-level check reports the columns its name mentions (all columns when it names none)."""
    try:
        model.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    else:
        return pd.DataFrame(columns=["index", "check", "columns", "values"])
    cases = cases.assign(check=cases["check"].astype(str), column=cases["column"].astype(str))
    named = cases["check"].map(lambda check: set(re.findall(r"[a-z0-9_]+", check)) & set(frame.columns))
    frame_level = cases["schema_context"] == "DataFrameSchema"
    keep = [not level or not names or column in names
            for level, column, names in zip(frame_level, cases["column"], named)]
    cases = cases[keep]
    rows = [
        {"index": index, "check": check, "columns": tuple(g["column"]), "values": tuple(g["failure_case"])}
        for (check, index), g in cases.groupby(["check", cases["index"].astype(object)], dropna=False,
                                               sort=False)
    ]
    return pd.DataFrame(rows, columns=["index", "check", "columns", "values"])
