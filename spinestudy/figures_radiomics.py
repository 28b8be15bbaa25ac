"""Figures of the Modic radiomics study (Guo et al. 2025): shape features by Modic type, the Mann-Whitney
screen (their Figure 1), LASSO feature coefficients (Figure 2), the classifier's confusion matrix and ROC
curves, the feature-pain correlation heatmap and the ComBat diagnostic.

Input formats (results/radiomics_stats/):
  shape_by_modic.csv  feature, mean_I, sd_I, mean_II, sd_II, mean_III, sd_III, p (Kruskal-Wallis)
  mwu_screen.csv      feature, sequence, image_type, p
  lasso_features.csv  feature, coefficient
  classifier.json     classes, confusion_matrix (rows true, columns predicted), roc {class: {fpr, tpr, auc}},
                      accuracy, balanced_accuracy, macro_auc (each with <name>_ci [low, high]),
                      accuracy_paper, accuracy_nested; estimable: false and note when no model was fitted
  correlations.csv    feature, variable, rho, p, p_adjusted
  combat_diagnostic.csv  stage (before | after), centre, pc1, pc2
Any of them empty, missing or marked not estimable gives a figure saying so."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from spinestudy import style
from spinestudy.anatomy import LEVELS
from spinestudy.figures import finish, read

MODIC_TYPES = {1: "I", 2: "II", 3: "III"}
SHAPE_UNITS = {"AxisLength": "mm", "Diameter": "mm", "SurfaceArea": "mm²", "Volume": "mm³",
               "SurfaceVolumeRatio": "mm⁻¹"}
SIGNIFICANCE = 0.05


def shape_unit(feature: str) -> str:
    """Unit of a PyRadiomics shape feature (lengths mm, area mm², volume mm³; ratios have none)."""
    name = feature.rsplit("_", 1)[-1]
    return next((u for key, u in sorted(SHAPE_UNITS.items(), key=lambda kv: -len(kv[0])) if key in name), "")


def modic_lesions(features: str | Path, gradings: str | Path, sequence: str = "T2") -> pd.DataFrame:
    """Shape features of every Modic lesion ROI with the lesion's graded Modic type (I/II/III): label
    20+i is the upper endplate of level i, 30+i the lower (spinestudy.anatomy)."""
    table, grades = read(features), read(gradings)
    if table.empty or grades.empty:
        return pd.DataFrame()
    label = pd.to_numeric(table["label"], errors="coerce")
    table = table.assign(level=[LEVELS[int(v) % 10 - 1] if v // 10 in (2, 3) else None for v in label.fillna(0)],
                         endplate=np.where(label // 10 == 2, "upper", "lower"))
    grades = grades.melt(id_vars=["centre", "patient", "level"], value_vars=["modic_upper", "modic_lower"],
                         var_name="endplate", value_name="modic")
    grades["endplate"] = grades["endplate"].str.removeprefix("modic_")
    lesions = table.dropna(subset=["level"]).merge(grades, on=["centre", "patient", "level", "endplate"])
    lesions["type"] = lesions["modic"].map(MODIC_TYPES)
    shape = [c for c in lesions if c.startswith(f"{sequence}_original_shape_")]
    return lesions.dropna(subset=["type"])[["type", *shape]].rename(columns=lambda c: c.rsplit("_", 1)[-1])


def figure_shape_by_modic(features: str | Path, gradings: str | Path, shape_by_modic: str | Path | None = None,
                          out_html: str | Path | None = None, sequence: str = "T2") -> go.Figure:
    """Box plots of each shape feature by Modic type (one panel per feature, KW p in the panel title)."""
    lesions = modic_lesions(features, gradings, sequence)
    names = [c for c in lesions if c != "type"]
    p = read(shape_by_modic)
    kw = dict(zip(p["feature"].str.rsplit("_", n=1).str[-1], p["p"])) if {"feature", "p"} <= set(p) else {}
    cols = 4
    rows = max(1, -(-len(names) // cols))
    titles = [f"{n}<br><sup>KW P = {kw[n]:.3g}</sup>" if n in kw else n for n in names]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles or None, vertical_spacing=0.09,
                        horizontal_spacing=0.08)
    style.apply(fig, f"Shape features of Modic changes by type ({sequence})", height=max(420, 260 * rows))
    if not names:
        return finish(style.message(fig, "no Modic lesion with shape features"), out_html)
    for i, name in enumerate(names):
        for modic in MODIC_TYPES.values():
            values = lesions.loc[lesions["type"] == modic, name]
            fig.add_trace(go.Box(y=values, name=modic, marker_color=style.MODIC_COLOURS[modic], boxpoints="all",
                                 jitter=0.4, pointpos=0, marker_size=4, line_width=1.5, showlegend=False),
                          row=i // cols + 1, col=i % cols + 1)
        unit = shape_unit(name)
        fig.update_yaxes(title_text=unit, title_font_size=style.FONT_SIZE - 3, row=i // cols + 1, col=i % cols + 1)
    fig.update_annotations(font_size=style.FONT_SIZE - 2)
    fig.update_xaxes(title_text="Modic type", title_font_size=style.FONT_SIZE - 3, row=rows)
    return finish(fig, out_html)


def figure_mwu_screen(mwu_screen: str | Path, out_html: str | Path | None = None) -> go.Figure:
    """Mann-Whitney U screen: -log10 P of every feature by image type and sequence, P = 0.05 line."""
    table = read(mwu_screen)
    fig = style.apply(go.Figure(), "Mann-Whitney U screen of the radiomics features")
    if table.empty or "p" not in table:
        return finish(style.message(fig, "no Mann-Whitney screen results"), out_html)
    table = table.dropna(subset=["p"]).sort_values(["image_type", "sequence", "feature"], kind="stable")
    types = sorted(table["image_type"].unique())
    rng = np.random.default_rng(0)  # fixed jitter: identical figures between runs
    for i, (sequence, part) in enumerate(table.groupby("sequence", sort=True)):
        x = part["image_type"].map(types.index) + (i - 1) * 0.25 + rng.uniform(-0.1, 0.1, len(part))
        fig.add_trace(go.Scattergl(x=x, y=-np.log10(part["p"].clip(lower=1e-300)), mode="markers", name=sequence,
                                   marker=dict(size=5, opacity=0.6, color=style.PALETTE[i % len(style.PALETTE)]),
                                   text=part["feature"], hovertemplate="%{text}: P = %{customdata:.3g}<extra></extra>",
                                   customdata=part["p"]))
    fig.add_hline(y=-np.log10(SIGNIFICANCE), line=dict(color=style.VERMILLION, dash="dash", width=2),
                  annotation_text="P = 0.05", annotation_position="top right")
    fig.update_xaxes(tickvals=list(range(len(types))), ticktext=types, title_text="Image type (filter)")
    fig.update_yaxes(title_text="−log<sub>10</sub> P (Mann-Whitney U)", rangemode="tozero")
    fig.update_layout(legend_title_text="Sequence")
    return finish(fig, out_html)


def figure_lasso_features(lasso_features: str | Path, out_html: str | Path | None = None) -> go.Figure:
    """Non-zero LASSO coefficients of the selected radiomics features, sorted (standardised features)."""
    table = read(lasso_features)
    table = table[table["coefficient"].fillna(0) != 0].sort_values("coefficient") if "coefficient" in table else table
    fig = style.apply(go.Figure(), "Radiomics features selected by LASSO", height=max(420, 140 + 26 * len(table)))
    if table.empty:
        return finish(style.message(fig, "no feature with a non-zero LASSO coefficient"), out_html)
    fig.add_trace(go.Bar(x=table["coefficient"], y=table["feature"], orientation="h",
                         marker_color=np.where(table["coefficient"] > 0, style.VERMILLION, style.BLUE)))
    fig.update_xaxes(title_text="LASSO coefficient (per SD of the feature)", zeroline=True, zerolinecolor=style.BLACK)
    fig.update_yaxes(tickfont_size=style.FONT_SIZE - 4)
    return finish(fig, out_html)


def figure_classifier(classifier: str | Path, out_html: str | Path | None = None) -> go.Figure:
    """Confusion matrix (counts) and one-vs-rest ROC curves of the Modic type classifier."""
    result = json.loads(Path(classifier).read_text()) if classifier and Path(classifier).is_file() else {}
    fig = make_subplots(rows=1, cols=2, subplot_titles=["Confusion matrix", "ROC, one class vs rest"],
                        horizontal_spacing=0.16)
    style.apply(fig, "Modic type classifier", height=560)
    if not result.get("confusion_matrix") or result.get("estimable") is False:
        return finish(style.message(fig, result.get("note") or "no classifier results"), out_html)
    classes = [str(c) for c in result.get("classes", range(len(result["confusion_matrix"])))]
    matrix = np.asarray(result["confusion_matrix"])
    fig.add_trace(go.Heatmap(z=matrix, x=classes, y=classes, colorscale=style.SEQUENTIAL, showscale=False,
                             text=matrix, texttemplate="%{text}", textfont_size=style.FONT_SIZE + 2), row=1, col=1)
    fig.update_xaxes(title_text="Predicted Modic type", type="category", row=1, col=1)
    fig.update_yaxes(title_text="True Modic type", type="category", autorange="reversed", row=1, col=1)
    for i, (name, curve) in enumerate(result.get("roc", {}).items()):
        fig.add_trace(go.Scatter(x=curve["fpr"], y=curve["tpr"], mode="lines", line_shape="hv",
                                 name=f"{name} (AUC {curve.get('auc', float('nan')):.2f})",
                                 line=dict(color=style.MODIC_COLOURS.get(name, style.PALETTE[i]), width=2.5)),
                      row=1, col=2)
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(color=style.GREY, dash="dot"),
                             showlegend=False, hoverinfo="skip"), row=1, col=2)
    fig.update_xaxes(title_text="1 − specificity", range=[0, 1], row=1, col=2)
    fig.update_yaxes(title_text="Sensitivity", range=[0, 1.02], row=1, col=2)
    fig.update_layout(legend=dict(x=0.98, xanchor="right", y=0.05, yanchor="bottom"),
                      title_text=f"Modic type classifier: {_summary(result)}", title_font_size=style.FONT_SIZE + 1)
    return finish(fig, out_html)


def _summary(result: dict) -> str:
    parts = []
    for key, name in (("accuracy", "accuracy"), ("balanced_accuracy", "balanced accuracy"), ("macro_auc", "macro AUC")):
        if isinstance(result.get(key), (int, float)):
            ci = result.get(f"{key}_ci")
            parts.append(f"{name} {result[key]:.2f}" + (f" [{ci[0]:.2f}; {ci[1]:.2f}]" if ci else ""))
    if isinstance(result.get("accuracy_nested"), (int, float)) and isinstance(result.get("accuracy_paper"), (int, float)):
        parts.append(f"<br>accuracy nested CV {result['accuracy_nested']:.2f} vs paper's scheme "
                     f"{result['accuracy_paper']:.2f}")
    return ", ".join(parts)


def figure_correlations(correlations: str | Path, out_html: str | Path | None = None,
                        alpha: float = SIGNIFICANCE) -> go.Figure:
    """Spearman rho of each feature (rows) with each clinical variable (columns); * adjusted P < alpha."""
    table = read(correlations)
    height = max(480, 160 + 24 * (table["feature"].nunique() if "feature" in table else 0))
    fig = style.apply(go.Figure(), "Correlations of radiomics features with pain and disability", height=height)
    if table.empty or table["rho"].notna().sum() == 0:
        return finish(style.message(fig, "no correlations estimable"), out_html)
    rho = table.pivot(index="feature", columns="variable", values="rho")
    star = table.assign(star=np.where(table["p_adjusted"] < alpha, "*", "")).pivot(
        index="feature", columns="variable", values="star").reindex_like(rho).fillna("")
    fig.add_trace(go.Heatmap(z=rho.to_numpy(), x=list(rho.columns), y=list(rho.index), zmin=-1, zmax=1,
                             colorscale=style.DIVERGING, text=star.to_numpy(), texttemplate="%{text}",
                             textfont_size=style.FONT_SIZE + 4, colorbar=dict(title="Spearman ρ")))
    fig.update_yaxes(tickfont_size=style.FONT_SIZE - 4, autorange="reversed")
    fig.update_xaxes(title_text="Clinical variable", side="bottom")
    fig.add_annotation(text=f"* adjusted P < {alpha}", xref="paper", yref="paper", x=1, y=1.02, showarrow=False,
                       xanchor="right", yanchor="bottom", font_size=style.FONT_SIZE - 3)
    return finish(fig, out_html)


def figure_combat(combat_diagnostic: str | Path, out_html: str | Path | None = None) -> go.Figure:
    """First two principal components of the features by centre, before and after ComBat harmonisation."""
    table = read(combat_diagnostic)
    fig = make_subplots(rows=1, cols=2, subplot_titles=["Before ComBat", "After ComBat"], horizontal_spacing=0.1)
    style.apply(fig, "Centre effects before and after ComBat harmonisation", height=540)
    if table.empty or not {"stage", "centre", "pc1", "pc2"} <= set(table):
        return finish(style.message(fig, "no ComBat diagnostic (harmonisation not run)"), out_html)
    centres = sorted(table["centre"].astype(str).unique())
    for col, stage in enumerate(("before", "after"), start=1):
        for i, centre in enumerate(centres):
            part = table[(table["stage"] == stage) & (table["centre"].astype(str) == centre)]
            fig.add_trace(go.Scatter(x=part["pc1"], y=part["pc2"], mode="markers", name=f"Centre {centre}",
                                     legendgroup=centre, showlegend=col == 1,
                                     marker=dict(color=style.PALETTE[i % len(style.PALETTE)], size=8, opacity=0.75,
                                                 symbol=["circle", "square", "diamond", "triangle-up"][i % 4])),
                          row=1, col=col)
        fig.update_xaxes(title_text="PC 1, standardised units", row=1, col=col)
        fig.update_yaxes(title_text="PC 2, standardised units", row=1, col=col)
    return finish(fig, out_html)
