"""Figures of the Modic radiomics study (Guo et al. 2025): shape features by Modic type, the Mann-Whitney
screen (their Figure 1), LASSO feature coefficients (Figure 2), the classifier under both validations, the
feature-outcome correlation heatmap and the ComBat diagnostic.

Inputs are the files of results/radiomics_stats/ as their writers document them: shape_by_modic.csv
(spinestudy.radiomics_stats.shape), mwu_screen.csv (feature_screen), lasso_features.csv and classifier.json
(modic_classifier), correlations.csv (feature_correlations), combat_diagnostic.csv (harmonisation). An
empty or missing input, an input that is not applicable (its note, spinestudy.applicable) or a classifier that
was not estimable gives a figure saying so."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from spinestudy import applicable
from spinestudy.radiomics_stats import shape as modic_shape
from spinestudy.report import style
from spinestudy.report.figures import axis_ref, finish, read

SHAPE_UNITS = {"AxisLength": "mm", "Diameter": "mm", "SurfaceArea": "mm²", "Volume": "mm³",
               "SurfaceVolumeRatio": "mm⁻¹"}
SIGNIFICANCE = 0.05
OUTCOME_LABELS = {"odi_before": "ODI before", "nprs_back_before": "Back NPRS before", "age": "Age"}
PROTOCOLS = {"nested": "nested CV", "paper": "paper's scheme"}
METRIC_LABELS = {"accuracy": "Accuracy", "balanced_accuracy": "Balanced<br>accuracy", "auc_macro": "Macro AUC"}


def shape_unit(feature: str) -> str:
    """Unit of a PyRadiomics shape feature (lengths mm, area mm², volume mm³; ratios have none)."""
    name = feature.rsplit("_", 1)[-1]
    return next((u for key, u in sorted(SHAPE_UNITS.items(), key=lambda kv: -len(kv[0])) if key in name), "")


def figure_shape_by_modic(features: str | Path, gradings: str | Path, shape_by_modic: str | Path | None = None,
                          out_html: str | Path | None = None) -> go.Figure:
    """Box plots of each shape feature of shape_by_modic.csv by graded Modic type (lesions joined to their
    grading as modic_shape does), one panel per feature with the Kruskal-Wallis P in its title."""
    table, grades, shape = read(features), read(gradings), read(shape_by_modic)
    lesions = modic_shape.lesions(table, grades)[0] if not (table.empty or grades.empty) else pd.DataFrame()
    columns = list(shape["column"]) if "column" in shape else modic_shape.shape_columns(table, modic_shape.DEFAULTS)
    columns = [c for c in columns if c in lesions]
    kw = dict(zip(shape["column"], shape["kw_p"])) if {"column", "kw_p"} <= set(shape) else {}
    cols = 4
    rows = max(1, -(-len(columns) // cols))
    titles = [c.split("_shape_")[-1] + (f"<br>KW P = {kw[c]:.2g}" if pd.notna(kw.get(c)) else "")
              for c in columns]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles or None, vertical_spacing=0.3 / rows,
                        horizontal_spacing=0.08)
    if not columns or lesions.empty:
        style.apply(fig, "Shape of Modic changes by type", height=420)
        return finish(style.message(fig, applicable.note(shape) or "no Modic lesion with shape features"), out_html)
    counts = lesions["modic"].map(modic_shape.ROMAN).value_counts()
    types = [t for t in modic_shape.ROMAN.values() if t in counts]
    style.apply(fig, f"Shape of Modic changes by type ({columns[0].split('_')[0]} lesion ROI; lesions "
                f"{', '.join(f'{t}: {counts[t]}' for t in types)})", height=80 + 260 * rows)
    for i, column in enumerate(columns):
        row, col = i // cols + 1, i % cols + 1
        for modic in types:
            values = lesions.loc[lesions["modic"].map(modic_shape.ROMAN) == modic, column]
            fig.add_trace(go.Box(y=values, name=modic, marker_color=style.MODIC_COLOURS[modic], boxpoints="all",
                                 jitter=0.4, pointpos=0, marker_size=3, line_width=1.5, showlegend=False),
                          row=row, col=col)
        unit = shape_unit(column)
        fig.update_yaxes(title_text=unit or "ratio", title_font_size=style.FONT_SIZE - 3,
                         tickfont_size=style.FONT_SIZE - 4, row=row, col=col)
    fig.update_annotations(font_size=style.FONT_SIZE - 3)
    fig.update_xaxes(tickfont_size=style.FONT_SIZE - 3)
    fig.update_xaxes(title_text="Modic type", title_font_size=style.FONT_SIZE - 3, row=rows)
    return finish(fig, out_html)


def figure_mwu_screen(mwu_screen: str | Path, out_html: str | Path | None = None) -> go.Figure:
    """Mann-Whitney U screen (paper Figure 1): -log10 P of every feature by image type, coloured by sequence,
    one panel per compared pair of Modic types, P = 0.05 line; the count below 0.05 in each panel title."""
    table = read(mwu_screen)
    note = applicable.note(table)
    table = table.dropna(subset=["p"]) if "p" in table else pd.DataFrame()
    pairs = list(table.groupby(["group1", "group2"], sort=True).groups) if len(table) else []
    titles = [f"Type {a} vs {b}: {(part['p'] < SIGNIFICANCE).sum()} of {len(part)} features P < {SIGNIFICANCE}"
              for (a, b), part in table.groupby(["group1", "group2"], sort=True)] if pairs else None
    fig = make_subplots(rows=max(1, len(pairs)), cols=1, subplot_titles=titles, vertical_spacing=0.12)
    style.apply(fig, "Mann-Whitney U screen of the radiomics features", height=max(640, 520 * len(pairs)))
    if not pairs:
        return finish(style.message(fig, note or "no Mann-Whitney screen results"), out_html)
    types = sorted(table["image_type"].unique(), key=lambda t: (t != "original", t))
    sequences = list(dict.fromkeys(s for s in ("T1", "T2", "STIR") if s in set(table["sequence"]))) + sorted(
        set(table["sequence"]) - {"T1", "T2", "STIR"})
    rng = np.random.default_rng(0)  # fixed jitter: identical figures between runs
    for row, pair in enumerate(pairs, start=1):
        part = table[(table["group1"] == pair[0]) & (table["group2"] == pair[1])]
        for i, sequence in enumerate(sequences):
            data = part[part["sequence"] == sequence]
            x = data["image_type"].map(types.index) + (i - (len(sequences) - 1) / 2) * 0.25 \
                + rng.uniform(-0.08, 0.08, len(data))
            fig.add_trace(go.Scattergl(
                x=x, y=-np.log10(data["p"].clip(lower=1e-300)), mode="markers", name=sequence, legendgroup=sequence,
                showlegend=row == 1, marker=dict(size=4, opacity=0.55, color=style.PALETTE[i % len(style.PALETTE)]),
                text=data["feature"], customdata=data["p"], hovertemplate="%{text}: P = %{customdata:.3g}<extra></extra>"),
                row=row, col=1)
        fig.add_hline(y=-np.log10(SIGNIFICANCE), line=dict(color=style.VERMILLION, dash="dash", width=2), row=row, col=1)
        fig.add_annotation(text="P = 0.05", x=1, xref=f"{axis_ref('x', row)} domain", xanchor="left",
                           y=-np.log10(SIGNIFICANCE), yref=axis_ref("y", row), showarrow=False,
                           font=dict(color=style.VERMILLION, size=style.FONT_SIZE - 2))
        fig.update_yaxes(title_text="−log<sub>10</sub> P (Mann-Whitney U)", rangemode="tozero", row=row, col=1)
    fig.update_xaxes(tickvals=list(range(len(types))), ticktext=types, tickangle=-45, range=[-0.6, len(types) - 0.4],
                     tickfont_size=style.FONT_SIZE - 3)
    fig.update_xaxes(title_text="Image type (filter)", row=len(pairs), col=1)
    fig.update_layout(legend=dict(title_text="Sequence", x=1.01, y=1, yanchor="top", itemsizing="constant"),
                      margin_r=110)
    return finish(fig, out_html)


def figure_lasso_features(lasso_features: str | Path, out_html: str | Path | None = None) -> go.Figure:
    """LASSO coefficients of the selected features (paper Figure 2), per standardised feature, sorted; one
    panel per target class (two classes: the coefficient of the second type's indicator)."""
    table = read(lasso_features)
    note = applicable.note(table)
    table = table[table["coefficient"].fillna(0) != 0] if "coefficient" in table else pd.DataFrame()
    targets = sorted(table["target"].astype(str).unique()) if len(table) else []
    longest = table.groupby("target").size().max() if len(table) else 0
    fig = make_subplots(rows=1, cols=max(1, len(targets)), horizontal_spacing=0.35 if len(targets) > 1 else 0.1,
                        subplot_titles=[f"Target: Modic type {t}" for t in targets] or None)
    alpha = f" (α = {table['alpha'].iloc[0]:.3g})" if "alpha" in table and len(table) else ""
    style.apply(fig, f"Radiomics features selected by LASSO{alpha}", height=max(420, 160 + 19 * longest))
    if table.empty:
        return finish(style.message(fig, note or "no feature with a non-zero LASSO coefficient"), out_html)
    for col, target in enumerate(targets, start=1):
        part = table[table["target"].astype(str) == target].sort_values("coefficient")
        fig.add_trace(go.Bar(x=part["coefficient"], y=part["feature"], orientation="h", showlegend=False,
                             marker_color=np.where(part["coefficient"] > 0, style.VERMILLION, style.BLUE),
                             hovertemplate="%{y}: %{x:.3g}<extra></extra>"), row=1, col=col)
        fig.update_xaxes(title_text=f"Coefficient per SD of the feature<br>(> 0: towards type {target})",
                         zeroline=True, zerolinecolor=style.BLACK, row=1, col=col)
    fig.update_yaxes(tickfont_size=style.FONT_SIZE - 4, dtick=1)
    fig.update_layout(margin_t=90, bargap=0.25, title_xref="container", title_x=0.01)
    return finish(fig, out_html)


def figure_classifier(classifier: str | Path, out_html: str | Path | None = None) -> go.Figure:
    """The Modic type classifier under nested cross-validation and under the paper's scheme (selection on all
    lesions): confusion matrix of each, ROC curves (one type vs the rest; two types: the second) and the
    metrics with their patient-bootstrap intervals side by side."""
    result = json.loads(Path(classifier).read_text()) if classifier and Path(classifier).is_file() else {}
    fig = make_subplots(rows=2, cols=2, vertical_spacing=0.2, horizontal_spacing=0.16, subplot_titles=[
        f"Confusion matrix, {PROTOCOLS['nested']}", f"Confusion matrix, {PROTOCOLS['paper']}", "ROC",
        "Performance with 95% CI"])
    counts = ", ".join(f"{k}: {v}" for k, v in result.get("class_counts", {}).items())
    style.apply(fig, "Modic type classifier" + (f" (lesions {counts}; {result['n_patients']} patients)"
                                                if counts and "n_patients" in result else ""), height=980)
    if not all(isinstance(result.get(p), dict) for p in PROTOCOLS):
        notes = [n for n in result.get("notes", []) if n] or [result.get("note") or "no classifier results"]
        return finish(style.message(fig, "<br>".join(notes)), out_html)
    for col, protocol in enumerate(PROTOCOLS, start=1):
        cm = result[protocol]["confusion_matrix"]
        matrix = np.asarray(cm["matrix"])
        share = matrix / matrix.sum(axis=1, keepdims=True).clip(min=1)
        fig.add_trace(go.Heatmap(z=share, x=cm["labels"], y=cm["labels"], zmin=0, zmax=1, colorscale=style.SEQUENTIAL,
                                 showscale=col == 2, colorbar=dict(title=dict(text="Share of true type", side="right"),
                                                                   len=0.4, y=1, yanchor="top", tickformat=".0%"),
                                 text=[[f"{n}<br>({s:.0%})" for n, s in zip(*r)] for r in zip(matrix, share)],
                                 texttemplate="%{text}", textfont_size=style.FONT_SIZE + 2,
                                 hovertemplate="true %{y}, predicted %{x}: %{text}<extra></extra>"), row=1, col=col)
        fig.update_xaxes(title_text="Predicted Modic type", type="category", row=1, col=col)
        fig.update_yaxes(title_text="True Modic type (lesions)", type="category", autorange="reversed", row=1, col=col)
    classes = result["classes"][-1:] if len(result["classes"]) == 2 else result["classes"]
    for protocol, dash in (("nested", "solid"), ("paper", "dash")):
        for i, name in enumerate(classes):
            curve = result[protocol]["roc"][name]
            auc = np.trapezoid(curve["tpr"], curve["fpr"])
            fig.add_trace(go.Scatter(x=curve["fpr"], y=curve["tpr"], mode="lines", line_shape="hv",
                                     name=f"Type {name}, {PROTOCOLS[protocol]} (AUC {auc:.2f})",
                                     line=dict(color=style.MODIC_COLOURS.get(name, style.PALETTE[i]), width=2.5,
                                               dash=dash)), row=2, col=1)
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(color=style.GREY, dash="dot"),
                             showlegend=False, hoverinfo="skip"), row=2, col=1)
    fig.update_xaxes(title_text="1 − specificity", range=[-0.02, 1.02], row=2, col=1)
    fig.update_yaxes(title_text="Sensitivity", range=[-0.02, 1.04], row=2, col=1)
    for k, (protocol, name) in enumerate(PROTOCOLS.items()):
        metrics = result[protocol]["metrics"]
        shown = [m for m in METRIC_LABELS if (metrics.get(m) or {}).get("estimate") is not None]
        est, low, high = (np.array([np.nan if metrics[m][b] is None else metrics[m][b] for m in shown], float)
                          for b in ("estimate", "ci_low", "ci_high"))
        fig.add_trace(go.Scatter(
            x=[list(METRIC_LABELS).index(m) + (k - 0.5) * 0.3 for m in shown], y=est, mode="markers+text",
            name=name, showlegend=False, text=[f"{v:.2f}" for v in est], textposition="bottom center", textfont_size=style.FONT_SIZE - 3,
            marker=dict(size=12, color=[style.BLACK, style.GREY][k], symbol=["circle", "diamond"][k]),
            error_y=dict(type="data", symmetric=False, array=high - est, arrayminus=est - low, width=4),
            hovertemplate=f"{name}: %{{y:.3f}}<extra></extra>"), row=2, col=2)
    fig.update_xaxes(tickvals=list(range(len(METRIC_LABELS))), ticktext=list(METRIC_LABELS.values()),
                     range=[-0.6, len(METRIC_LABELS) - 0.4], tickangle=0, row=2, col=2)
    fig.update_yaxes(title_text="Estimate (0–1)", range=[0, 1.05], row=2, col=2)
    fig.add_annotation(text="● nested CV   ◆ paper's scheme", xref="x4 domain", yref="y4 domain", x=0.5, y=0.03,
                       showarrow=False, font_size=style.FONT_SIZE - 2)
    fig.update_layout(legend=dict(x=0.42, xanchor="right", y=0.02, yanchor="bottom", font_size=style.FONT_SIZE - 3,
                                  bgcolor="rgba(255,255,255,0.8)"), margin_b=90)
    notes = "; ".join(result.get("notes", []))
    if notes:
        fig.add_annotation(text=f"Note: {notes}", xref="paper", yref="paper", x=0, y=-0.1, showarrow=False,
                           xanchor="left", font=dict(size=style.FONT_SIZE - 4, color=style.GREY))
    return finish(fig, out_html)


def figure_correlations(correlations: str | Path, out_html: str | Path | None = None, method: str = "spearman",
                        alpha: float = SIGNIFICANCE) -> go.Figure:
    """Correlation coefficient of each feature (rows; morphological and LASSO-selected in separate panels)
    with each outcome (columns); * adjusted P < alpha."""
    table = read(correlations)
    note = applicable.note(table)
    table = table[table["method"] == method] if "method" in table else pd.DataFrame()
    kinds = [k for k in ("morphological", "selected") if len(table) and (table["kind"] == k).any()]
    sizes = [table.loc[table["kind"] == k, "feature"].nunique() for k in kinds]
    titles = [{"morphological": "Shape features", "selected": "LASSO-selected features"}[k] for k in kinds]
    fig = make_subplots(rows=max(1, len(kinds)), cols=1, shared_xaxes=True, vertical_spacing=0.04,
                        row_heights=sizes or None, subplot_titles=titles or None)
    style.apply(fig, f"Correlation of lesion features with outcomes ({method.capitalize()})",
                height=max(480, 240 + 18 * sum(sizes)))
    if table.empty or table["r"].notna().sum() == 0:
        return finish(style.message(fig, note or f"no {method} correlations estimable"), out_html)
    outcomes = list(dict.fromkeys(table["outcome"]))
    for row, kind in enumerate(kinds, start=1):
        part = table[table["kind"] == kind]
        r = part.pivot(index="feature", columns="outcome", values="r").reindex(columns=outcomes)
        star = part.assign(star=np.where(part["p_adjusted"] < alpha, "*", "")).pivot(
            index="feature", columns="outcome", values="star").reindex_like(r).fillna("")
        fig.add_trace(go.Heatmap(z=r.to_numpy(), x=[OUTCOME_LABELS.get(o, o) for o in outcomes], y=list(r.index),
                                 zmin=-1, zmax=1, colorscale=style.DIVERGING, text=star.to_numpy(),
                                 texttemplate="%{text}", textfont_size=style.FONT_SIZE, showscale=row == 1,
                                 colorbar=dict(title=f"{method.capitalize()} r", len=0.4, y=1, yanchor="top"),
                                 hovertemplate="%{y} – %{x}: r = %{z:.2f}<extra></extra>"), row=row, col=1)
        fig.update_yaxes(tickfont_size=style.FONT_SIZE - 4, autorange="reversed", dtick=1, row=row, col=1)
    p_adjust = table["p_adjust"].dropna().iloc[0] if "p_adjust" in table and table["p_adjust"].notna().any() else ""
    fig.update_xaxes(title_text=f"Outcome<br><span style='font-size:{style.FONT_SIZE - 2}px'>* adjusted P < {alpha} "
                     f"({p_adjust})</span>", row=len(kinds), col=1)
    fig.update_layout(title_xref="container", title_x=0.01)
    return finish(fig, out_html)


def figure_combat(combat_diagnostic: str | Path, out_html: str | Path | None = None) -> go.Figure:
    """First two principal components of the lesion features by centre, before and after ComBat, with the
    share of features differing by centre (Kruskal-Wallis) in each panel title."""
    table = read(combat_diagnostic)
    summary = table[table["kind"] == "summary"].set_index("stage") if "kind" in table else pd.DataFrame()

    def title(stage: str) -> str:
        if stage not in summary.index or pd.isna(summary.loc[stage, "share_significant"]):
            return f"{stage.capitalize()} ComBat"
        s = summary.loc[stage]
        return (f"{stage.capitalize()} ComBat: {s['share_significant']:.0%} of features differ by centre<br>"
                f"({int(s['n_significant'])} of {int(s['n_features'])}: Kruskal-Wallis test across centres)")

    fig = make_subplots(rows=1, cols=2, subplot_titles=[title("before"), title("after")], horizontal_spacing=0.12)
    style.apply(fig, "Centre effects before and after ComBat harmonisation", height=580)
    if table.empty or not (table.get("kind") == "pca").any():
        message = applicable.note(table) or "no ComBat diagnostic (harmonisation not run)"
        return finish(style.message(fig, message), out_html)
    points = table[table["kind"] == "pca"]
    centres = sorted(points["centre"].astype(str).unique())
    for col, stage in enumerate(("before", "after"), start=1):
        part = points[points["stage"] == stage]
        if part.empty:
            note = summary["note"].dropna().iloc[0] if "note" in summary and summary["note"].notna().any() else \
                "not harmonised"
            style.message(fig, note, f"{axis_ref('x', col)} domain", f"{axis_ref('y', col)} domain")
        for i, centre in enumerate(centres):
            data = part[part["centre"].astype(str) == centre]
            fig.add_trace(go.Scatter(x=data["pc1"], y=data["pc2"], mode="markers", name=f"Centre {centre}",
                                     legendgroup=centre, showlegend=col == 1,
                                     marker=dict(color=style.PALETTE[i % len(style.PALETTE)], size=8, opacity=0.75,
                                                 symbol=["circle", "square", "diamond", "triangle-up"][i % 4])),
                          row=1, col=col)
        fig.update_xaxes(title_text="PC 1 (standardised features, a.u.)", row=1, col=col)
        fig.update_yaxes(title_text="PC 2 (a.u.)", row=1, col=col)
    fig.update_annotations(font_size=style.FONT_SIZE - 1)
    fig.update_layout(margin_t=120)
    return finish(fig, out_html)
