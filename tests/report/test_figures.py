"""Figures: every figure from small synthetic inputs (the radiomics statistics written by their own modules, so
a format change there shows here), empty and not-estimable inputs, deterministic HTML, static export with and
without a browser."""

import json
import logging

import numpy as np
import pandas as pd
import plotly.io as pio
from plotly.offline import get_plotlyjs
import pytest
import yaml

from spinestudy.anatomy import LEVELS
from spinestudy.config import REPO
from spinestudy import study
from spinestudy.demo.tables import SYNDROMES
from spinestudy.prediction import outputs as prediction_outputs
from spinestudy.prediction import report_key
from spinestudy.radiomics_stats import classifier as modic_classifier
from spinestudy.radiomics_stats import correlations as feature_correlations
from spinestudy.radiomics_stats import harmonisation, icc
from spinestudy.radiomics_stats import screen as feature_screen
from spinestudy.radiomics_stats import shape as modic_shape
from spinestudy.report import export as figure_export
from spinestudy.report import figures, style
from spinestudy.report import manuscript_tables as mt
from spinestudy.report import radiomics_figures as figures_radiomics
from spinestudy.report import study as report
from spinestudy.stats import agreement, prevalence
from stats_cohort import cohort, reads

AGE_DECADES = study.load("rudds").age_band_labels


def synthetic_inputs(root) -> dict:
    """Small inputs in every documented format (clinical stats, reader agreement written by its module, and
    radiomics statistics)."""
    rng = np.random.default_rng(3)
    root.mkdir(parents=True, exist_ok=True)
    paths = {}

    def csv(name, frame):
        paths[name] = root / f"{name}.csv"
        frame.to_csv(paths[name], index=False)

    csv("flow", pd.DataFrame({"centre": ["A", "B", "all"], "received": [12, 10, 22], "valid_clinical": [11, 10, 21],
                              "valid_mri": [11, 9, 20], "with_images": [11, pd.NA, 11], "analysed": [11, 9, 20],
                              "questionnaires_before": [8, 6, 14], "questionnaires_after": [5, 4, 9]}))
    grid = pd.MultiIndex.from_product([["pfirrmann_ge4", "modic_any", "tep_ge6"], AGE_DECADES, LEVELS],
                                      names=["finding", "age_decade", "level"]).to_frame(index=False)
    grid["total"] = rng.integers(0, 9, len(grid))
    grid["n"] = rng.binomial(grid["total"], 0.4)
    has = grid["total"] > 0
    grid["prevalence"] = np.where(has, grid["n"] / grid["total"].clip(lower=1), np.nan)
    grid["ci_low"] = np.where(has, grid["prevalence"] * 0.6, np.nan)
    grid["ci_high"] = np.where(has, np.minimum(grid["prevalence"] * 1.3 + 0.1, 1), np.nan)
    grid["label"], grid["note"] = grid["finding"], np.where(has, "", "no graded discs in this age decade and level")
    csv("prevalence", grid)
    rows = []
    for outcome, model, effect in (("nprs_back_before", "poisson", "IRR"), ("mcid", "logistic", "OR")):
        for group in ["Total", *SYNDROMES]:
            estimable = group != "facet joint pain"
            for predictor, label in (("pfirrmann_sum", "Pfirrmann grades"), ("bmi", "BMI"), ("smoking", "Smoking")):
                coef = float(rng.choice([0.0, rng.normal(0, 0.2)])) if estimable else np.nan
                rows.append(dict(outcome=outcome, model=model, group=group, predictor=predictor, label=label,
                                 effect=effect, coef=coef, exp_coef=np.exp(coef), exp_ci_low=np.exp(coef - 0.2),
                                 exp_ci_high=np.exp(coef + 0.25), ci_low=coef - 0.2, ci_high=coef + 0.25,
                                 selected_share=0.4, estimable=estimable,
                                 note="" if estimable else "not estimable: 4 complete cases (< 30)"))
    csv("lasso", pd.DataFrame(rows))
    reads(30, seed=3)[0].to_parquet(root / "reads_long.parquet")
    paths |= {"agreement": root / "agreement.csv", "confusion": root / "agreement_confusion.csv"}
    agreement.write(root / "reads_long.parquet", study.path_of("rudds"), {"agreement": {"bootstraps": 100}}, paths["agreement"],
                    paths["confusion"])
    paths |= radiomics_stats_inputs(root, rng)
    paths["study"] = study.path_of("rudds")  # the forest plot's outcome headings
    return paths | prediction_inputs(root)


def prediction_inputs(root, model="rudds_mcid") -> dict:
    """results/prediction/<model>/ written by the prediction module from a small demo cohort, named as the
    figure rules (calibration, decision_curve) and the study page (prediction.report_key) name them."""
    settings = yaml.safe_load((REPO / "config/config.yaml").read_text())["prediction"]
    tables = prediction_outputs.build(cohort(400, seed=7)[0], settings | {"bootstraps": 10, "model": model})
    paths = {}
    for name, frame in tables.items():
        paths[report_key(model, name)] = root / f"prediction_{name}.csv"
        frame.to_csv(paths[report_key(model, name)], index=False)
    return paths | {name: paths[report_key(model, name)] for name in ("calibration", "decision_curve")}


RADIOMICS_SETTINGS = {"seed": 1, "modic_types": [1, 2, 3], "min_lesions": 2, "contrast": [1, 2],
                      "classifier": {"C": [1.0], "gamma": ["scale"], "outer_folds": 3, "inner_folds": 2,
                                     "bootstraps": 20},
                      "correlations": {"min_patients": 5}, "harmonisation": {"enabled": harmonisation.available()}}


def radiomics_stats_inputs(root, rng) -> dict:
    """results/radiomics_stats/ in the real formats: a small lesion cohort (two centres, Modic I-III lesions
    whose shape and texture depend on the type) run through the real writer modules."""
    sites = list(modic_shape.LESION_SITES.items())
    lesions, grades = [], []
    for i in range(16):
        centre, patient = "AB"[i % 2], f"p{i:012x}"
        levels = {level: {"modic_upper": 0, "modic_lower": 0} for level in LEVELS}
        for j, k in enumerate(rng.choice(len(sites), 3, replace=False)):
            structure, (level, endplate) = sites[k]
            modic = 3 if i < 3 and j == 0 else int(rng.integers(1, 3))
            levels[level][f"modic_{endplate}"] = modic
            size = (10 + 5 * modic) * rng.uniform(0.9, 1.1)
            lesions.append({"centre": centre, "patient": patient, "label": str(k), "structure": structure,
                            "T2_original_shape_Elongation": rng.uniform(0.6, 0.9) + 0.05 * modic,
                            "T2_original_shape_Sphericity": rng.uniform(0.4, 0.8),
                            "T2_original_shape_MajorAxisLength": size,
                            "T2_original_shape_VoxelVolume": size ** 3 / 6,
                            **{f"{seq}_{image}_glcm_F{f}": rng.normal(modic * (f % 2) + (centre == "B"), 1)
                               for seq in ("T1", "T2", "STIR") for image in ("original", "wavelet-LLH") for f in range(4)}})
        grades += [dict(centre=centre, patient=patient, level=level, **v) for level, v in levels.items()]
    features, gradings, analysis = root / "features.parquet", root / "gradings_long.parquet", root / "analysis.parquet"
    pd.DataFrame(lesions).to_parquet(features)
    pd.DataFrame(grades).to_parquet(gradings)
    pd.DataFrame({"centre": [g["centre"] for g in grades[::len(LEVELS)]],
                  "patient": [g["patient"] for g in grades[::len(LEVELS)]],
                  "odi_before": rng.uniform(10, 60, 16), "nprs_back_before": rng.integers(0, 11, 16),
                  "age": rng.uniform(30, 70, 16)}).to_parquet(analysis)
    out = {name: root / f"{name}.csv" for name in ("combat_diagnostic", "shape_by_modic", "dunn", "mwu_screen",
                                                   "lasso_features", "correlations", "icc")}
    out |= {"features": root / "lesion_features.parquet", "gradings": gradings, "classifier": root / "classifier.json"}
    s = RADIOMICS_SETTINGS
    harmonisation.write(features, gradings, s, out["features"], out["combat_diagnostic"])
    modic_shape.write(out["features"], gradings, s, out["shape_by_modic"], out["dunn"])
    feature_screen.write(out["features"], gradings, s, out["mwu_screen"])
    modic_classifier.write(out["features"], features, gradings, s, out["lasso_features"], out["classifier"])
    feature_correlations.write(out["features"], gradings, analysis, out["lasso_features"], s, out["correlations"])
    perturbed = root / "perturbed.parquet"
    pd.concat([pd.DataFrame(lesions).assign(perturbation=how, T2_original_shape_VoxelVolume=lambda d: d[
        "T2_original_shape_VoxelVolume"] * rng.uniform(0.8, 1.2, len(d))) for how in ("original", "erode", "dilate")]
              ).to_parquet(perturbed)
    icc.write([perturbed], s, out["icc"])
    return out


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return synthetic_inputs(tmp_path_factory.mktemp("inputs"))


@pytest.mark.parametrize("name", list(report.FIGURES))
def test_every_figure_builds_and_writes_identical_html(name, inputs, tmp_path):
    fig = report.figure(name, inputs)
    assert fig is not None and (fig.data or name == "flow"), f"{name}: no traces from synthetic data"
    assert not any((a.text or "").startswith("no ") for a in fig.layout.annotations)
    assert fig.layout.template.layout.font.family == style.FONT
    first, second = tmp_path / "a" / f"{name}.html", tmp_path / "b" / f"{name}.html"
    figure_export.write_html(fig, first)
    figure_export.write_html(report.figure(name, inputs), second)
    assert first.read_bytes() == second.read_bytes()
    # one local plotly.js per folder, loaded by a relative path: opens offline, no 4.8 MB copy per figure
    assert b'<script charset="utf-8" src="plotly.min.js">' in first.read_bytes()
    assert b"plotly.js v" not in first.read_bytes() and first.stat().st_size < 500_000
    assert (tmp_path / "a" / "plotly.min.js").read_text(encoding="utf-8") == get_plotlyjs()


@pytest.mark.parametrize("name", list(report.FIGURES))
def test_every_figure_survives_empty_inputs(name, inputs, tmp_path):
    empty = {k: tmp_path / p.name for k, p in inputs.items() if k != "study"}  # files that do not exist
    for path in empty.values():
        path.write_text("")
    empty["study"] = inputs["study"]  # the study file is the workflow's own, never empty
    _, not_estimable = modic_classifier.run(pd.DataFrame({"T1_original_firstorder_Mean": [1.0, 2.0]}),
                                            np.array([2, 2]), np.array(["a", "b"]), RADIOMICS_SETTINGS)
    empty["classifier"].write_text(json.dumps(not_estimable))
    fig = report.figure(name, empty)
    notes = [a.text for a in fig.layout.annotations]
    assert any(t and ("no " in t or "not estimable" in t) for t in notes), notes


def test_forest_lists_groups_that_were_not_estimable(inputs):
    fig = figures.figure_forest(inputs["lasso"], study.path_of("rudds"))
    assert {t.name for t in fig.data if t.name} == {"Total", *(s.capitalize() for s in SYNDROMES[1:])}
    assert any("Facet joint pain: 4 complete cases" in (a.text or "") for a in fig.layout.annotations)


def test_flow_shows_every_centre_and_exclusions(inputs):
    texts = " ".join(a.text or "" for a in figures.figure_flow(inputs["flow"]).layout.annotations)
    assert "Centre A" in texts and "Centre B" in texts and "All centres" in texts
    assert "excluded: 1" in texts and "n = –" in texts  # centre B sent no images


def test_shape_units_and_boxes_per_modic_type(inputs):
    assert figures_radiomics.shape_unit("T2_original_shape_MeshVolume") == "mm³"
    assert figures_radiomics.shape_unit("T2_original_shape_SurfaceVolumeRatio") == "mm⁻¹"
    assert figures_radiomics.shape_unit("T2_original_shape_Maximum2DDiameterSlice") == "mm"
    assert figures_radiomics.shape_unit("T2_original_shape_Sphericity") == ""
    fig = figures_radiomics.figure_shape_by_modic(inputs["features"], inputs["gradings"], inputs["shape_by_modic"])
    shape = pd.read_csv(inputs["shape_by_modic"])
    assert len(fig.data) == 3 * len(shape) and {t.name for t in fig.data} == {"I", "II", "III"}
    assert sum(len(t.y) for t in fig.data[:3]) == shape[["n_I", "n_II", "n_III"]].iloc[0].sum()
    titles = [a.text for a in fig.layout.annotations]
    assert all(f"{f}<br>KW P = {p:.2g}" in titles for f, p in zip(shape["feature"], shape["kw_p"]))
    assert "mm³" in {fig.layout[f"yaxis{i + 1 if i else ''}"].title.text for i in range(len(shape))}


def test_mwu_screen_one_panel_per_pair_with_the_share_below_005(inputs, tmp_path):
    screen = pd.read_csv(inputs["mwu_screen"])
    two = pd.concat([screen, screen.assign(group1="II", group2="III", p=screen["p"] * 10)])
    two.to_csv(tmp_path / "mwu.csv", index=False)
    fig = figures_radiomics.figure_mwu_screen(tmp_path / "mwu.csv")
    titles = [a.text for a in fig.layout.annotations if "vs" in (a.text or "")]
    assert titles == [f"Type I vs II: {(screen['p'] < 0.05).sum()} of {len(screen)} features P < 0.05",
                      f"Type II vs III: {(screen['p'] * 10 < 0.05).sum()} of {len(screen)} features P < 0.05"]
    assert {t.name for t in fig.data} == set(screen["sequence"]) and len(fig.data) == 2 * screen["sequence"].nunique()
    assert len(fig.layout.shapes) == 2  # the P = 0.05 line in each panel


def test_lasso_bars_are_the_nonzero_coefficients(inputs):
    lasso = pd.read_csv(inputs["lasso_features"])
    fig = figures_radiomics.figure_lasso_features(inputs["lasso_features"])
    assert sorted(fig.data[0].y) == sorted(lasso["feature"]) and list(fig.data[0].x) == sorted(lasso["coefficient"])
    assert f"Target: Modic type {lasso['target'].iloc[0]}" in [a.text for a in fig.layout.annotations]


def test_classifier_shows_both_validations(inputs):
    result = json.loads(inputs["classifier"].read_text())
    fig = figures_radiomics.figure_classifier(inputs["classifier"])
    heatmaps = [t for t in fig.data if t.type == "heatmap"]
    assert len(heatmaps) == 2 and all(f"{n}<br>" in str(h.text) for h, n in zip(heatmaps, [
        result[p]["confusion_matrix"]["matrix"][0][0] for p in ("nested", "paper")]))
    rocs = [t.name for t in fig.data if t.type == "scatter" and t.name and "AUC" in t.name]
    assert rocs == ["Type II, nested CV (AUC %.2f)" % result["nested"]["metrics"]["auc_macro"]["estimate"],
                    "Type II, paper's scheme (AUC %.2f)" % result["paper"]["metrics"]["auc_macro"]["estimate"]]
    metrics = [t for t in fig.data if t.type == "scatter" and t.mode == "markers+text"]
    assert [list(t.y) for t in metrics] == [[result[p]["metrics"][m]["estimate"] for m in
                                             ("accuracy", "balanced_accuracy", "auc_macro")] for p in ("nested", "paper")]


def test_correlations_heatmap_per_kind(inputs):
    table = pd.read_csv(inputs["correlations"])
    fig = figures_radiomics.figure_correlations(inputs["correlations"])
    spearman = table[table["method"] == "spearman"]
    assert [len(t.y) for t in fig.data] == [spearman.loc[spearman["kind"] == k, "feature"].nunique()
                                            for k in ("morphological", "selected")]
    assert list(fig.data[0].x) == ["ODI before", "Back NPRS before", "Age"]


def test_combat_titles_give_the_share_and_a_missing_stage_says_why(inputs, tmp_path):
    table = pd.read_csv(inputs["combat_diagnostic"])
    share = table[table["kind"] == "summary"].set_index("stage")["share_significant"]
    titles = " ".join(a.text for a in figures_radiomics.figure_combat(inputs["combat_diagnostic"]).layout.annotations)
    assert f"Before ComBat: {share['before']:.0%}" in titles
    if "after" in share:
        assert f"After ComBat: {share['after']:.0%}" in titles
    rows = pd.read_parquet(inputs["features"])
    harmonisation.diagnostic({"before": rows}, {}, "ComBat disabled in the configuration").to_csv(
        tmp_path / "combat.csv", index=False)
    texts = [a.text for a in figures_radiomics.figure_combat(tmp_path / "combat.csv").layout.annotations]
    assert "ComBat disabled in the configuration" in texts


def test_template_uses_okabe_ito():
    assert pio.templates[style.TEMPLATE].layout.colorway[:4] == ("#0072B2", "#E69F00", "#009E73", "#D55E00")


def test_export_without_browser_writes_html_and_says_why_once(inputs, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-browser"))
    monkeypatch.setattr(figure_export, "_warned", False)
    fig = figures.figure_flow(inputs["flow"])
    with caplog.at_level(logging.WARNING, logger="spinestudy.report.export"):
        for i in range(2):
            assert not figure_export.export(fig, tmp_path / f"f{i}.html", tmp_path / f"f{i}.png", tmp_path / f"f{i}.svg")
    assert (tmp_path / "f0.html").is_file() and not (tmp_path / "f0.png").exists()
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1 and "apt-get install -y chromium" in messages[0] and "no-browser" in messages[0]
    assert "BROWSER_PATH" in figure_export.static_unavailable()


def test_static_export_png_and_svg(inputs, tmp_path, chromium):
    fig = figures.figure_prevalence(inputs["prevalence"])
    assert figure_export.export(fig, tmp_path / "p.html", tmp_path / "p.png", tmp_path / "p.svg")
    png = (tmp_path / "p.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(png[16:20], "big")
    assert width == style.WIDTH * style.SCALE
    assert "<svg" in (tmp_path / "p.svg").read_text()[:500]


def test_figure_2_and_its_table_say_who_is_outside_the_age_bands(tmp_path):
    analysis, long, _ = cohort(60, seed=2)
    analysis.loc[analysis.index[:1], ["age", "age_decade"]] = [93.0, None]
    prevalence.table(analysis, long, {}, study.load("rudds")).to_csv(tmp_path / "p.csv", index=False)
    said = "Left out: 1 patient(s) (5 graded discs) aged outside 10-89 years (no age decade)"
    assert said in [a.text for a in figures.figure_prevalence(tmp_path / "p.csv").layout.annotations]
    assert mt.prevalence(tmp_path / "p.csv", {}).footnote.endswith(said + ".")
