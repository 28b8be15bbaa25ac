"""The study report: one figure per rule (write_figure), the self-contained study page (write_study:
plotly.js inlined once, every figure and table in manuscript order, the prediction models, methods generated
from the config actually used, provenance) and the IBSI / CLEAR / TRIPOD+AI checklist (write_checklist)."""

import inspect
import json
from html import escape
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pyarrow.parquet as pq
import yaml
from plotly.offline import get_plotlyjs

from spinestudy import applicable
from spinestudy import study as studies
from spinestudy.provenance.build import git as _git
from spinestudy.provenance.build import provenance
from spinestudy.report import figures, manuscript_tables, prediction_figures, prediction_report, unanalysed
from spinestudy.report import radiomics_figures as figures_radiomics
from spinestudy.report.agreement_figure import figure_agreement
from spinestudy.report.export import export
from spinestudy.tables import derived
from spinestudy.tables.merge import RESOLUTIONS

REPO = Path(__file__).resolve().parents[2]
FIGURES = {  # name -> figure function; inputs are the function's parameters (by name)
    "flow": figures.figure_flow,
    "prevalence": figures.figure_prevalence,
    "forest": figures.figure_forest,
    "agreement": figure_agreement,
    "shape_by_modic": figures_radiomics.figure_shape_by_modic,
    "mwu_screen": figures_radiomics.figure_mwu_screen,
    "lasso_features": figures_radiomics.figure_lasso_features,
    "classifier": figures_radiomics.figure_classifier,
    "correlations": figures_radiomics.figure_correlations,
    "combat": figures_radiomics.figure_combat,
    "calibration": prediction_figures.figure_calibration,  # one per prediction model, in its section
    "decision_curve": prediction_figures.figure_decision_curve,
}
ORDER = [  # manuscript order of the study page: (kind, name)
    ("figure", "flow"), ("table", "table1"), ("table", "posthoc"), ("figure", "prevalence"), ("table", "prevalence"),
    ("table", "lasso"), ("figure", "forest"), ("table", "associations"),
    ("figure", "agreement"), ("table", "agreement"),
    ("figure", "shape_by_modic"), ("table", "shape_by_modic"), ("table", "dunn"), ("table", "icc"),
    ("figure", "mwu_screen"), ("figure", "lasso_features"), ("table", "lasso_features"),
    ("figure", "classifier"), ("table", "classifier"), ("figure", "correlations"), ("table", "correlations"),
    ("figure", "combat"), ("table", "mwu_screen"),
]
FOR_AUTHORS = "for the authors to complete"
ROMAN_TYPES = {1: "I", 2: "II", 3: "III"}
PERTURBED = {"erode": "eroded", "dilate": "dilated"}


# --- figures --------------------------------------------------------------------------------------

def figure(name: str, inputs: dict[str, Path]) -> go.Figure | None:
    """Build a figure from the inputs its function names; None when a required input is absent."""
    function = FIGURES[name]
    params = {k: p for k, p in inspect.signature(function).parameters.items() if k != "out_html"}
    if any(p.default is inspect.Parameter.empty and k not in inputs for k, p in params.items()):
        return None
    return function(**{k: inputs[k] for k in params if k in inputs})


def write_figure(name: str, inputs: dict[str, Path], out_html: str | Path, out_png: str | Path | None = None,
                 out_svg: str | Path | None = None) -> bool:
    """The figure rules' entry point: HTML always, PNG/SVG when a browser exists (returns whether)."""
    fig = figure(name, inputs)
    if fig is None:
        raise ValueError(f"figure {name}: missing inputs; it needs {list(inspect.signature(FIGURES[name]).parameters)}")
    return export(fig, out_html, out_png, out_svg)


# --- methods and provenance -----------------------------------------------------------------------

def methods(config: dict, diagnostics: Path | None = None) -> list[str]:
    """Methods paragraphs written from the configuration (and the PyRadiomics settings actually used); given
    diagnostics without an ROI (a tables-only study), radiomics is not applicable."""
    stats, tables = config.get("stats", {}), config.get("tables", {})
    posthoc, lasso, assoc = stats.get("posthoc", {}), stats.get("lasso", {}), stats.get("associations", {})
    binary = {"kruskal": "the Kruskal-Wallis test", "chi2": "the chi-squared test",
              "fisher": "Fisher's exact test (Monte Carlo beyond 2 × 2)"}.get(stats.get("binary_test"), "–")
    centres = sorted(config.get("centres", {}))
    paragraphs = [
        f"Clinical and MRI grading tables from {len(centres)} centre(s) ({', '.join(centres)}) were mapped to a "
        f"common schema and validated (invalid rows: {tables.get('on_invalid')}). Derived variables (study file "
        f"{studies.of(config).name}): " + "; ".join(map(derived.describe, studies.of(config).derived.values())) + ".",
        f"Continuous variables are reported as median [IQR], binary and graded ones as % (n/total). Continuous "
        f"variables were {stats.get('transform')}-transformed; when the within-group residuals passed the normality "
        f"check (Shapiro-Wilk, D'Agostino-Pearson above 5000 values; α = {stats.get('normality_alpha')}) and Levene's "
        f"test found equal variances (α = {stats.get('levene_alpha')}), groups were compared by one-way ANOVA, "
        f"otherwise by the Kruskal-Wallis test; binary and graded variables by {binary}. The significance threshold "
        f"was P < {stats.get('alpha')}. Pairwise post hoc comparisons (Dunn's test; {posthoc.get('binary_test')} for "
        f"binary variables) were adjusted by the {posthoc.get('p_adjust')} method (P < {posthoc.get('alpha')}). "
        f"Prevalences by age decade and level are given with "
        f"{stats.get('prevalence', {}).get('confidence', 0.95):.0%} Wilson intervals.",
        f"Predictors of back pain before the procedure (Poisson) and of MCID achievement (logistic) were selected by "
        f"LASSO on standardised predictors{' with age and sex' if lasso.get('include_age_sex') else ''}, the penalty "
        f"chosen by {lasso.get('folds')}-fold cross-validation over {lasso.get('n_lambdas')} values "
        f"(smallest/largest {lasso.get('lambda_ratio')}) with the {lasso.get('rule')} rule; {lasso.get('bootstraps')} "
        f"bootstrap refits gave selection frequencies and {lasso.get('confidence', 0.95):.0%} percentile intervals. "
        f"Models with fewer than {lasso.get('min_cases')} complete cases (logistic: fewer than "
        f"{lasso.get('min_events')} patients with or without MCID) were not estimated. Associations of MRI findings "
        f"with the NPRS were estimated by linear regression adjusted for age and sex (baseline pain: NPRS ≥ "
        f"{assoc.get('baseline_pain')}; at least {assoc.get('min_cases')} complete cases).",
        _agreement_methods(config),
        *filter(None, [prediction_report.methods(config)]),
    ]
    if diagnostics is not None and figures.read(diagnostics).empty:
        return [*paragraphs, f"Radiomics and radiomics statistics: {applicable.NO_FEATURES}."]
    rstats = config.get("radiomics_stats")
    return [*paragraphs, _radiomics_methods(config, diagnostics), _radiomics_stats_methods(rstats) if rstats else
            "No radiomics statistics are configured in this run."]


def _agreement_methods(config: dict) -> str:
    """How the readers' agreement was measured and which grades were analysed, from the config."""
    centres = config.get("centres", {})
    second = sorted(c for c, cfg in centres.items() if "gradings_reader2" in cfg)
    repeat = sorted(c for c, cfg in centres.items() if "gradings_repeat" in cfg)
    if not second and not repeat:
        return "The MRI gradings were read once (no second reader); reader agreement was not assessed."
    cfg = config.get("stats", {}).get("agreement", {})
    resolution = config.get("tables", {}).get("reader_resolution", "first")
    reads = [f"a second reader graded the MRI of centre(s) {', '.join(second)}" if second else "",
             f"the first reader graded those of centre(s) {', '.join(repeat)} again" if repeat else ""]
    return (
        f"For the agreement of the gradings {' and '.join(r for r in reads if r)}. Per scale and level, and pooled "
        "over levels, we report percent agreement, Cohen's kappa, linearly and quadratically weighted kappa "
        "(ordinal scales), Gwet's AC1 and AC2 (quadratic weights), and for the TEP total and Jarosz scores "
        "ICC(2,1) and ICC(3,1), each with a 95% confidence interval: analytic where a patient contributes one "
        f"unit, otherwise a percentile bootstrap over patients ({cfg.get('bootstraps', 1000)} resamples) keeping "
        "a patient's discs and endplates together. Kappa and AC coefficients are labelled after Landis & Koch, "
        f"ICCs after Koo & Li. Grades analysed: {RESOLUTIONS[resolution]}.")


def _listed(values) -> str:
    """'a, b and c' from a list (config values as written: 0.1, scale)."""
    words = [str(v) for v in values]
    return " and ".join([", ".join(words[:-1]), words[-1]] if len(words) > 1 else words)


def _types(types) -> str:
    return _listed(ROMAN_TYPES.get(t, str(t)) for t in types)


def _harmonisation_methods(rstats: dict) -> str:
    """Which ComBat each estimate used (whole cohort vs inside the folds), from the config."""
    h = rstats.get("harmonisation", {})
    if not h.get("enabled"):
        return "Features were not harmonised across centres."
    return (f"Features were harmonised across centres with ComBat (parametric empirical Bayes; centres with fewer "
            f"than {h.get('min_lesions_per_centre')} lesions: no harmonisation). For the shape tables, the screen, "
            f"the correlations and the paper-protocol classifier estimate, ComBat (inmoose) was fitted on all lesions "
            f"with the Modic type as a biological covariate; for the nested estimate, ComBat (combatlearn, no "
            f"covariates) was fitted on each outer training fold only and applied to its test fold, so no test "
            f"label informed the harmonisation. Centre differences before and after harmonisation were tested by "
            f"the Kruskal-Wallis test (α = {h.get('alpha')}).")


def _radiomics_stats_methods(rstats: dict) -> str:
    """The radiomics-statistics paragraph, written from the radiomics_stats configuration."""
    shape, screen = rstats.get("shape", {}), rstats.get("screen", {})
    c, corr, rob = rstats.get("classifier", {}), rstats.get("correlations", {}), rstats.get("robustness", {})
    contrast = _types(rstats.get("contrast", []))
    text = [
        f"Modic lesion ROIs took the Modic type graded at their endplate; lesions graded 0 or not graded were left "
        f"out, as were types with fewer than {rstats.get('min_lesions')} lesions. " + _harmonisation_methods(rstats),
        f"Shape features of the {shape.get('sequence')} lesion ROI ({shape.get('image_type')} image) were compared "
        f"between Modic types {_types(rstats.get('modic_types', []))} by the Kruskal-Wallis test (α = "
        f"{shape.get('alpha')}), followed by Dunn's test ({shape.get('p_adjust')} adjustment); a type's mean (SD) "
        f"is marked when the Shapiro-Wilk test did not reject normality (α = {shape.get('normality_alpha')}).",
    ]
    if c:
        text.append(
            f"To classify Modic types {contrast}, features were screened by the Mann-Whitney U test (α = "
            f"{screen.get('alpha')}), reduced by a correlation filter (of pairs with |{c.get('correlation_method')} r| "
            f"> {c.get('correlation_threshold')}, the feature with the higher mean |r| dropped) and selected by LASSO "
            f"(penalty by {c.get('lasso_folds')}-fold cross-validation over {c.get('lasso_alphas')} values); an SVM "
            f"({c.get('kernel')} kernel, {c.get('class_weight') or 'unweighted'} class weights) was tuned over C in "
            f"{{{_listed(c.get('C', []))}}} and γ in {{{_listed(c.get('gamma', []))}}} by a "
            f"{c.get('inner_folds')}-fold inner grid search. Performance was estimated on the same "
            f"{c.get('outer_folds')} outer folds, grouped by patient, in two ways: as in the paper, with "
            f"harmonisation and selection on all lesions and only the SVM cross-validated (optimistic), and by "
            f"nested cross-validation with every step refitted within each outer training fold. Accuracy, balanced "
            f"accuracy and the AUC are given with {c.get('confidence', 0.95):.0%} percentile intervals from "
            f"{c.get('bootstraps')} bootstrap resamples of patients.")
    if corr:
        text.append(
            f"Selected features of each patient's {corr.get('aggregate')} lesion (types "
            f"{_types(corr.get('modic_types', []))}) were correlated with {_listed(corr.get('outcomes', []))} "
            f"({' and '.join(m.capitalize() for m in corr.get('methods', []))}; {corr.get('p_adjust')} adjustment; "
            f"at least {corr.get('min_patients')} patients).")
    if rob:
        perturbed = _listed(PERTURBED.get(p, p) for p in rob.get("perturbations", []))
        text.append(
            f"Robustness to segmentation: the {rob.get('structures')} ROIs were {perturbed} by {rob.get('radius')} "
            f"voxel(s) and re-extracted ({Path(str(rob.get('params'))).name}; {', '.join(rob.get('sequences', []))}) "
            f"in {rob.get('sample', 1.0):.0%} of patients; features with ICC(3,1) ≥ {rob.get('icc_threshold')} (at "
            f"least {rob.get('min_rois')} ROIs) were deemed robust.")
    return " ".join(text)


def radiomics_settings(config: dict, diagnostics: Path | None) -> dict:
    """The PyRadiomics settings used (diagnostics), image types and feature classes (parameter file)."""
    table = figures.read(diagnostics)
    used = json.loads(table["settings"].iloc[0]) if "settings" in table and len(table) else {}
    params_path = REPO / config.get("radiomics", {}).get("params", "")
    params = yaml.safe_load(params_path.read_text()) if params_path.is_file() else {}
    return {"version": table["pyradiomics"].iloc[0] if "pyradiomics" in table and len(table) else None,
            "settings": used or params.get("setting", {}), "image_types": list(params.get("imageType", {})),
            "feature_classes": list(params.get("featureClass", {})), "rois": len(table),
            "voxels": table["voxels"].describe().to_dict() if "voxels" in table and len(table) else {}}


def filters_vs_ibsi2(image_types: list[str]) -> str:
    """What PyRadiomics 3.0.1's LoG and wavelet filters are relative to IBSI 2 (measured against the IBSI-2
    reference response maps, theibsi/ibsi_2_reference_data); '' when neither is used."""
    parts = []
    if "LoG" in image_types:
        parts.append("its LoG response is scaled by sigma squared in voxels and its recursive Gaussian kernel is not "
                     "truncated")
    if "Wavelet" in image_types:
        parts.append("its wavelets are periodic at the image faces and repeat the level-1 filters at higher levels "
                     "instead of dilating them, so only level-1 wavelets reproduce the IBSI-2 reference maps")
    if not parts:
        return ""
    return (f"Filtered images are PyRadiomics 3.0.1's, not IBSI-2 compliant ones: {'; '.join(parts)}; no "
            "rotation-invariant pooling is applied.")


def _radiomics_methods(config: dict, diagnostics: Path | None) -> str:
    rad = config.get("radiomics", {})
    info = radiomics_settings(config, diagnostics)
    s = info["settings"]
    spacing = s.get("resampledPixelSpacing")
    return (
        f"Radiomics features were extracted with PyRadiomics {info['version'] or '(version not recorded)'} "
        f"(parameter file {Path(rad.get('params', '')).name}) from the {', '.join(rad.get('sequences', []))} series "
        f"for structures matching '{rad.get('structures')}' (ROIs under {rad.get('min_voxels')} voxels excluded; "
        f"masks on another grid resampled by nearest neighbour: {rad.get('resample_mask')}). Images were "
        f"{'z-score normalised (scale ' + str(s.get('normalizeScale')) + ', outliers beyond ±' + str(s.get('removeOutliers')) + ' SD clipped)' if s.get('normalize') else 'not normalised'}, "
        f"{'resampled to ' + str(spacing) + ' mm with ' + str(s.get('interpolator')) + ' interpolation' if spacing else 'analysed on their native grid (no resampling)'} "
        f"and discretised with {'a fixed bin width of ' + str(s.get('binWidth')) if s.get('binWidth') else 'a fixed bin count of ' + str(s.get('binCount'))}; "
        f"image types: {', '.join(info['image_types']) or '–'} (LoG σ {s.get('sigma')} mm, wavelet {s.get('wavelet')}); "
        f"feature classes: {', '.join(info['feature_classes']) or '–'}; "
        f"{'2D' if s.get('force2D') else '3D'} texture matrices, distances {s.get('distances', [1])}. "
        f"{filters_vs_ibsi2(info['image_types'])}").strip()


# --- the study page -------------------------------------------------------------------------------

CSS = """body{font-family:Arial,'Liberation Sans',Helvetica,sans-serif;max-width:1100px;margin:2em auto;color:#000;
line-height:1.45}h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccc}
table.manuscript{border-collapse:collapse;margin:1em 0;font-size:.9em}table.manuscript caption{text-align:left;
font-weight:bold;padding-bottom:.4em}table.manuscript th{border-top:2px solid #000;border-bottom:1px solid #000;
padding:.3em .6em;text-align:right}table.manuscript td{padding:.2em .6em;text-align:right}
table.manuscript th:first-child,table.manuscript td:first-child{text-align:left}
table.manuscript tbody tr:last-child td{border-bottom:2px solid #000}tr.section td{font-style:italic;padding-top:.6em}
p.footnote{font-size:.85em;color:#333}figure{margin:1.5em 0}dl.provenance dt{font-weight:bold}"""

# Records script errors and, once every figure has drawn (or after 10 s), sets data-rendered on <body>.
MARKER = """<script>window.studyErrors=[];
addEventListener('error',function(e){window.studyErrors.push(String(e.message))});
addEventListener('unhandledrejection',function(e){window.studyErrors.push(String(e.reason))});</script>"""
READY = """<script>addEventListener('load',function(){var tries=0;(function check(){
var divs=document.querySelectorAll('.plotly-graph-div'),done=0;
divs.forEach(function(d){if(d.querySelector('.main-svg'))done++});
if(done<divs.length&&++tries<100){setTimeout(check,100);return}
document.body.setAttribute('data-figures',divs.length);document.body.setAttribute('data-rendered',done);
document.body.setAttribute('data-errors',JSON.stringify(window.studyErrors));})()});</script>"""


def write_study(inputs: dict[str, Path], config: dict, out: str | Path, *, commit: str | None = None,
                date: str | None = None) -> Path:
    """Write results/report/study.html from the stage outputs in inputs (keys: the figure functions'
    parameters and manuscript_tables.TABLES keys, a prediction model's tables named by prediction.report_key,
    plus 'diagnostics', 'version' and 'changes'); absent inputs are left out."""
    inputs = {k: Path(v) for k, v in inputs.items()}
    sections = []
    for kind, name in ORDER:
        if kind == "figure":
            sections.append(embed(name, inputs, name))
        elif name in inputs:
            sections.append(manuscript_tables.to_html(manuscript_tables.table(name, inputs[name], config)))
    sections.append(prediction_report.section(config, inputs, embed))
    prov = provenance(config, commit, date)
    methods_html = "".join(f"<p>{escape(p)}</p>" for p in methods(config, inputs.get("diagnostics")))
    packages = ", ".join(f"{k} {v}" for k, v in prov["packages"].items())
    version_text = (f", data version <code id=\"data-version\">{json.loads(inputs['version'].read_text())['version']}"
                    "</code>" if "version" in inputs else "")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>spinestudy: study report</title>
<style>{CSS}</style>{MARKER}<script>{get_plotlyjs()}</script></head>
<body><h1>Lumbar spine MRI and back pain: study report</h1>
<p>Generated by spinestudy on {escape(prov['date'])} from commit <code>{escape(prov['commit'])}</code>{version_text}.</p>
<h2>Methods</h2>{methods_html}{unanalysed.html(config)}
<h2>Results</h2>{''.join(sections)}
{changes_html(inputs["version"], inputs["changes"]) if "version" in inputs else ""}
<h2>Provenance</h2><dl class="provenance"><dt>Git commit</dt><dd><code>{escape(prov['commit'])}</code></dd>
<dt>Configuration (SHA-256 of the config as used)</dt><dd><code>{prov['config_sha256']}</code></dd>
<dt>Date</dt><dd>{escape(prov['date'])}</dd><dt>Python</dt><dd>{escape(prov['python'])}</dd>
<dt>Packages</dt><dd>{escape(packages)}</dd></dl>
{READY}</body></html>
"""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out


def embed(name: str, inputs: dict[str, Path], anchor: str) -> str:
    """A figure as a <figure id="fig-anchor"> of the page ('' when its inputs are absent)."""
    fig = figure(name, inputs)
    if fig is None:
        return ""
    return f'<figure id="fig-{anchor}">' + fig.to_html(full_html=False, include_plotlyjs=False,
                                                       div_id=f"figure-{anchor}",
                                                       config={"displaylogo": False, "responsive": True}) + "</figure>"


def changes_html(version: Path, changes: Path, limit: int = 100) -> str:
    """The 'Changes since' section: patients per centre, stage and change, then the moved numbers (flagged
    ones first, at most `limit`; changes.csv holds them all)."""
    info = json.loads(Path(version).read_text())["changes"]
    if not info["since"]:
        return '<h2 id="changes">Changes</h2><p>First data version: nothing to compare with.</p>'
    table = pd.read_csv(changes, dtype=str, keep_default_na=False)
    since = info["since"] + (f" (release {info['since_name']})" if info["since_name"] else "")
    patients = table[table["kind"] == "patient"].groupby(["centre", "stage", "change"]).size().reset_index(name="patients")
    numbers = table[table["kind"] == "number"].sort_values("flag", ascending=False, kind="stable")
    cells = numbers[["table", "row", "column", "old", "new", "flag"]].head(limit)
    html = [f'<h2 id="changes">Changes since data version {escape(since)}</h2>',
            f"<p>{len(numbers)} manuscript numbers moved, {int((numbers['flag'] != '').sum())} of them flagged "
            "(a P-value crossing its threshold or a LASSO predictor selected or dropped); all changes are in "
            "<code>results/provenance/changes.csv</code>.</p>"]
    for frame, caption in ((patients, "Patients added, removed or changed"), (cells, "Manuscript numbers that moved")):
        if not frame.empty:
            html.append(frame.to_html(index=False, classes="manuscript", border=0, escape=True)
                        .replace("<thead>", f"<caption>{escape(caption)}</caption><thead>", 1))
    return "".join(html)


# --- IBSI / CLEAR / TRIPOD+AI checklist -----------------------------------------------------------

def checklist(config: dict, diagnostics: Path | None = None, features: Path | None = None,
              classifier: Path | None = None, prediction: dict[str, Path] | None = None) -> pd.DataFrame:
    """IBSI reporting, CLEAR and (per prediction model, its tables in `prediction` as prediction.report_key
    names them) TRIPOD+AI items: value and source where the pipeline knows them, otherwise marked for the
    authors to complete."""
    rad = config.get("radiomics", {})
    info = radiomics_settings(config, diagnostics)
    s = info["settings"]
    diag = f"{Path(diagnostics).name} (settings used)" if diagnostics else "diagnostics"
    params = f"{rad.get('params')} (parameter file)"
    columns = pq.read_schema(features).names if features and Path(features).is_file() else []
    counts = {seq: sum(c.startswith(f"{seq}_") for c in columns) for seq in rad.get("sequences", [])}
    spacing = s.get("resampledPixelSpacing")
    rstats = config.get("radiomics_stats", {})
    result = json.loads(Path(classifier).read_text()) if classifier and Path(classifier).is_file() else {}
    rows = [
        ("IBSI", "Image acquisition and reconstruction parameters", None, "DICOM headers / scanner protocols"),
        ("IBSI", "Segmentation method and ROI definition",
         f"structures matching '{rad.get('structures')}' from {rad.get('labels')}; ROIs < {rad.get('min_voxels')} "
         "voxels excluded", "config radiomics"),
        ("IBSI", "Image interpolation", f"{spacing} mm, {s.get('interpolator')}" if spacing else
         "none (native grid)", diag),
        ("IBSI", "ROI (mask) interpolation", "nearest neighbour onto each sequence grid" if rad.get("resample_mask")
         else "none (mask must share the image grid)", "config radiomics.resample_mask"),
        ("IBSI", "Re-segmentation", f"range {s.get('resegmentRange')}" if s.get("resegmentRange") else "none", diag),
        ("IBSI", "Intensity normalisation", f"z-score × {s.get('normalizeScale')}, outliers clipped at ±"
         f"{s.get('removeOutliers')} SD" if s.get("normalize") else "none", diag),
        ("IBSI", "Intensity discretisation", f"fixed bin width {s.get('binWidth')}" if s.get("binWidth") else
         f"fixed bin number {s.get('binCount')}", diag),
        ("IBSI", "Image filters", f"{', '.join(info['image_types'])}; LoG sigma {s.get('sigma')} mm; wavelet "
         f"{s.get('wavelet')} level {s.get('level')}. {filters_vs_ibsi2(info['image_types'])}".strip(), params),
        ("IBSI", "Feature families", ", ".join(info["feature_classes"]), params),
        ("IBSI", "Texture matrix aggregation", f"{'2D' if s.get('force2D') else '3D'}, distances {s.get('distances')}",
         diag),
        ("IBSI", "Software and version", f"PyRadiomics {info['version']}" if info["version"] else None, diag),
        ("IBSI", "IBSI compliance of feature definitions", None, "PyRadiomics documentation (known deviations)"),
        ("IBSI", "Number of features", "; ".join(f"{k}: {v}" for k, v in counts.items()) if columns else None,
         "features.parquet"),
        ("IBSI", "Number of ROIs extracted", str(info["rois"]) if info["rois"] else None, diag),
        ("CLEAR", "Study design and data source", f"{config.get('cohort')} cohort, centres "
         f"{', '.join(sorted(config.get('centres', {})))}", "config"),
        ("CLEAR", "Eligibility criteria and patient flow", None, "results/tables/flow.csv (numbers)"),
        ("CLEAR", "Reference standard (Modic typing, readers)", None, "study protocol"),
        ("CLEAR", "Image preprocessing", f"normalisation {bool(s.get('normalize'))}, resampling "
         f"{spacing or 'none'}", diag),
        ("CLEAR", "Feature extraction software", f"PyRadiomics {info['version']}" if info["version"] else None, diag),
        ("CLEAR", "Harmonisation across centres", _harmonisation_methods(rstats) if "harmonisation" in rstats
         else None, "config radiomics_stats.harmonisation"),
        ("CLEAR", "Feature selection", _selection(rstats), "config radiomics_stats.screen, .classifier"),
        ("CLEAR", "Validation scheme", _validation(rstats), "config radiomics_stats.classifier"),
        ("CLEAR", "Performance metrics with confidence intervals", _performance(result), "classifier.json"),
        ("CLEAR", "Code availability and version", _git("rev-parse", "HEAD") or None, "git commit"),
        ("CLEAR", "Data availability", None, "data sharing statement"),
        *prediction_report.checklist_rows(config, prediction or {}),
    ]
    frame = pd.DataFrame(rows, columns=["checklist", "item", "value", "source"])
    frame["status"] = frame["value"].notna().map({True: "filled", False: FOR_AUTHORS})
    frame["value"] = frame["value"].fillna(FOR_AUTHORS)
    return frame


def _selection(rstats: dict) -> str | None:
    """The feature selection steps the classifier used, from the config."""
    if "classifier" not in rstats:
        return None
    c = rstats["classifier"]
    return (f"Mann-Whitney U / Kruskal-Wallis screen (P < {rstats['screen']['alpha']}), correlation filter "
            f"(|{c['correlation_method']} r| > {c['correlation_threshold']}), LASSO ({c['lasso_folds']}-fold CV)")


def _validation(rstats: dict) -> str | None:
    """The validation scheme of the classifier, from the config."""
    if "classifier" not in rstats:
        return None
    c = rstats["classifier"]
    return (f"nested cross-validation grouped by patient ({c['outer_folds']} outer, {c['inner_folds']} inner folds; "
            f"every selection step inside the outer training folds), beside the paper's protocol; "
            f"{c['bootstraps']} patient-level bootstraps for 95% CIs")


def _performance(result: dict) -> str | None:
    """Classifier metrics with their intervals per validation scheme, from classifier.json."""
    parts = []
    for scheme, label in (("nested", "nested CV"), ("paper", "paper protocol")):
        metrics = result.get(scheme, {}).get("metrics", {})
        cells = [f"{name} {m['estimate']:.3f} [{m['ci_low']:.3f}; {m['ci_high']:.3f}]"
                 for name, m in metrics.items() if m.get("estimate") is not None]
        if cells:
            parts.append(f"{label}: " + ", ".join(cells))
    return "; ".join(parts) or None


def write_checklist(config: dict, out: str | Path, diagnostics: Path | None = None, features: Path | None = None,
                    classifier: Path | None = None, **prediction: Path) -> None:
    """Write results/report/checklist.csv (prediction: the models' tables, named by prediction.report_key)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    checklist(config, diagnostics, features, classifier, prediction).to_csv(out, index=False)
