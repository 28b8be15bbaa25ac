"""Pandera models of the tables stage, and lazy validation that returns every failure at once.

Gradings are two tables, not one long table with an `endplate` column: Pfirrmann and Jarosz grade a
disc (one value per level), Modic and Rajasekaran grade an endplate (two values per level). One long
table would repeat each disc grade on both endplate rows, so the copies could disagree and every
disc-level count would need de-duplicating; two tables keep one row per graded structure.

Ranges and categories are plausibility and scale limits; cross-field rules are dataframe checks whose
names mention the columns they involve (validation reports those columns for a failing row).
"""

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

import pandas as pd
import pandera.pandas as pa
from pandera.typing.pandas import Series

from spinestudy.anatomy import ENDPLATES, LEVELS, SEQUENCES
from spinestudy.study import Derived, Study, Variable

KEY = ["centre", "patient"]
PSEUDONYM = r"^p[0-9a-f]{12}$"
SERIES_STATUS = ("volume", "not used", "excluded")

Int = pd.Int64Dtype
Bool = pd.BooleanDtype
DTYPES = {"continuous": float, "count": Int(), "binary": Bool(), "categorical": str, "grade": Int(),
          "date": "datetime64[ns]"}  # study variable kind -> column dtype (a grade on a scale of text codes: str)


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


FRAME = {"coerce": True, "strict": True}  # every table: types coerced, no column the schema lacks
EXTRA = {  # the analysis table's columns besides the clinical row and the derived variables
    "n_volumes": pa.Column(Int(), pa.Check.ge(0), nullable=True),  # usable MRI volumes
    r"^radiomics_.+": pa.Column(float, nullable=True, required=False, regex=True),  # optional radiomics summaries
}


def column(variable: Variable) -> pa.Column:
    """The pandera column of a study variable: its dtype, plausible range, categories or scale codes."""
    checks, dtype = [], DTYPES[variable.kind]
    if variable.range:
        checks = [pa.Check.ge(variable.range[0]), pa.Check.le(variable.range[1])]
    elif variable.levels:
        checks = [pa.Check.isin(variable.levels)]
    elif variable.scale:
        codes = variable.scale.codes
        numeric = all(isinstance(c, int) for c in codes)
        dtype = Int() if numeric else str
        contiguous = numeric and list(codes) == list(range(min(codes), max(codes) + 1))
        checks = [pa.Check.ge(min(codes)), pa.Check.le(max(codes))] if contiguous else [pa.Check.isin(codes)]
    return pa.Column(dtype, checks, nullable=not variable.required)


@dataclass(frozen=True, eq=False)
class Tables:
    """The pandera schemas of a study's tables: clinical (one row per patient), levels (per patient and lumbar
    level: disc grades), endplates (per patient, level and endplate) and analysis (clinical + derived)."""

    clinical: pa.DataFrameSchema
    levels: pa.DataFrameSchema
    endplates: pa.DataFrameSchema
    analysis: pa.DataFrameSchema

    @property
    def clinical_columns(self) -> list[str]:
        """The clinical variables a centre's clinical mapping lists (besides patient_id)."""
        return [c for c in self.clinical.columns if c not in KEY]

    @property
    def level_columns(self) -> list[str]:
        """level and the disc grades a centre's gradings mapping lists under `columns`."""
        return [c for c in self.levels.columns if c not in KEY]

    @property
    def endplate_columns(self) -> list[str]:
        """The endplate grades a centre's gradings mapping lists under `endplates`."""
        return [c for c in self.endplates.columns if c not in KEY + ["level", "endplate"]]

    @cached_property
    def dtypes(self) -> dict[str, str]:
        """Column -> dtype name over the clinical and grading tables."""
        return dtypes(self.clinical) | dtypes(self.levels) | dtypes(self.endplates)

    @property
    def required(self) -> set[str]:
        """Columns a mapping cannot leave out (map to null): patient_id and the study's required variables."""
        return {"patient_id"} | {name for schema in (self.clinical, self.levels)
                                 for name, col in schema.columns.items() if not col.nullable and name not in KEY}


@lru_cache(maxsize=8)
def tables(study: Study) -> Tables:
    """The schemas of a study's tables, built from its variables."""
    key = Patient.to_schema().columns
    variables = {unit: {v.name: column(v) for v in study.per(unit)} for unit in ("patient", "level", "endplate")}
    follow_ups = study.follow_ups() if study.follow_up_needs_baseline else []
    checks = [after_needs_before(follow_ups)] if follow_ups else []
    clinical = pa.DataFrameSchema(key | variables["patient"], checks, name="Clinical", unique=KEY, **FRAME)
    level = {"level": pa.Column(str, pa.Check.isin(LEVELS))}
    levels = pa.DataFrameSchema(key | level | variables["level"], [all_levels()] if study.all_levels_graded else [],
                                name="LevelGradings", unique=KEY + ["level"], **FRAME)
    endplate = {"endplate": pa.Column(str, pa.Check.isin(ENDPLATES))}
    endplates = pa.DataFrameSchema(key | level | endplate | variables["endplate"], name="EndplateGradings",
                                   unique=KEY + ["level", "endplate"], **FRAME)
    derived = {d.name: derived_column(d, study) for d in study.derived_per("patient")}
    analysis = pa.DataFrameSchema(clinical.columns | derived | EXTRA, checks, name="Analysis", unique=KEY, **FRAME)
    return Tables(clinical, levels, endplates, analysis)


def derived_column(d: Derived, study: Study) -> pa.Column:
    """The analysis table's column of a derived variable: its kind's dtype, within its bounds."""
    if d.kind == "band":
        return pa.Column(str, pa.Check.isin(study.age_band_labels), nullable=True)
    checks = [pa.Check.ge(d.bounds[0]), pa.Check.le(d.bounds[1])] if d.bounds and d.kind != "binary" else []
    return pa.Column(DTYPES[d.kind], checks, nullable=True)


def after_needs_before(pairs: list) -> pa.Check:
    """A follow-up value only where its baseline value exists (study follow_up_needs_baseline)."""
    after, before = ", ".join(a.name for a, _ in pairs), ", ".join(b.name for _, b in pairs)
    names = [(a.name, b.name) for a, b in pairs]

    def check(df: pd.DataFrame) -> pd.Series:
        ok = pd.Series(True, index=df.index)
        for a, b in names:
            ok &= df[a].isna() | df[b].notna()
        return ok

    return pa.Check(check, name=f"{after} only where {before} exist")


def all_levels() -> pa.Check:
    """Every graded patient has all five lumbar levels (study all_levels_graded)."""
    return pa.Check(lambda df: df.groupby(KEY)["level"].transform("nunique") == len(LEVELS),
                    name="level: all five lumbar levels L1-L2..L5-S1 graded")


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


def _schema(model) -> pa.DataFrameSchema:
    """A DataFrameModel's schema, or the schema itself."""
    return model.to_schema() if isinstance(model, type) else model


def dtypes(model: type[pa.DataFrameModel] | pa.DataFrameSchema) -> dict[str, str]:
    """Column -> pandas dtype name of a model or schema (regex columns left out)."""
    return {name: str(col.dtype) for name, col in _schema(model).columns.items() if not col.regex}


def failures(model: type[pa.DataFrameModel] | pa.DataFrameSchema, frame: pd.DataFrame) -> pd.DataFrame:
    """Validate lazily; one row per (check, frame index) with the columns and values involved.

    Columns: index, check, columns (tuple), values (tuple). Empty when the frame is valid. A
    dataframe-level check reports the columns its name mentions (all columns when it names none)."""
    try:
        _schema(model).validate(frame, lazy=True)
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
