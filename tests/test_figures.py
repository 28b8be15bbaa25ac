"""Figures: every figure from small synthetic inputs in the documented formats, empty and not-estimable
inputs, deterministic HTML, static export with and without a browser."""

import json
import logging
import os
import shutil
import subprocess

import numpy as np
import pandas as pd
import plotly.io as pio
import pytest

from spinestudy import figure_export, figures, figures_radiomics, report, style
from spinestudy.anatomy import LEVELS, SYNDROMES
from spinestudy.schemas import AGE_DECADES


CI = os.environ.get("CI", "").lower() in ("true", "1")


def find_chromium() -> str | None:
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium. In CI it is installed here when missing (apt-get, as root) and its absence fails
    the test; elsewhere the test is skipped."""
    path = find_chromium()
    if path is None and CI and os.geteuid() == 0:
        env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env)
        path = find_chromium()
    if path is None:
        message = "Chromium not installed: apt-get install -y chromium (as root)"
        pytest.fail(message) if CI else pytest.skip(message)
    return path


def synthetic_inputs(root) -> dict:
    """Small inputs in every documented format (clinical stats and radiomics statistics)."""
    rng = np.random.default_rng(3)
    root.mkdir(parents=True, exist_ok=True)
    paths = {}

    def csv(name, frame):
        paths[name] = root / f"{name}.csv"
        frame.to_csv(paths[name], index=False)

    csv("flow", pd.DataFrame({"centre": ["A", "B", "all"], "received": [12, 10, 22], "valid_clinical": [11, 10, 21],
                              "valid_mri": [11, 9, 20], "with_images": [11, pd.NA, 11], "analysed": [11, 9, 20],
                              "questionnaires_before": [8, 6, 14], "questionnaires_after": [5, 4, 9]}))
    grid = pd.MultiIndex.from_product([list(figures.PREVALENCE_PANELS), AGE_DECADES, LEVELS],
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
    shape = ["Elongation", "Sphericity", "MeshVolume", "MajorAxisLength"]
    csv("shape_by_modic", pd.DataFrame({"feature": [f"T2_original_shape_{f}" for f in shape],
                                        **{f"{s}_{t}": rng.uniform(0.1, 2, 4) for t in ("I", "II", "III")
                                           for s in ("mean", "sd")}, "p": [1e-5, 0.02, 0.3, 0.7]}))
    features = pd.DataFrame({"centre": "A", "patient": [f"p{i:012x}" for i in range(12)],
                             "label": np.tile([21, 35, 13], 4), "structure": "x"})
    for f in shape:
        features[f"T2_original_shape_{f}"] = rng.uniform(1, 5, len(features))
    paths["features"] = root / "features.parquet"
    features.to_parquet(paths["features"])
    gradings = pd.DataFrame([dict(centre="A", patient=p, level=level, modic_upper=int(rng.integers(0, 4)),
                                  modic_lower=int(rng.integers(0, 4))) for p in features["patient"].unique()
                             for level in LEVELS])
    paths["gradings"] = root / "gradings_long.parquet"
    gradings.to_parquet(paths["gradings"])
    names = [f"{s}_{t}_glcm_F{i}" for s in ("T1", "T2", "STIR") for t in ("original", "wavelet-LLH", "log") for i in range(5)]
    csv("mwu_screen", pd.DataFrame({"feature": names, "sequence": [n.split("_")[0] for n in names],
                                    "image_type": [n.split("_")[1] for n in names], "p": rng.uniform(1e-6, 1, len(names))}))
    csv("lasso_features", pd.DataFrame({"feature": names[:8], "coefficient": [0.4, -0.2, 0, 0.1, -0.05, 0.3, 0, 0.02]}))
    csv("correlations", pd.DataFrame([dict(feature=f, variable=v, rho=rng.uniform(-0.8, 0.8), p=0.01,
                                           p_adjusted=rng.uniform(0, 0.1)) for f in names[:6] for v in ("ODI", "VAS", "age")]))
    csv("combat_diagnostic", pd.DataFrame({"stage": np.repeat(["before", "after"], 20), "centre": np.tile(["A", "B"], 20),
                                           "pc1": rng.normal(size=40), "pc2": rng.normal(size=40)}))
    csv("icc", pd.DataFrame({"feature": names[:3], "icc": [0.91, 0.75, 0.4], "ci_low": [0.8, 0.6, 0.2],
                             "ci_high": [0.95, 0.85, 0.6]}))
    csv("dunn", pd.DataFrame({"feature": ["Elongation"] * 3, "group1": ["I", "I", "II"], "group2": ["II", "III", "III"],
                              "p": [7.9e-5, 0.43, 0.18]}))
    classes = ["I", "II", "III"]
    paths["classifier"] = root / "classifier.json"
    paths["classifier"].write_text(json.dumps({
        "classes": classes, "confusion_matrix": [[8, 1, 0], [1, 12, 2], [0, 1, 9]],
        "roc": {c: {"fpr": [0, 0.1, 0.3, 1], "tpr": [0, 0.6, 0.9, 1], "auc": 0.88} for c in classes},
        "accuracy": 0.85, "accuracy_ci": [0.74, 0.93], "balanced_accuracy": 0.84, "balanced_accuracy_ci": [0.72, 0.92],
        "macro_auc": 0.9, "macro_auc_ci": [0.82, 0.96], "accuracy_paper": 0.98, "accuracy_nested": 0.85}))
    return paths


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
    assert b"<script src=" not in first.read_bytes()  # plotly.js inlined: opens offline


@pytest.mark.parametrize("name", list(report.FIGURES))
def test_every_figure_survives_empty_inputs(name, inputs, tmp_path):
    empty = {k: tmp_path / p.name for k, p in inputs.items()}  # files that do not exist
    for path in empty.values():
        path.write_text("") if path.suffix != ".json" else path.write_text(json.dumps(
            {"estimable": False, "note": "not estimable: 3 lesions"}))
    fig = report.figure(name, empty)
    notes = [a.text for a in fig.layout.annotations]
    assert any(t and ("no " in t or "not estimable" in t) for t in notes), notes


def test_forest_lists_groups_that_were_not_estimable(inputs):
    fig = figures.figure_forest(inputs["lasso"])
    assert {t.name for t in fig.data if t.name} == {"Total", *(s.capitalize() for s in SYNDROMES[1:])}
    assert any("Facet joint pain: 4 complete cases" in (a.text or "") for a in fig.layout.annotations)


def test_flow_shows_every_centre_and_exclusions(inputs):
    texts = " ".join(a.text or "" for a in figures.figure_flow(inputs["flow"]).layout.annotations)
    assert "Centre A" in texts and "Centre B" in texts and "All centres" in texts
    assert "excluded: 1" in texts and "n = –" in texts  # centre B sent no images


def test_shape_units_and_modic_lesions(inputs):
    assert figures_radiomics.shape_unit("T2_original_shape_MeshVolume") == "mm³"
    assert figures_radiomics.shape_unit("T2_original_shape_SurfaceVolumeRatio") == "mm⁻¹"
    assert figures_radiomics.shape_unit("T2_original_shape_Maximum2DDiameterSlice") == "mm"
    assert figures_radiomics.shape_unit("T2_original_shape_Sphericity") == ""
    lesions = figures_radiomics.modic_lesions(inputs["features"], inputs["gradings"])
    assert set(lesions["type"]) <= {"I", "II", "III"} and len(lesions) > 0  # disc label 13 left out


def test_template_uses_okabe_ito():
    assert pio.templates[style.TEMPLATE].layout.colorway[:4] == ("#0072B2", "#E69F00", "#009E73", "#D55E00")


def test_export_without_browser_writes_html_and_says_why_once(inputs, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-browser"))
    monkeypatch.setattr(figure_export, "_warned", False)
    fig = figures.figure_flow(inputs["flow"])
    with caplog.at_level(logging.WARNING, logger="spinestudy.figure_export"):
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
