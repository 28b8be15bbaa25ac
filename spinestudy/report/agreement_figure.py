"""Figure of the readers' agreement (stats.agreement): the coefficients of every scale pooled over levels
with their 95% intervals, one panel per comparison, and under them the reader 1 x reader 2 table of each
scale (inter-reader, pooled over levels and endplates)."""

from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from spinestudy import applicable
from spinestudy.report import style
from spinestudy.report.figures import finish, read
from spinestudy.stats.agreement import PAIRS, STATISTICS
SHOWN = {"kappa": style.BLUE, "kappa_quadratic": style.ORANGE, "ac1": style.GREEN, "ac2": style.PURPLE,
         "icc2_1": style.VERMILLION, "icc3_1": style.SKY_BLUE}  # statistic -> colour (percent agreement left out)


def figure_agreement(agreement: str | Path, confusion: str | Path, out_html: str | Path | None = None) -> go.Figure:
    """Agreement per scale with 95% intervals (agreement.csv) and confusion matrices (agreement_confusion.csv)."""
    table, counts = read(agreement), read(confusion)
    note = applicable.note(table)
    names = dict(zip(table.get("scale", []), table.get("label", [])))  # scale -> label, in agreement.csv's order
    table = table[table["estimate"].notna() & table["level"].eq("all")] if "estimate" in table else table.iloc[0:0]
    comparisons = [c for c in PAIRS if c in set(table.get("comparison", []))]
    scales = [s for s in names if s in set(counts.get("scale", []))]
    if table.empty or not comparisons:
        fig = style.apply(go.Figure(), "Reader agreement")
        return finish(style.message(fig, note or "no agreement estimable"), out_html)
    span = max(1, -(-len(scales) // len(comparisons)))  # columns per comparison panel
    columns = span * len(comparisons)
    specs = [[{"colspan": span} if i % span == 0 else None for i in range(columns)],
             [{} if i < len(scales) else None for i in range(columns)]]
    titles = [f"{c.capitalize()} agreement" for c in comparisons] + [names[s] for s in scales]
    labels = [label for scale, label in names.items() if scale in set(table["scale"])]
    fig = make_subplots(rows=2, cols=columns, specs=specs, row_heights=[0.62, 0.38], vertical_spacing=0.16,
                        horizontal_spacing=0.05, subplot_titles=titles)
    style.apply(fig, "Reader agreement of the MRI gradings", height=980)
    for i, comparison in enumerate(comparisons):
        _coefficients(fig, table[table["comparison"] == comparison], labels, 1 + i * span, i == 0)
    first = comparisons[0]
    for col, scale in enumerate(scales, start=1):
        _confusion(fig, counts[(counts["comparison"] == first) & (counts["scale"] == scale)], col)
    fig.update_layout(legend=dict(orientation="h", y=-0.08, x=0.5, xanchor="center", yanchor="top"), margin_b=140)
    return finish(fig, out_html)


def _coefficients(fig: go.Figure, part: pd.DataFrame, labels: list[str], col: int, first: bool) -> None:
    """One comparison's coefficients: a row per scale, a dodged marker per statistic with its interval."""
    for k, (statistic, colour) in enumerate(SHOWN.items()):
        data = part[part["statistic"] == statistic]
        if data.empty:
            continue
        y = data["label"].map(labels.index) + (k - (len(SHOWN) - 1) / 2) * 0.12
        fig.add_trace(go.Scatter(
            x=data["estimate"], y=y, mode="markers", name=STATISTICS[statistic], legendgroup=statistic,
            showlegend=first, marker=dict(color=colour, size=9),
            error_x=dict(type="data", symmetric=False, array=data["ci_high"] - data["estimate"],
                         arrayminus=data["estimate"] - data["ci_low"], color=colour, thickness=1.5, width=3),
            customdata=np.stack([data["label"], data["n_units"], data["interpretation"]], axis=-1),
            hovertemplate="%{customdata[0]}: %{x:.3f} (n = %{customdata[1]}; %{customdata[2]})<extra>"
                          + STATISTICS[statistic] + "</extra>"), row=1, col=col)
    fig.update_xaxes(title_text="Coefficient (95% CI)", range=[min(0.0, part["ci_low"].min() - 0.05), 1.02],
                     row=1, col=col)
    fig.update_yaxes(tickvals=list(range(len(labels))), ticktext=labels, range=[len(labels) - 0.5, -0.5],
                     showticklabels=first, row=1, col=col)


def _confusion(fig: go.Figure, counts: pd.DataFrame, col: int) -> None:
    """Reader 1 (rows) x reader 2 (columns) counts of one scale as a heatmap with the counts written in."""
    grid = counts.pivot(index="first", columns="second", values="n")
    names = [str(v) for v in grid.columns]
    fig.add_trace(go.Heatmap(z=grid.to_numpy(), x=names, y=[str(v) for v in grid.index], colorscale=style.SEQUENTIAL,
                             showscale=False, text=grid.to_numpy(), texttemplate="%{text}",
                             hovertemplate="reader 1: %{y}, reader 2: %{x}: %{z}<extra></extra>"), row=2, col=col)
    fig.update_xaxes(title_text="Reader 2", type="category", tickmode="array", tickvals=names, row=2, col=col)
    fig.update_yaxes(title_text="Reader 1" if col == 1 else None, type="category", autorange="reversed", row=2,
                     col=col)
