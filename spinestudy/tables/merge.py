"""The tables stage: every centre's files -> analysis table, gradings, exclusion log, flow, missingness.

A patient is analysed with a valid clinical row, valid gradings at all five levels and, when a series
index is given and the centre has a `dicom` folder or `images`, at least one usable MRI volume. Invalid rows either
stop the run with every problem listed (on_invalid="stop", the default) or are quarantined: each
problem becomes an exclusion line and the patient leaves that table (gradings: the whole spine).
The same raw patient id in two centres is a problem of both rows (possible duplicate patient). A centre
sending clinical and grading tables with fewer analysed patients than `min_patients` stops the run,
naming the ids seen on each side (spinestudy.tables.coverage).

A centre may send other reads of its gradings (second reader, first reader's repeat, consensus; see
SECOND_READS): reads_long.parquet holds every read, and the analysis uses the first reader's gradings
resolved against the second reader's by the rule `resolution` (RESOLUTIONS).
"""

from pathlib import Path

import pandas as pd

from spinestudy import exclusions
from spinestudy import study as studies
from spinestudy.exclusions import Exclusion
from spinestudy.ingest.sources import LOOKUP_COLUMNS
from spinestudy.tables import coverage, derived
from spinestudy.tables import readers as table_io
from spinestudy.tables.readers import STAGE, Problem, Read, TableError
from spinestudy.tables.schemas import KEY, SeriesIndex, Tables, dtypes, failures
from spinestudy.tables.schemas import tables as study_tables

ON_INVALID = ("stop", "quarantine")
SECOND_READS = ("reader2", "repeat", "consensus")  # config centres.<id>.gradings_<read>
RESOLUTIONS = {
    "first": "the first reader's grade is analysed; the second reader's serves the agreement statistics only",
    "higher": "where the readers disagree the higher grade is analysed (Modic: the higher type code; "
              "binary gradings: present)",
    "consensus": "a patient the readers disagree on is analysed with the consensus read's grades",
}
GRADE_KEYS = {"levels": KEY + ["level"], "endplates": KEY + ["level", "endplate"]}
FLOW = ["received", "valid_clinical", "valid_mri", "with_images", "analysed"]  # then questionnaires_<time point>


def build_tables(
    centres: dict, key: bytes, out_dir: str | Path, series_index: str | Path | None = None,
    radiomics: str | Path | None = None, on_invalid: str = "stop",
    study_window: tuple[str, str] | None = None,
    min_patients: int = 1, resolution: str = "first", lookup: str | Path | None = None,
    study: str | Path = studies.DEFAULT,
) -> None:
    """Read, validate and merge the centres' tables (config `centres`) and write into out_dir:
    analysis.parquet, gradings_long.parquet, reads_long.parquet, exclusions.csv, flow.csv, missingness.csv;
    and to `lookup` (a local log, outside results/) the keyed label -> path of every table file read.
    `radiomics`: optional parquet, one row per centre/patient, numeric summaries. study_window: first and last
    plausible date; min_patients: fewest analysed patients per centre with clinical and grading tables;
    resolution: the rule for the readers' disagreements (config `tables`); study: the study file (name or path)
    whose variables the tables hold."""
    if on_invalid not in ON_INVALID:
        raise ValueError(f"on_invalid must be one of {ON_INVALID}, not {on_invalid!r}")
    if resolution not in RESOLUTIONS:
        raise ValueError(f"resolution must be one of {list(RESOLUTIONS)}, not {resolution!r}")
    the_study = studies.load(study)
    schemas = study_tables(the_study)
    reads = read_all(centres, key, study_window, schemas)
    problems = [p for tables in reads.values() for r in tables.values() for p in r.problems]
    problems += cross_centre_ids(reads)
    volumes, index_problems = usable_volumes(series_index)
    problems += index_problems
    if problems and on_invalid == "stop":
        raise TableError(problems)
    log = [p.exclusion() for p in problems] + [e for t in reads.values() for r in t.values() for e in r.excluded]
    tables = valid_tables(reads, problems, schemas)
    second = {read: valid_tables({c: {name: t[f"{name}_{read}"] for name in GRADE_KEYS} for c, t in reads.items()
                                  if f"levels_{read}" in t}, problems, schemas) for read in SECOND_READS}
    reads_long = all_reads(tables, second, the_study)
    tables, unresolved = resolve(tables, second, resolution, reads)
    if unresolved and on_invalid == "stop":
        raise TableError(unresolved)
    log += [p.exclusion() for p in unresolved]
    volumes = volumes[~volumes.set_index(KEY).index.isin([(p.centre, p.patient) for p in index_problems])]
    seen = {key for t in reads.values() for r in t.values() for key in zip(r.frame["centre"], r.frame["patient"])}
    volumes = volumes if series_index else None
    long = gradings_long(tables, the_study)
    analysis, unmatched = analysis_table(tables, long, volumes, centres, seen, radiomics, schemas, the_study)
    coverage.check(reads, centres, analysis, log + unmatched, min_patients, images=volumes is not None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    analysis.to_parquet(out / "analysis.parquet", index=False)
    long.to_parquet(out / "gradings_long.parquet", index=False)
    reads_long.to_parquet(out / "reads_long.parquet", index=False)
    exclusions.write(log + unmatched, out / "exclusions.csv")
    flow(reads, tables, volumes, analysis, centres, the_study).to_csv(out / "flow.csv", index=False)
    missingness(analysis, the_study).to_csv(out / "missingness.csv", index=False)
    if lookup is not None:
        Path(lookup).parent.mkdir(parents=True, exist_ok=True)
        sources = {r.source for t in reads.values() for r in t.values()}
        files = sorted({(s.centre, "", s.label, s.file) for s in sources})
        pd.DataFrame(files, columns=LOOKUP_COLUMNS).to_csv(lookup, index=False)


def read_all(centres: dict, key: bytes, window: tuple[str, str] | None = None,
             schemas: Tables | None = None) -> dict[str, dict[str, Read]]:
    """centre -> {'clinical', 'levels', 'endplates': Read} for the files each centre sends, and
    'levels_<read>', 'endplates_<read>' for its other reads of the gradings (SECOND_READS).
    File-level errors (missing, empty, unreadable file, unmapped column) of all centres raise together."""
    reads, problems = {}, []
    for centre in sorted(centres):
        cfg, reads[centre] = centres[centre], {}
        try:
            if "clinical" in cfg:
                reads[centre]["clinical"] = table_io.read_clinical(centre, cfg["clinical"], key, cfg.get("ids"), window,
                                                                 schemas)
        except TableError as exc:
            problems += exc.problems
        try:
            if "gradings" in cfg:
                levels, endplates = table_io.read_gradings(centre, cfg["gradings"], key, cfg.get("ids"), schemas)
                reads[centre] |= {"levels": levels, "endplates": endplates}
        except TableError as exc:
            problems += exc.problems
        for read in SECOND_READS:
            if f"gradings_{read}" in cfg and "gradings" not in cfg:
                problems.append(Problem(centre, str(cfg[f"gradings_{read}"]["path"]), None, "", "",
                                        f"gradings_{read} takes its mapping from the centre's gradings, "
                                        "which it lacks"))
                continue
            try:
                if f"gradings_{read}" in cfg:
                    levels, endplates = table_io.read_second(centre, cfg["gradings"], cfg[f"gradings_{read}"], key,
                                                             cfg.get("ids"), schemas)
                    reads[centre] |= {f"levels_{read}": levels, f"endplates_{read}": endplates}
            except TableError as exc:
                problems += exc.problems
    if problems:
        raise TableError(problems)
    return reads


def cross_centre_ids(reads: dict[str, dict[str, Read]]) -> list[Problem]:
    """The same raw patient id in two centres: a problem in each centre's first row with that id.

    Compared on raw ids (pseudonyms differ by centre); messages name pseudonyms and keyed file labels, never the
    raw id or a path, except on the terminal (Problem.written, Problem.said)."""
    first = pd.concat(
        [r.frame[["centre", "patient", "patient_id", "id_written", "row"]].assign(source=r.source)
         for tables in reads.values() for r in tables.values()] or [pd.DataFrame(columns=["patient_id"])],
        ignore_index=True,
    ).dropna(subset=["patient_id"]).drop_duplicates(["centre", "patient_id"])
    shared = first[first.groupby("patient_id")["centre"].transform("nunique") > 1]
    problems = []
    for row in shared.itertuples(index=False):
        others = shared[(shared["patient_id"] == row.patient_id) & (shared["centre"] != row.centre)]
        where = "; ".join(f"centre {o.centre} ({o.patient}, {o.source.label} row {o.row})" for o in others.itertuples())
        said = "; ".join(f"centre {o.centre} (id {o.id_written!r}, {o.source.file} row {o.row})"
                         for o in others.itertuples())
        problems.append(row.source.problem(row.row, row.source.local["patient_id"], row.patient,
                                           f"the same patient id is used by {where}: possible duplicate patient",
                                           row.patient, written=row.id_written,
                                           said=f"the same patient id is used by {said}: possible duplicate patient"))
    return problems


def usable_volumes(path: str | Path | None) -> tuple[pd.DataFrame, list[Problem]]:
    """Patients with usable MRI volumes in the series index (centre, patient, n_volumes), and its problems."""
    columns = KEY + ["n_volumes"]
    if path is None:
        return pd.DataFrame(columns=columns), []
    index = pd.read_parquet(path)
    problems = [
        Problem(str(index.at[i, "centre"]), Path(path).name, i + 1, ", ".join(cols), ", ".join(map(str, vals)),
                check, str(index.at[i, "patient"]), Path(path).name)
        for i, cols, vals, check in failures(SeriesIndex, index)[["index", "columns", "values", "check"]].itertuples(
            index=False)
    ]
    volumes = index[index["status"] == "volume"].groupby(KEY).size().rename("n_volumes").reset_index()
    return volumes.astype({"n_volumes": "Int64"})[columns], problems


def valid_tables(reads: dict[str, dict[str, Read]], problems: list[Problem],
                 schemas: Tables) -> dict[str, pd.DataFrame]:
    """Validated clinical, levels and endplates of every centre, without quarantined patients.

    A problem in a patient's level or endplate rows removes the whole spine; a cross-centre duplicate
    (or any problem in the series index) removes nothing here (handled by its own check)."""
    tables = {}
    for name, schema in (("clinical", schemas.clinical), ("levels", schemas.levels), ("endplates", schemas.endplates)):
        frames = []
        for centre, read in ((c, t) for c, t in reads.items() if name in t):
            drop = {(p.centre, p.patient) for p in problems if p.centre == centre and p.file == read[name].source.file}
            frames.append(read[name].valid(schema, drop))
        tables[name] = pd.concat(frames, ignore_index=True) if frames else _empty(schema)
    return tables


def analysis_table(
    tables: dict[str, pd.DataFrame], long: pd.DataFrame, volumes: pd.DataFrame | None, centres: dict, seen: set,
    radiomics: str | Path | None, schemas: Tables, study: studies.Study,
) -> tuple[pd.DataFrame, list[Exclusion]]:
    """One row per analysed patient (clinical row and derived variables, the patient scores from `long`, the
    tables' gradings_long), and the exclusion lines of patients missing from one side."""
    scores = derived.patient_scores(long, study)
    merged = tables["clinical"].merge(scores, on=KEY, how="outer", validate="one_to_one", indicator="mri")
    unmatched = [
        Exclusion(c, p, "patient", STAGE, "valid clinical row but no valid MRI gradings" if side == "left_only"
                  else "valid MRI gradings but no valid clinical row" if "clinical" in centres[c]
                  else "the centre sends no clinical table")
        for c, p, side in merged.loc[merged["mri"] != "both", KEY + ["mri"]].itertuples(index=False)
    ]
    analysis = merged[merged["mri"] == "both"].drop(columns="mri")
    if volumes is None:
        analysis = analysis.assign(n_volumes=pd.NA)
    else:
        analysis, lines = require_images(analysis, volumes, centres, seen)
        unmatched += lines
    analysis = derived.patient_derived(analysis, study)
    if radiomics is not None:
        features = pd.read_parquet(radiomics).set_index(KEY).add_prefix("radiomics_").reset_index()
        analysis = analysis.merge(features, on=KEY, how="left", validate="one_to_one")
    radiomics_columns = sorted(c for c in analysis if c.startswith("radiomics_"))
    analysis = schemas.analysis.validate(analysis[list(dtypes(schemas.analysis)) + radiomics_columns])
    return analysis.sort_values(KEY).reset_index(drop=True), unmatched


def require_images(
    analysis: pd.DataFrame, volumes: pd.DataFrame, centres: dict, seen: set
) -> tuple[pd.DataFrame, list[Exclusion]]:
    """Keep patients of centres with a `dicom` folder or `images` only if they have usable volumes (n_volumes added);
    log them, and patients with volumes but no table row at all."""
    imaged = analysis.merge(volumes, on=KEY, how="outer", validate="one_to_one", indicator="img")
    needs = imaged["centre"].map(lambda c: bool({"dicom", "images"} & set(centres.get(c, {})))).astype(bool)
    lines = []
    for c, p, side, need in zip(imaged["centre"], imaged["patient"], imaged["img"], needs):
        if side == "left_only" and need:
            lines.append(Exclusion(c, p, "patient", STAGE, "no usable MRI series in the series index"))
        elif side == "right_only" and (c, p) not in seen:
            lines.append(Exclusion(c, p, "patient", STAGE, "MRI series but no clinical or grading row"))
    keep = imaged["img"].ne("right_only") & (imaged["img"].eq("both") | ~needs)
    return imaged[keep].drop(columns="img"), lines


def gradings_long(tables: dict[str, pd.DataFrame], study: studies.Study) -> pd.DataFrame:
    """One row per patient and level: disc grades, per-level derived scores and both endplates' grades
    (modic_upper, tep_lower, ...), the detail behind prevalence by level and per-endplate denominators."""
    scores = derived.level_scores(tables["levels"], tables["endplates"], study)
    levels = tables["levels"].merge(scores, on=KEY + ["level"], validate="one_to_one")
    endplates = tables["endplates"].pivot(index=KEY + ["level"], columns="endplate",
                                          values=[v.name for v in study.per("endplate")])
    endplates.columns = [f"{grade}_{endplate}" for grade, endplate in endplates.columns]
    return levels.merge(endplates.reset_index(), on=KEY + ["level"], how="left", validate="one_to_one")


def all_reads(tables: dict[str, pd.DataFrame], second: dict[str, dict[str, pd.DataFrame]],
              study: studies.Study) -> pd.DataFrame:
    """Every read of the gradings as gradings_long rows with a `read` column: reader1 (the first reader's
    valid gradings), then each other read a centre sends (reader2, repeat, consensus)."""
    frames = [gradings_long(tables, study).assign(read="reader1")]
    frames += [gradings_long(t, study).assign(read=read) for read, t in second.items() if len(t["levels"])]
    out = pd.concat(frames, ignore_index=True)
    return out[KEY + ["read"] + [c for c in out if c not in KEY + ["read"]]]


def resolve(
    tables: dict[str, pd.DataFrame], second: dict[str, dict[str, pd.DataFrame]], rule: str, reads: dict
) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """The first reader's levels and endplates resolved against the second reader's by `rule` (RESOLUTIONS),
    and, for "consensus", a problem for each patient the readers disagree on who has no consensus read
    (that patient's gradings are then left out). Patients without a second read keep the first reader's."""
    if rule == "first" or not len(second["reader2"]["levels"]):
        return tables, []
    resolved, disagree = dict(tables), set()
    for name, keys in GRADE_KEYS.items():
        first, other = tables[name], second["reader2"][name]
        both = first.merge(other, on=keys, how="left", suffixes=("", "_2"), validate="one_to_one")
        grades = [c for c in first if c not in keys]
        differs = pd.concat([both[c].ne(both[f"{c}_2"]).fillna(False) for c in grades], axis=1).any(axis=1)
        disagree |= set(zip(both.loc[differs, "centre"], both.loc[differs, "patient"]))
        if rule == "higher":
            higher = {c: both[[c, f"{c}_2"]].astype("Int64").max(axis=1).astype(first[c].dtype) for c in grades}
            resolved[name] = both[keys].assign(**higher)[list(first)]
    if rule == "higher":
        return resolved, []
    consensus = second["consensus"]
    agreed = set(zip(consensus["levels"]["centre"], consensus["levels"]["patient"]))
    missing = disagree - agreed
    for name, keys in GRADE_KEYS.items():
        kept = tables[name][[k not in disagree for k in zip(tables[name]["centre"], tables[name]["patient"])]]
        taken = consensus[name][[k in disagree for k in zip(consensus[name]["centre"], consensus[name]["patient"])]]
        resolved[name] = pd.concat([kept, taken], ignore_index=True).sort_values(keys).reset_index(drop=True)
    problems = []
    for centre, patient in sorted(missing):
        source = reads[centre]["levels"].source
        problems.append(source.problem(None, "", None, f"patient {patient}: the readers disagree and the "
                                       "consensus file has no row for this patient (reader resolution: consensus)",
                                       patient))
    return resolved, problems


def flow(
    reads: dict, tables: dict, volumes: pd.DataFrame | None, analysis: pd.DataFrame, centres: dict,
    study: studies.Study,
) -> pd.DataFrame:
    """Per centre (and 'all'), patients at each stage: the numbers behind a CONSORT-style flow figure.

    received: distinct patient ids in any table the centre sent; valid_clinical / valid_mri: patients
    with a valid clinical row / valid gradings; with_images: usable volumes in the series index (empty
    without one, or for a centre without `dicom` or `images`); analysed: rows of the analysis table, of whom
    questionnaires_<time point> (each of the study's time points): any variable of that time point present."""
    at = {t: [v.name for v in study.per("patient") if v.time_point == t] for t in study.time_points}
    stages = FLOW + [f"questionnaires_{t}" for t in at]
    def count(frame: pd.DataFrame, centre: str) -> int:
        return int(frame.loc[frame["centre"] == centre, "patient"].nunique())

    rows = []
    for centre, read in reads.items():
        seen = pd.concat([r.frame[KEY] for r in read.values()]).dropna()
        analysed = analysis[analysis["centre"] == centre]
        rows.append({
            "centre": centre,
            "received": count(seen, centre),
            "valid_clinical": count(tables["clinical"], centre),
            "valid_mri": count(tables["levels"], centre),
            "with_images": (count(volumes, centre) if volumes is not None and {"dicom", "images"} & set(centres[centre])
                            else pd.NA),
            "analysed": len(analysed),
            **{f"questionnaires_{t}": int(analysed[names].notna().any(axis=1).sum()) for t, names in at.items()},
        })
    table = pd.DataFrame(rows, columns=["centre"] + stages).astype({c: "Int64" for c in stages})
    total = table[stages].sum(min_count=1).to_frame().T.assign(centre="all")
    return pd.concat([table, total], ignore_index=True)[["centre"] + stages]


def missingness(analysis: pd.DataFrame, study: studies.Study) -> pd.DataFrame:
    """Missing count and share per variable of the analysis table, in all patients and per group of the study's
    Table 1 grouping variable (column named after it; only "all" when the study groups by none)."""
    variables = [c for c in analysis if c not in KEY]
    group = study.group
    name, groups = (group.name, group.levels) if group else ("group", ())
    rows = []
    for level in ("all", *groups):
        part = analysis if level == "all" else analysis[analysis[name] == level]
        for variable in variables:
            missing = int(part[variable].isna().sum())
            rows.append({name: level, "variable": variable, "n": len(part), "missing": missing,
                         "share": missing / len(part) if len(part) else float("nan")})
    return pd.DataFrame(rows, columns=[name, "variable", "n", "missing", "share"])


def _empty(schema) -> pd.DataFrame:
    """A table of a schema with no rows."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in dtypes(schema).items()})
