"""Figures of the clinical study (RuDDS): eligibility flow per centre (Supplemental Figure 1), prevalence
of severe findings by age decade and level (Figure 2), LASSO coefficients as forest plots (Table 2).

Each figure_* function reads the stage's documented file, returns the plotly figure and, given out_html,
writes it as interactive HTML; figure_export.export adds PNG and SVG. An empty input or a model that
was not estimable gives a figure that says so instead of an error."""

from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from spinestudy import study as studies
from spinestudy.anatomy import LEVELS
from spinestudy.report import style
from spinestudy.report.export import write_html

FLOW_STAGES = {  # main chain of the CONSORT-style diagram; each step may lose patients
    "received": "Patients in the centre's tables",
    "valid_clinical": "Valid clinical data",
    "valid_mri": "Valid MRI gradings",
    "analysed": "Analysed",
}


def read(path: str | Path | None) -> pd.DataFrame:
    """A CSV or parquet table; empty when the file is missing, empty or has a header only."""
    path = Path(path) if path else None
    if path is None or not path.is_file() or path.stat().st_size == 0:
        return pd.DataFrame()
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


def finish(fig: go.Figure, out_html: str | Path | None) -> go.Figure:
    """Write the interactive HTML when a path is given; return the figure."""
    if out_html:
        write_html(fig, out_html)
    return fig


def figure_flow(flow: str | Path, out_html: str | Path | None = None) -> go.Figure:
    """CONSORT-style eligibility flow, one column per centre and one for all centres (flow.csv)."""
    table = read(flow)
    fig = style.apply(go.Figure(), "Eligibility flow per centre", height=760)
    fig.update_xaxes(visible=False, range=[-0.5, max(len(table), 1) - 0.5])
    fig.update_yaxes(visible=False, range=[-5.6, 0.6])
    if table.empty:
        return finish(style.message(fig, "no flow table"), out_html)
    box = dict(showarrow=False, bordercolor=style.BLACK, borderwidth=1.5, borderpad=6, bgcolor="white",
               font=dict(size=style.FONT_SIZE - 2))
    side = dict(showarrow=False, font=dict(size=style.FONT_SIZE - 3, color=style.VERMILLION), xanchor="left")
    for x, row in enumerate(table.to_dict("records")):
        name = "All centres" if row["centre"] == "all" else f"Centre {row['centre']}"
        fig.add_annotation(x=x, y=0.45, text=f"<b>{name}</b>", showarrow=False)
        values = [row[stage] for stage in FLOW_STAGES]
        for y, (label, n) in enumerate(zip(FLOW_STAGES.values(), values)):
            fig.add_annotation(x=x, y=-y, text=f"{label}<br><b>n = {_count(n)}</b>", **box)
            if y:
                fig.add_annotation(x=x, y=-y + 0.22, ax=x, ay=-y + 0.78, xref="x", yref="y", axref="x",
                                   ayref="y", text="", showarrow=True, arrowhead=2, arrowwidth=1.5)
                lost = values[y - 1] - n if pd.notna(values[y - 1]) and pd.notna(n) else None
                if lost:
                    fig.add_annotation(x=x + 0.05, y=-y + 0.5, text=f"excluded: {lost}", **side)
        images = f"With usable MRI volumes<br><b>n = {_count(row['with_images'])}</b>"
        fig.add_annotation(x=x, y=-4.1, text=images, **(box | dict(bordercolor=style.GREY)))
        times = [c for c in row if c.startswith("questionnaires_")]  # one per time point of the study
        if times:
            questionnaires = "Questionnaires<br>" + ", ".join(
                f"{c.removeprefix('questionnaires_')}: <b>{_count(row[c])}</b>" for c in times)
            fig.add_annotation(x=x, y=-5.1, text=questionnaires, **(box | dict(bordercolor=style.GREY)))
    return finish(fig, out_html)


def axis_ref(letter: str, number: int) -> str:
    """Plotly's name of the number-th x or y axis: 'x', 'x2', ..."""
    return letter if number == 1 else f"{letter}{number}"


def _count(n) -> str:
    return "–" if pd.isna(n) else str(int(n))


def left_out(prevalence: pd.DataFrame) -> str:
    """The prevalence table's note on patients outside the age bands ("left out: ..."), or ""."""
    found = prevalence["note"].fillna("").str.extract(r"(left out: [^;]+)")[0].dropna()
    return found.iloc[0] if len(found) else ""


def figure_prevalence(prevalence: str | Path, out_html: str | Path | None = None) -> go.Figure:
    """Prevalence by age decade and lumbar level with Wilson intervals, one panel per finding in the table's order
    titled by its label (prevalence_by_decade.csv; RuDDS Figure 2)."""
    table = read(prevalence)
    panels = dict(zip(table["finding"], table["label"].str.replace(">=", "≥").str.replace("<=", "≤"))) if len(
        table) else {}
    fig = make_subplots(rows=max(len(panels), 1), cols=1, shared_xaxes=True, vertical_spacing=0.07,
                        subplot_titles=list(panels.values()) or None)
    style.apply(fig, "Prevalence of findings by age decade and lumbar level", height=80 + 300 * max(len(panels), 1))
    if table.empty:
        return finish(style.message(fig, "no prevalence table"), out_html)
    left = left_out(table)
    if left:
        fig.add_annotation(text=left[:1].upper() + left[1:], xref="paper", yref="paper", x=0, y=-0.1,
                           xanchor="left", yanchor="top", showarrow=False)
    table = table[table["total"] > 0]
    for row, finding in enumerate(panels, start=1):
        part = table[table["finding"] == finding]
        for level in LEVELS:
            data = part[part["level"] == level]
            pct = 100 * data["prevalence"]
            fig.add_trace(go.Bar(
                x=data["age_decade"], y=pct, name=level, legendgroup=level, showlegend=row == 1,
                marker_color=style.LEVEL_COLOURS[level],
                error_y=dict(type="data", symmetric=False, array=100 * data["ci_high"] - pct,
                             arrayminus=pct - 100 * data["ci_low"], thickness=1.2, width=2, color=style.BLACK),
                customdata=np.stack([data["n"], data["total"]], axis=-1),
                hovertemplate=f"{level}, %{{x}} years: %{{y:.1f}}% (%{{customdata[0]}}/%{{customdata[1]}})"
                              "<extra></extra>"), row=row, col=1)
        fig.update_yaxes(title_text="Prevalence, % of discs", range=[0, 102], row=row, col=1)
    fig.update_xaxes(categoryorder="array", categoryarray=list(dict.fromkeys(read(prevalence)["age_decade"])),
                     type="category")  # the study's age bands, in the table's order
    fig.update_xaxes(title_text="Age, years", row=3, col=1)
    fig.update_layout(barmode="group", bargap=0.2, legend_title_text="Level",
                      legend=dict(orientation="h", y=-0.06, x=0.5, xanchor="center", yanchor="top"),
                      margin_b=120)
    return finish(fig, out_html)


def outcomes(study: studies.Study) -> dict[str, str]:
    """The LASSO's outcomes and their headings (study file analyses lasso outcomes)."""
    return {name: spec["label"] for name, spec in study.analyses["lasso"]["outcomes"].items()}


def figure_forest(lasso: str | Path, study: str | Path, out_html: str | Path | None = None) -> go.Figure:
    """LASSO coefficients (RuDDS Table 2) as exp(coef) per unit of the predictor with bootstrap percentile
    intervals on a log axis, one panel per outcome and one colour per group; filled marker = selected
    (non-zero coefficient), open = shrunk to zero. Groups whose model was not estimable are listed under
    the panel with the reason."""
    table, headings = read(lasso), outcomes(studies.load(study))
    fig = make_subplots(rows=1, cols=len(headings), shared_yaxes=True, horizontal_spacing=0.04,
                        subplot_titles=list(headings.values()))
    style.apply(fig, "LASSO predictors of back pain", height=720)
    if table.empty:
        return finish(style.message(fig, "no LASSO table"), out_html)
    labels = list(table["label"].unique())
    groups = list(dict.fromkeys(table["group"]))  # Total, then the study's groups
    for col, outcome in enumerate(headings, start=1):
        part = table[table["outcome"] == outcome]
        fig.add_trace(go.Scatter(x=[1, 1], y=[-0.5, len(labels) - 0.5], mode="lines", hoverinfo="skip",
                                 line=dict(color=style.GREY, dash="dash", width=1), showlegend=False),
                      row=1, col=col)
        skipped = []
        for g, group in enumerate(groups):
            data = part[part["group"] == group]
            fit = data[data["estimable"].astype(str).str.lower() == "true"]
            if fit.empty:
                reason = data["note"].dropna().iloc[0] if data["note"].notna().any() else "no model"
                skipped.append(f"{group.capitalize()}: {reason.removeprefix('not estimable: ')}")
                continue
            _forest_group(fig, fit, labels.index, (g - (len(groups) - 1) / 2) * 0.13, col, style.group_colour(g))
        effect = part["effect"].dropna().iloc[0] if part["effect"].notna().any() else "exp(coef)"
        fig.update_xaxes(title_text=f"{effect} per unit (log scale)", type="log", row=1, col=col)
        if skipped:
            fig.add_annotation(text="Not estimable<br>" + "<br>".join(skipped), xref=f"{axis_ref('x', col)} domain",
                               yref="paper", x=0, y=-0.24, xanchor="left", yanchor="top", showarrow=False, align="left",
                               font=dict(size=style.FONT_SIZE - 4, color=style.GREY))
    fig.update_yaxes(tickvals=list(range(len(labels))), ticktext=labels, range=[len(labels) - 0.5, -0.5])
    fig.update_layout(legend=dict(orientation="h", y=-0.13, yanchor="top", x=0, title_text="Group"),
                      margin=dict(t=100, b=220))
    return finish(fig, out_html)


def _forest_group(fig: go.Figure, fit: pd.DataFrame, position, offset: float, col: int, colour: str) -> None:
    """One group's estimable coefficients, dodged vertically by offset around the predictor rows."""
    group = fit["group"].iloc[0]
    selected = fit["coef"].fillna(0) != 0
    fig.add_trace(go.Scatter(
        x=fit["exp_coef"], y=fit["label"].map(position) + offset, mode="markers", name=group.capitalize(),
        legendgroup=group, showlegend=group not in {t.legendgroup for t in fig.data},
        marker=dict(color=colour, size=10, symbol=np.where(selected, "circle", "circle-open"), line_width=2),
        error_x=dict(type="data", symmetric=False, array=fit["exp_ci_high"] - fit["exp_coef"],
                     arrayminus=fit["exp_coef"] - fit["exp_ci_low"], color=colour, thickness=1.5, width=3),
        customdata=np.stack([fit["label"], fit["coef"], fit["selected_share"]], axis=-1),
        hovertemplate="%{customdata[0]}: %{x:.3f} (coef %{customdata[1]:.3g}; selected in "
                      "%{customdata[2]:.0%} of bootstraps)<extra>" + group + "</extra>"), row=1, col=col)
