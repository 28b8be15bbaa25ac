"""One plotly look for every figure: Okabe-Ito colours (safe for colour-vision deficiencies), fonts that
stay >= 8 pt when a figure is printed 180 mm wide, white background, light grid, units on every axis."""

import plotly.graph_objects as go
import plotly.io as pio

from spinestudy.anatomy import LEVELS

# Okabe & Ito (2008), "Color Universal Design"; black first for totals and reference marks.
BLACK, ORANGE, SKY_BLUE, GREEN, YELLOW, BLUE, VERMILLION, PURPLE = (
    "#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")
PALETTE = [BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY_BLUE, YELLOW, BLACK]
GREY = "#7F7F7F"
DIVERGING = [[0.0, BLUE], [0.5, "#FFFFFF"], [1.0, VERMILLION]]  # negative - zero - positive
SEQUENTIAL = "Cividis"  # perceptually uniform, readable with any colour-vision deficiency

LEVEL_COLOURS = dict(zip(LEVELS, PALETTE))
MODIC_COLOURS = {"I": ORANGE, "II": BLUE, "III": GREEN}


def group_colour(position: int) -> str:
    """The colour of a group by its position among Total (0, black) and the study's groups (1, 2, ...)."""
    return BLACK if position == 0 else PALETTE[(position - 1) % len(PALETTE)]


FONT = "Arial, 'Liberation Sans', Helvetica, sans-serif"
FONT_SIZE = 16  # layout pixels; 16 px of a 1000 px wide figure printed at 180 mm is about 8 pt
WIDTH, HEIGHT = 1000, 640  # layout pixels of the static exports
SCALE = 3  # PNG: 3000 px wide, about 420 dpi at 180 mm
TEMPLATE = "spinestudy"


def _template() -> go.layout.Template:
    axis = dict(showline=True, linecolor=BLACK, ticks="outside", gridcolor="#E5E5E5", zeroline=False,
                automargin=True, title_standoff=8)
    return go.layout.Template(layout=go.Layout(
        font=dict(family=FONT, size=FONT_SIZE, color=BLACK),
        title=dict(font=dict(size=FONT_SIZE + 4), x=0, xanchor="left", xref="paper"),
        colorway=PALETTE,
        paper_bgcolor="white", plot_bgcolor="white",
        xaxis=axis, yaxis=axis,
        legend=dict(font=dict(size=FONT_SIZE - 1)),
        margin=dict(l=70, r=30, t=80, b=60),
        width=WIDTH, height=HEIGHT,
        hoverlabel=dict(font=dict(family=FONT)),
    ))


pio.templates[TEMPLATE] = _template()


def apply(fig: go.Figure, title: str, height: int = HEIGHT) -> go.Figure:
    """Give a figure the study template, its title and a height (width is always WIDTH)."""
    fig.update_layout(template=TEMPLATE, title_text=title, height=height)
    fig.update_annotations(font_family=FONT)  # subplot titles use the template font
    return fig


def message(fig: go.Figure, text: str, xref: str = "paper", yref: str = "paper") -> go.Figure:
    """Write a note (empty input, not estimable) in the middle of the figure or of one subplot
    (xref/yref 'x2 domain', 'y2 domain')."""
    fig.add_annotation(text=text, xref=xref, yref=yref, x=0.5, y=0.5, showarrow=False,
                       font=dict(size=FONT_SIZE, color=GREY), align="center")
    return fig
