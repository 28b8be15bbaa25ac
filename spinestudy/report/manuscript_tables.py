"""Every statistics table as the papers print it, in Markdown, LaTeX (booktabs, longtable) and one XLSX
workbook (a sheet per table).

Cells are strings in which "^{...}" marks superscript (test markers, powers of ten); each writer turns it
into <sup>, \\textsuperscript or a superscript run of the XLSX cell. Formats (RuDDS): median [Q1; Q3],
% (n/total), P-values with 3 decimals, below 0.001 as "1.29 × 10^{-38}", followed by the test marker
(^{A} ANOVA, ^{K} Kruskal-Wallis). Output is byte-identical between runs (XLSX zip times fixed). An input
holding a not-applicable note (spinestudy.applicable) gives its caption and that note instead of a table."""

import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.styles import Border, Font, Side

from spinestudy import applicable
from spinestudy import study as studies
from spinestudy.anatomy import LEVELS
from spinestudy.provenance.snapshot import group_columns
from spinestudy.report.figures import left_out, outcomes, read
from spinestudy.report.radiomics_figures import OUTCOME_LABELS
from spinestudy.stats import prevalence as stats_prevalence
from spinestudy.stats.agreement import PAIRS, STATISTICS
from spinestudy.tables.merge import RESOLUTIONS

SUP = re.compile(r"\^\{([^}]*)\}")
TEST_MARKS = {"A": "A", "K": "K", "chi2": "χ2", "Fisher": "F", "Fisher (Monte Carlo)": "F"}
TEST_NAMES = {"A": "ANOVA", "K": "Kruskal-Wallis test", "χ2": "chi-squared test", "F": "Fisher's exact test"}
FIXED_TIME = datetime(2000, 1, 1)


@dataclass(frozen=True)
class Table:
    """A manuscript table: file stem / sheet name, caption, string cells, footnote (may be empty).
    Rows whose cells are empty except the first are section headings."""

    name: str
    title: str
    frame: pd.DataFrame
    footnote: str = ""


CAPTIONS = {  # input key -> (file stem / sheet name, caption), in manuscript order; a study file's `captions` win
    "table1": ("table1", "Table 1. General characteristics and MRI findings"),
    "posthoc": ("posthoc", "Supplemental Table 1. Pairwise comparisons of the Table 1 groups"),
    "lasso": ("table2", "Table 2. LASSO regression coefficients"),
    "prevalence": ("prevalence", "Supplemental Table 2. Prevalence of MRI findings by age band and level"),
    "associations": ("associations", "Supplemental Table 3. Associations of MRI findings with the outcome"),
    "shape_by_modic": ("shape_by_modic", "Supplemental Table 4. Shape features of Modic changes by type"),
    "dunn": ("dunn", "Supplemental Table 5. Dunn's test of the shape features between Modic types"),
    "icc": ("icc", "Supplemental Table 6. Feature reproducibility under segmentation perturbation (ICC)"),
    "classifier": ("classifier", "Supplemental Table 7. Modic type classifier performance"),
    "lasso_features": ("lasso_features", "Supplemental Table 8. Radiomics features selected by LASSO"),
    "correlations": ("correlations", "Supplemental Table 9. Correlations of radiomics features with pain, disability "
                                     "and age"),
    "mwu_screen": ("mwu_screen", "Supplemental Table 10. Mann-Whitney U screen of the radiomics features"),
    "agreement": ("agreement", "Supplemental Table 11. Inter- and intra-reader agreement of the MRI gradings"),
}


def titled(key: str, config: dict) -> tuple[str, str]:
    """(file stem, caption) of a manuscript table: the study file's caption (`captions`) or CAPTIONS'."""
    stem, caption = CAPTIONS[key]
    return stem, studies.of(config).captions.get(key, caption)


# --- cell formats ---------------------------------------------------------------------------------

def scientific(x: float) -> str:
    """1.29e-38 -> '1.29 × 10^{-38}'."""
    mantissa, exponent = f"{x:.2e}".split("e")
    return f"{mantissa} × 10^{{{int(exponent)}}}"


def p_value(p, test: str = "") -> str:
    """P with 3 decimals, scientific below 0.001, then the test marker as superscript."""
    if pd.isna(p):
        return ""
    text = scientific(p) if p < 0.001 else f"{p:.3f}"
    return text + (f" ^{{{TEST_MARKS.get(test, test)}}}" if test and test != "none" else "")


def number(x, digits: int = 3) -> str:
    """A coefficient or statistic: fixed decimals, scientific when non-zero but below 10^-digits."""
    if pd.isna(x):
        return ""
    if x == 0:
        return "0"
    return scientific(x) if abs(x) < 10 ** -digits else f"{x:.{digits}f}"


def percent(n: int, total: int) -> str:
    """'14.29% (1/7)' as RuDDS: two decimals at most, trailing zeros dropped."""
    return f"{round(100 * n / total, 2):g}% ({n}/{total})"


def _group_name(group: str) -> str:
    return group[:1].upper() + group[1:]


# --- the tables -----------------------------------------------------------------------------------

def table1(path: Path, config: dict) -> Table:
    """Table 1: the total and the study's groups (RuDDS: leading syndromes), P-value with the test marker."""
    data = read(path)
    groups = group_columns(data)
    rows, notes = [], []
    for variable, part in data.groupby("variable", sort=False):
        graded = len(part) > 1
        if graded:
            heading = re.sub(r" 1$", "", part["characteristic"].iloc[0]) + "s, % (n/total)"
            rows.append([heading] + [""] * (len(groups) + 1))
        for row in part.to_dict("records"):
            label = "grade " + row["characteristic"].rsplit(" ", 1)[-1] if graded else row["characteristic"]
            rows.append([label] + [row[g] for g in groups] + [p_value(row["P-value"], row["Test"])])
        if isinstance(part["note"].iloc[0], str):
            notes.append(f"{part['characteristic'].iloc[0].split(',')[0]}: {part['note'].iloc[0]}.")
    used = sorted({TEST_MARKS.get(t, t) for t in data["Test"].dropna() if t != "none"})
    alpha = config.get("stats", {}).get("alpha", 0.003)
    footnote = " ".join([
        "med – median, [IQR] – [1st quartile; 3rd quartile].",
        ", ".join(f"^{{{m}}} – {TEST_NAMES.get(m, m)}" for m in used) + f"; threshold P-value < {alpha}.",
        *notes])
    frame = pd.DataFrame(rows, columns=["Characteristics and findings", *map(_group_name, groups), "P-value"])
    return Table(*titled("table1", config), frame, footnote)


def posthoc(path: Path, config: dict) -> Table:
    """RuDDS Supplemental Table 1: pairwise comparisons after a significant group test."""
    data = read(path)
    cfg = config.get("stats", {}).get("posthoc", {})
    frame = pd.DataFrame({
        "Characteristic": data["characteristic"],
        "Comparison": data["group1"].map(_group_name) + " vs " + data["group2"],
        "n": data["n1"].astype(str) + " vs " + data["n2"].astype(str),
        "Test": data["test"],
        "P-value": data["p"].map(p_value),
        "Adjusted P-value": data["p_adjusted"].map(p_value),
        "Significant": np.where(data["significant"].astype(str) == "True", "yes", "no"),
    })
    footnote = (f"P-values adjusted by the {cfg.get('p_adjust', 'holm')} method; significant: adjusted "
                f"P-value < {cfg.get('alpha', 0.005)}.")
    return Table(*titled("posthoc", config), frame, footnote)


def lasso(path: Path, config: dict) -> Table:
    """RuDDS Table 2: LASSO coefficients per predictor (rows) and group (columns), per outcome."""
    data = read(path)
    cfg = config.get("stats", {}).get("lasso", {})
    groups = list(dict.fromkeys(data["group"]))  # Total, then the study's groups
    rows, reasons = [], {}
    for outcome, heading in outcomes(studies.of(config)).items():
        part = data[data["outcome"] == outcome]
        rows.append([heading] + [""] * len(groups))
        for label, predictor in part.groupby("label", sort=False):
            cells = predictor.set_index("group").reindex(groups)
            rows.append([label] + [_coefficient(cells.loc[g]) for g in groups])
        for group, fit in part.groupby("group", sort=False):
            if str(fit["estimable"].iloc[0]) != "True":
                reasons[f"{_group_name(group)}, {heading.split(' (')[0]}"] = fit["note"].iloc[0]
    footnote = " ".join([
        f"LASSO coefficients per unit of the predictor (Poisson for NPRS, logistic for MCID; {cfg.get('rule', '')} "
        f"from {cfg.get('folds', '')}-fold cross-validation) [{cfg.get('confidence', 0.95):.0%} percentile interval "
        f"of {cfg.get('bootstraps', '')} bootstrap refits]; in parentheses exp(coefficient): IRR or OR. "
        "0: shrunk to zero (no effect); –: not estimable.",
        *(f"{where}: {why.removeprefix('not estimable: ')}." for where, why in reasons.items())])
    frame = pd.DataFrame(rows, columns=["Preoperative parameter", *map(_group_name, groups)])
    return Table(*titled("lasso", config), frame, footnote)


def _coefficient(cell: pd.Series) -> str:
    if str(cell.get("estimable")) != "True":
        return "–"
    ci = f" [{number(cell['ci_low'])}; {number(cell['ci_high'])}]" if pd.notna(cell.get("ci_low")) else ""
    if pd.isna(cell["coef"]) or cell["coef"] == 0:
        return "0" + ci
    return f"{number(cell['coef'])}{ci} ({cell['effect']} {cell['exp_coef']:.2f})"


def prevalence(path: Path, config: dict) -> Table:
    """Figure 2's numbers: % (n/total) [Wilson interval] per finding, age decade (rows) and level."""
    data = read(path)
    confidence = config.get("stats", {}).get("prevalence", {}).get("confidence", 0.95)
    rows = []
    for finding, heading in stats_prevalence.titles(studies.of(config)).items():
        part = data[data["finding"] == finding]
        rows.append([heading] + [""] * len(LEVELS))
        for decade, by_level in part.groupby("age_decade", sort=True):
            cells = by_level.set_index("level").reindex(list(LEVELS))
            rows.append([decade] + [_prevalence_cell(cells.loc[level]) for level in LEVELS])
    frame = pd.DataFrame(rows, columns=["Finding, age decade (years)", *LEVELS])
    left = left_out(data)
    footnote = (f"% (n/total) of graded discs [{confidence:.0%} Wilson interval, %]; –: no graded disc in this age "
                "decade and level." + (f" {left[:1].upper() + left[1:]}." if left else ""))
    return Table(*titled("prevalence", config), frame, footnote)


def _prevalence_cell(cell: pd.Series) -> str:
    if not cell["total"] > 0:
        return "–"
    return f"{percent(int(cell['n']), int(cell['total']))} [{100 * cell['ci_low']:.1f}; {100 * cell['ci_high']:.1f}]"


def associations(path: Path, config: dict) -> Table:
    """Kasch-style associations: beta [CI], P-value and n per analysis and exposure term."""
    data = read(path)
    confidence = config.get("stats", {}).get("associations", {}).get("confidence", 0.95)
    ci = data["ci_low"].map(number) + "; " + data["ci_high"].map(number)
    frame = pd.DataFrame({
        "Analysis": data["analysis"], "Outcome": data["outcome"], "Exposure": data["term"],
        f"β [{confidence:.0%} CI]": np.where(data["beta"].notna(), data["beta"].map(number) + " [" + ci + "]", "–"),
        "P-value": data["p"].map(p_value), "n": data["n"].astype(str), "n exposed": data["n_exposed"].astype(str),
        "Note": data["note"].fillna(""),
    })
    footnote = "OLS adjusted for age and sex (longitudinal analyses also for NPRS before); complete cases."
    return Table(*titled("associations", config), frame, footnote)


def _yes(value) -> str:
    return "yes" if str(value) == "True" else "no"


def _notes(data: pd.DataFrame) -> list[str]:
    return [f"{n}." for n in dict.fromkeys(data["note"].dropna().astype(str)) if n] if "note" in data else []


def _radiomics(config: dict) -> dict:
    return config.get("radiomics_stats", {})


def shape_by_modic(path: Path, config: dict) -> Table:
    """Modic paper Table 1 (modic_shape): mean (SD) per Modic type, * normal within the type, KW P-value."""
    data = read(path)
    types = [t for t in ("I", "II", "III") if f"cell_{t}" in data]
    frame = pd.DataFrame({"Feature": data.get("feature", pd.Series(dtype=str))})
    for t in types:
        n = data[f"n_{t}"].unique()
        frame[f"Modic {t}" + (f" (n = {n[0]})" if len(n) == 1 else "")] = data[f"cell_{t}"].fillna("").astype(str)
    if "kw_p" in data:
        frame["P-value"] = data["kw_p"].map(lambda p: p_value(p, "K"))
    cfg = _radiomics(config).get("shape", {})
    footnote = " ".join([f"Mean (SD) of the {cfg.get('sequence', 'T2')} {cfg.get('image_type', 'original')} shape "
                         f"features; * Shapiro-Wilk does not reject normality within the type (P ≥ "
                         f"{cfg.get('normality_alpha', 0.05)}); ^{{K}} – Kruskal-Wallis test.", *_notes(data)])
    return Table(*titled("shape_by_modic", config), frame, footnote)


def dunn(path: Path, config: dict) -> Table:
    """Modic paper Table 2 (modic_shape): Dunn's pairwise tests of the features significant by Kruskal-Wallis."""
    data = read(path)
    frame = pd.DataFrame({
        "Feature": data["feature"], "Comparison": "Modic " + data["group1"] + " vs " + data["group2"],
        "n": data["n1"].astype(str) + " vs " + data["n2"].astype(str), "P-value": data["p"].map(p_value),
        "Adjusted P-value": data["p_adjusted"].map(p_value), "Significant": data["significant"].map(_yes)})
    cfg = _radiomics(config).get("shape", {})
    method = data["p_adjust"].iloc[0] if len(data) else cfg.get("p_adjust", "bonferroni")
    footnote = " ".join([f"Dunn's test (tie-corrected) for the features with Kruskal-Wallis P < {cfg.get('alpha', 0.05)}"
                         f"; P-values adjusted over the pairs of each feature by the {method} method; significant: "
                         f"adjusted P-value < {cfg.get('alpha', 0.05)}.", *_notes(data)])
    return Table(*titled("dunn", config), frame, footnote)


def icc(path: Path, config: dict) -> Table:
    """Feature robustness (radiomics_stats.icc.icc_table): ICC(3,1) [95% CI] over the original, eroded and dilated ROI."""
    data = read(path)
    cfg = _radiomics(config).get("robustness", {})
    threshold = cfg.get("icc_threshold", 0.75)
    frame = pd.DataFrame({
        "Feature": data["feature"],
        "ICC(3,1) [95% CI]": np.where(data["icc"].notna(), data["icc"].map(number) + " ["
                                      + data["ci_low"].map(number) + "; " + data["ci_high"].map(number) + "]", "–"),
        "ROIs": data["n_rois"].astype(str), f"Robust (ICC ≥ {threshold})": data["robust"].map(_yes),
    })
    if data["note"].notna().any():
        frame["Note"] = data["note"].astype("string").fillna("")
    perturbations = ", ".join(cfg.get("perturbations", ["erode", "dilate"]))
    footnote = (f"ICC(3,1) (two-way mixed, consistency, single rater) of each feature over the original ROI and its "
                f"perturbations ({perturbations}, radius {cfg.get('radius', 1)} voxel(s)); {int(data['robust'].sum())} "
                f"of {len(data)} features robust.")
    return Table(*titled("icc", config), frame, footnote)


def classifier(path: Path, config: dict) -> Table:
    """Classifier performance (modic_classifier, classifier.json): each metric with its patient-bootstrap
    interval under nested cross-validation and under the paper's scheme, side by side."""
    result = json.loads(Path(path).read_text()) if Path(path).is_file() else {}
    protocols = {"nested": "Nested cross-validation", "paper": "Paper's scheme"}
    names = {"accuracy": "Accuracy", "balanced_accuracy": "Balanced accuracy", "auc_macro": "Macro AUC (one vs rest)"}
    rows = [[label] + [_estimate((result.get(p) or {}).get("metrics", {}).get(key)) for p in protocols]
            for key, label in names.items()]
    if "paper" in result:
        rows.append(["Features selected", str(len(result["paper"].get("selected_features", []))),
                     str(len(result["paper"]["selected_features"]))])
    rows += [[label, str(result[key]), str(result[key])] for key, label in
             (("n_lesions", "Lesions"), ("n_patients", "Patients"), ("n_features", "Features screened"),
              ("outer_folds", "Outer folds (grouped by patient)")) if key in result]
    confidence = _radiomics(config).get("classifier", {}).get("confidence", 0.95)
    counts = ", ".join(f"type {k}: {v}" for k, v in result.get("class_counts", {}).items())
    footnote = " ".join([
        f"SVM of Modic type ({counts}); estimate [{confidence:.0%} percentile interval, bootstrap over patients]. "
        "Paper's scheme: scaling, screen, correlation filter and LASSO fitted on all lesions, then the SVM "
        "cross-validated (optimistic); nested: the whole pipeline refitted inside each training fold.",
        *(f"Harmonisation, {label.lower()}: {result['harmonisation'][p]}." for p, label in protocols.items()
          if p in result.get("harmonisation", {})),
        *(f"{n}." for n in result.get("notes", []))])
    frame = pd.DataFrame(rows, columns=["Metric", *protocols.values()])
    return Table(*titled("classifier", config), frame, footnote)


def _estimate(metric: dict | None) -> str:
    if not metric or metric.get("estimate") is None:
        return "–"
    ci = (f" [{number(metric['ci_low'])}; {number(metric['ci_high'])}]" if metric.get("ci_low") is not None else "")
    return number(metric["estimate"]) + ci


def lasso_features(path: Path, config: dict) -> Table:
    """Modic paper Figure 2's numbers (modic_classifier): non-zero LASSO coefficients per target type."""
    data = read(path)
    frame = pd.DataFrame({
        "Sequence": data["sequence"], "Image type": data["image_type"], "Feature class": data["feature_class"],
        "Feature": data["feature_name"], "Target type": data["target"].astype(str),
        "Coefficient": data["coefficient"].map(number)})
    alpha = f" (penalty α = {number(data['alpha'].iloc[0], 6)})" if len(data) else ""
    footnote = (f"LASSO{alpha} on standardised features: coefficient per SD of the feature for the indicator of the "
                "target type (two types: the second; > 0 favours it).")
    return Table(*titled("lasso_features", config), frame, footnote)


def correlations(path: Path, config: dict) -> Table:
    """Feature-outcome correlations (feature_correlations): 'r (adjusted P)' per outcome and method, one row
    per feature under a heading per kind (shape, LASSO-selected)."""
    data = read(path)
    symbols = {"spearman": "ρ", "pearson": "r"}
    columns = {}
    for (outcome, method), part in data.groupby(["outcome", "method"], sort=False) if len(data) else []:
        n = part["n"].unique()
        name = f"{OUTCOME_LABELS.get(outcome, outcome)}{f' (n = {n[0]})' if len(n) == 1 else ''}, " \
               f"{symbols.get(method, method)}"
        columns[name] = part.set_index("feature").apply(
            lambda r: "–" if pd.isna(r["r"]) else f"{number(r['r'])} ({p_value(r['p_adjusted'])})", axis=1)
    rows = []
    for kind, heading in (("morphological", "Shape features"), ("selected", "LASSO-selected features")):
        features = list(dict.fromkeys(data.loc[data["kind"] == kind, "feature"])) if len(data) else []
        if features:
            rows.append([heading] + [""] * len(columns))
            rows += [[f] + [cells.get(f, "–") for cells in columns.values()] for f in features]
    method = data["p_adjust"].dropna().iloc[0] if len(data) and data["p_adjust"].notna().any() else "–"
    footnote = " ".join([f"ρ: Spearman, r: Pearson correlation (P-value adjusted over all features and outcomes of a "
                         f"method, {method}); one lesion per patient; n: patients with both values.", *_notes(data)])
    return Table(*titled("correlations", config), pd.DataFrame(rows, columns=["Feature", *columns]), footnote)


def mwu_screen(path: Path, config: dict) -> Table:
    """Modic paper Figure 1 in numbers (feature_screen): features with P < alpha of those tested, per compared
    pair, image type and sequence (the per-feature P-values are in mwu_screen.csv)."""
    data = read(path)
    alpha = _radiomics(config).get("screen", {}).get("alpha", 0.05)
    sequences = [s for s in ("T1", "T2", "STIR") if s in set(data.get("sequence", []))]
    rows = []
    for (a, b), pair in data.groupby(["group1", "group2"], sort=True) if len(data) else []:
        rows.append([f"Modic {a} vs {b}"] + [""] * (len(sequences) + 1))
        types = sorted(pair["image_type"].unique(), key=lambda t: (t != "original", t))
        for image_type, part in [(t, pair[pair["image_type"] == t]) for t in types] + [("All image types", pair)]:
            rows.append([image_type] + [_share(part[part["sequence"] == s]) for s in sequences] + [_share(part)])
    footnote = (f"Features with Mann-Whitney U P < {alpha} / features tested (%); untested (constant or missing) "
                "features are not counted.")
    frame = pd.DataFrame(rows, columns=["Image type", *sequences, "All sequences"])
    return Table(*titled("mwu_screen", config), frame, footnote)


def _share(part: pd.DataFrame) -> str:
    tested = part["p"].notna().sum()
    significant = int(part["significant"].astype(str).eq("True").sum())
    return f"{significant}/{tested} ({100 * significant / tested:.0f}%)" if tested else "–"


def agreement(path: Path, config: dict) -> Table:
    """Reader agreement (stats.agreement) pooled over levels: estimate [95% CI] of each coefficient per
    comparison (heading) and scale, with the interpretation of its headline coefficient."""
    data = read(path)
    pooled = data[data["level"].eq("all") & data["statistic"].notna()] if "level" in data else data.iloc[0:0]
    statistics = [s for s in STATISTICS if s in set(pooled["statistic"])]
    rows = []
    for comparison in [c for c in PAIRS if c in set(pooled["comparison"])]:
        part = pooled[pooled["comparison"] == comparison]
        rows.append([f"{comparison.capitalize()} agreement"] + [""] * (len(statistics) + 2))
        for scale, cells in part.groupby("scale", sort=False):
            cells = cells.set_index("statistic")
            headline = next(s for s in ("kappa_quadratic", "icc2_1", "kappa") if s in cells.index)
            rows.append([cells["label"].iloc[0], str(int(cells["n_units"].iloc[0]))]
                        + [_interval(cells.loc[s]) if s in cells.index else "–" for s in statistics]
                        + [cells.loc[headline, "interpretation"] if pd.notna(cells.loc[headline, "interpretation"])
                           else "–"])
    names = {"percent_agreement": "Agreement"} | {s: STATISTICS[s] for s in statistics if s != "percent_agreement"}
    frame = pd.DataFrame(rows, columns=["Scale", "Units", *(names[s] for s in statistics), "Interpretation"])
    notes = sorted({n for n in pooled.get("note", pd.Series(dtype=str)).dropna() if n})
    resolution = config.get("tables", {}).get("reader_resolution", "first")
    footnote = " ".join([
        "Estimate [95% CI], pooled over the lumbar levels (per level in agreement.csv); units: discs or endplates "
        "graded in both reads, patients for the TEP total and Jarosz scores. Intervals: analytic where a patient "
        "gives one unit, else a percentile bootstrap over patients. AC2 with quadratic weights. Interpretation of "
        "the quadratically weighted kappa (ordinal), Cohen's kappa (nominal; Landis & Koch 1977) or ICC(2,1) "
        f"(Koo & Li 2016). Analysed grades: {RESOLUTIONS[resolution]}.",
        *(f"{n}." for n in notes)] if len(pooled) else ["No agreement to report."])
    return Table(*titled("agreement", config), frame, footnote)


def _interval(cell: pd.Series) -> str:
    if pd.isna(cell["estimate"]):
        return "–"
    """'0.81 [0.78; 0.84]'; percent agreement as '84.2 [81.7; 87.1]'."""
    scale, digits = (100, 1) if cell.name == "percent_agreement" else (1, 2)
    low, estimate, high = (scale * cell[c] for c in ("ci_low", "estimate", "ci_high"))
    return f"{estimate:.{digits}f} [{low:.{digits}f}; {high:.{digits}f}]"


TABLES = {  # input key -> builder, in manuscript order
    "table1": table1,
    "lasso": lasso,
    "posthoc": posthoc,
    "prevalence": prevalence,
    "associations": associations,
    "shape_by_modic": shape_by_modic,
    "dunn": dunn,
    "icc": icc,
    "classifier": classifier,
    "lasso_features": lasso_features,
    "correlations": correlations,
    "mwu_screen": mwu_screen,
    "agreement": agreement,
}


def output(path: Path) -> pd.DataFrame | dict:
    """A stage output: the JSON document, or the table (empty when missing)."""
    return json.loads(path.read_text()) if path.suffix == ".json" and path.is_file() else read(path)


def table(key: str, path: str | Path, config: dict) -> Table:
    """The manuscript table of one input; an input that is not applicable gives its caption and the note."""
    note = applicable.note(output(Path(path)))
    if note:
        return Table(*titled(key, config), pd.DataFrame({"Note": [note[:1].upper() + note[1:]]}))
    return TABLES[key](Path(path), config)


def build(inputs: dict[str, Path], config: dict) -> list[Table]:
    """The manuscript tables of every input present, in manuscript order."""
    return [table(key, inputs[key], config) for key in TABLES if key in inputs]


# --- writers --------------------------------------------------------------------------------------

def to_markdown(table: Table) -> str:
    """GitHub-flavoured Markdown: bold caption, pipe table, footnote; superscripts as <sup>."""
    def cell(text: str) -> str:
        return SUP.sub(r"<sup>\1</sup>", str(text)).replace("|", "\\|")

    lines = [f"**{table.title}**", "", "| " + " | ".join(map(cell, table.frame.columns)) + " |",
             "|" + "|".join([":---"] + ["---:"] * (table.frame.shape[1] - 1)) + "|"]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in table.frame.itertuples(index=False)]
    return "\n".join(lines + ([""] + [cell(table.footnote)] if table.footnote else [])) + "\n"


LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                 "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                 "×": r"$\times$", "≥": r"$\geq$", "≤": r"$\leq$", "β": r"$\beta$", "χ": r"$\chi$", "–": "--",
                 "−": "-"}


def latex_text(text: str) -> str:
    """Escape for LaTeX, superscripts as \\textsuperscript."""
    parts = SUP.split(str(text))  # even: plain text, odd: superscript
    escaped = ["".join(LATEX_SPECIAL.get(ch, ch) for ch in part) for part in parts]
    return "".join(p if i % 2 == 0 else rf"\textsuperscript{{{p}}}" for i, p in enumerate(escaped))


def to_latex(table: Table) -> str:
    """A booktabs longtable (needs \\usepackage{booktabs,longtable}); caption and label from the table."""
    spec = "l" + "r" * (table.frame.shape[1] - 1)
    header = " & ".join(latex_text(c) for c in table.frame.columns) + r" \\"
    lines = [rf"\begin{{longtable}}{{{spec}}}", rf"\caption{{{latex_text(table.title)}}}"
             rf"\label{{tab:{table.name}}} \\", r"\toprule", header, r"\midrule", r"\endhead"]
    lines += [" & ".join(latex_text(c) for c in row) + r" \\" for row in table.frame.itertuples(index=False)]
    lines += [r"\bottomrule", r"\end{longtable}"]
    if table.footnote:
        lines.append(rf"{{\footnotesize {latex_text(table.footnote)}\par}}")
    return "\n".join(lines) + "\n"


def html_text(text: str) -> str:
    """Escape for HTML, superscripts as <sup>."""
    return SUP.sub(r"<sup>\1</sup>", escape(str(text), quote=False))


def to_html(table: Table) -> str:
    """An HTML table with caption and footnote (the study report's tables)."""
    head = "".join(f"<th>{html_text(c)}</th>" for c in table.frame.columns)
    body = []
    for row in table.frame.itertuples(index=False):
        heading = all(c == "" for c in row[1:])
        cls = ' class="section"' if heading and len(row) > 1 else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{html_text(c)}</td>" for c in row) + "</tr>")
    foot = f'<p class="footnote">{html_text(table.footnote)}</p>' if table.footnote else ""
    return (f'<table class="manuscript" id="table-{table.name}"><caption>{html_text(table.title)}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{foot}")


def rich(text: str) -> str | CellRichText:
    """An XLSX cell value: plain text, or rich text with superscript runs."""
    parts = SUP.split(str(text))
    if len(parts) == 1:
        return text
    superscript = InlineFont(vertAlign="superscript")
    return CellRichText([TextBlock(superscript, p) if i % 2 else p for i, p in enumerate(parts) if p])


def write_xlsx(tables: list[Table], out: str | Path) -> None:
    """One workbook, a sheet per table: caption, header, rows, footnote. Fixed timestamps, so identical
    inputs give identical bytes."""
    book = Workbook()
    book.remove(book.active)
    rule = Border(bottom=Side(style="thin"))
    for table in tables:
        sheet = book.create_sheet(table.name[:31])
        sheet.append([table.title])
        sheet["A1"].font = Font(bold=True)
        sheet.append(list(table.frame.columns))
        for cell in sheet[2]:
            cell.font, cell.border = Font(bold=True), rule
        for row in table.frame.itertuples(index=False):
            sheet.append([rich(c) for c in row])
        if table.footnote:
            sheet.append([])
            sheet.append([rich(table.footnote)])
        for i, column in enumerate(table.frame.columns, start=1):
            width = max([len(str(column))] + [len(SUP.sub(r"\1", str(v))) for v in table.frame.iloc[:, i - 1]])
            sheet.column_dimensions[sheet.cell(1, i).column_letter].width = min(width + 2, 60)
    book.properties.created = book.properties.modified = FIXED_TIME
    buffer = io.BytesIO()
    book.save(buffer)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    _fixed_zip(buffer.getvalue(), Path(out))


def _fixed_zip(data: bytes, out: Path) -> None:
    """Rewrite a zip with every entry dated 1980-01-01 (openpyxl stamps the current time)."""
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            payload = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                payload = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2000-01-01T00:00:00Z", payload)
            target.writestr(zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0)), payload,
                            compress_type=zipfile.ZIP_DEFLATED)


def write(inputs: dict[str, Path], config: dict, out_dir: str | Path, xlsx: str | Path) -> list[Table]:
    """Write <out_dir>/<table>.md and .tex for every table whose input is given, and the XLSX workbook."""
    tables = build(inputs, config)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for table in tables:
        (out_dir / f"{table.name}.md").write_text(to_markdown(table), encoding="utf-8")
        (out_dir / f"{table.name}.tex").write_text(to_latex(table), encoding="utf-8")
    write_xlsx(tables, xlsx)
    return tables
