"""Figures of a prediction model (results/prediction/<model>/): the calibration plot (ideal line, apparent
flexible curve with its bootstrap band, optimism-corrected curve, predicted risks per outcome class) and the
decision curve (net benefit of the model, treat all and treat none; interventions avoided per 100).

As in figures.py, each function reads its documented file and, given out_html, writes the interactive HTML; an
empty or not-estimable input gives a figure that says so."""

from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from spinestudy.report import style
from spinestudy.report.figures import finish, read


def figure_calibration(calibration: str | Path, out_html: str | Path | None = None) -> go.Figure:
    """Calibration plot from calibration.csv; below it, the patients with (up) and without (down) the outcome
    at each predicted risk."""
    table = read(calibration)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.78, 0.22], vertical_spacing=0.03)
    style.apply(fig, "Calibration: observed against predicted risk", height=760)
    if table.empty:
        return finish(style.message(fig, "no calibration curve: model not estimable"), out_html)
    x = table["predicted"]
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="Ideal", hoverinfo="skip",
                             line=dict(color=style.GREY, dash="dot", width=1.5)), row=1, col=1)
    band = table.dropna(subset=["ci_low", "ci_high"])  # grid points without a bootstrap curve: no band
    fig.add_trace(go.Scatter(x=np.r_[band["predicted"], band["predicted"][::-1]],
                             y=np.r_[band["ci_high"], band["ci_low"][::-1]], fill="toself",
                             fillcolor="rgba(0, 114, 178, 0.18)", line=dict(width=0), hoverinfo="skip",
                             name="95% bootstrap band"), row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=table["apparent"], mode="lines", name="Apparent (lowess)",
                             line=dict(color=style.BLUE, width=2.5),
                             hovertemplate="predicted %{x:.2f}: observed %{y:.2f}<extra>apparent</extra>"),
                  row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=table["corrected"], mode="lines", name="Optimism-corrected",
                             line=dict(color=style.VERMILLION, width=2.5, dash="dash"),
                             hovertemplate="predicted %{x:.2f}: observed %{y:.2f}<extra>corrected</extra>"),
                  row=1, col=1)
    width = float(np.diff(x).mean()) * 0.9 if len(x) > 1 else 0.02
    fig.add_trace(go.Bar(x=x, y=table["with_outcome"], width=width, name="With the outcome",
                         marker_color=style.BLACK, hovertemplate="%{y} patients<extra>with the outcome</extra>"),
                  row=2, col=1)
    fig.add_trace(go.Bar(x=x, y=-table["without_outcome"], width=width, name="Without the outcome",
                         marker_color=style.GREY, customdata=table["without_outcome"],
                         hovertemplate="%{customdata} patients<extra>without the outcome</extra>"), row=2, col=1)
    fig.update_xaxes(range=[0, 1], row=1, col=1)
    fig.update_xaxes(range=[0, 1], title_text="Predicted risk", row=2, col=1)
    fig.update_yaxes(range=[0, 1], title_text="Observed proportion", row=1, col=1)
    step = max(1, int(np.ceil(max(table["with_outcome"].max(), table["without_outcome"].max()) / 2)))
    ticks = step * np.arange(-2, 3)
    fig.update_yaxes(title_text="Patients", tickvals=ticks, ticktext=[str(abs(t)) for t in ticks], row=2, col=1)
    fig.update_layout(barmode="relative", legend=dict(x=0.02, y=0.98, xanchor="left", yanchor="top"))
    return finish(fig, out_html)


def figure_decision_curve(decision_curve: str | Path, out_html: str | Path | None = None) -> go.Figure:
    """Net benefit of the model, treat all and treat none over the thresholds of decision_curve.csv, and the
    net interventions avoided per 100 patients."""
    table = read(decision_curve)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.62, 0.38], vertical_spacing=0.06)
    style.apply(fig, "Decision curve", height=760)
    if table.empty:
        return finish(style.message(fig, "no decision curve: model not estimable"), out_html)
    t = table["threshold"]
    for column, name, line in (("net_benefit_model", "Model", dict(color=style.BLUE, width=2.5)),
                               ("net_benefit_all", "Treat all", dict(color=style.ORANGE, width=2)),
                               ("net_benefit_none", "Treat none", dict(color=style.BLACK, width=1.5, dash="dot"))):
        fig.add_trace(go.Scatter(x=t, y=table[column], mode="lines", name=name, line=line,
                                 hovertemplate="threshold %{x:.2f}: net benefit %{y:.3f}<extra>" + name + "</extra>"),
                      row=1, col=1)
    fig.add_trace(go.Scatter(x=t, y=table["avoided_per_100"], mode="lines", name="Interventions avoided",
                             line=dict(color=style.GREEN, width=2.5),
                             hovertemplate="threshold %{x:.2f}: %{y:.1f} per 100<extra></extra>"), row=2, col=1)
    top = max(table["net_benefit_model"].max(), table["net_benefit_all"].max(), 0.01)
    fig.update_yaxes(title_text="Net benefit", range=[-0.05 * top, 1.1 * top], row=1, col=1)
    fig.update_yaxes(title_text="Avoided per 100", row=2, col=1)
    fig.update_xaxes(title_text="Threshold probability", row=2, col=1)
    fig.update_layout(legend=dict(x=0.98, y=0.98, xanchor="right", yanchor="top"))
    return finish(fig, out_html)
