"""Figure files: interactive HTML always, sharing one local copy of plotly.js beside them (PLOTLY_JS, from
the plotly package: opens offline, 4.8 MB once instead of per figure); static PNG and SVG through kaleido
when a Chrome/Chromium browser is installed.

Kaleido 1.x drives a browser it finds itself (BROWSER_PATH, then chromium/chrome on PATH and the usual
install paths, e.g. Debian's /usr/bin/chromium); it never downloads one here. MathJax is switched off and
plotly.js comes from the plotly package, so exporting needs no network. Without a browser the HTML is
still written and the reason for skipping PNG/SVG is logged once per process."""

import logging
import os
from pathlib import Path

import kaleido
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from choreographer.browsers.chromium import Chromium
from kaleido.errors import ChromeNotFoundError

from spinestudy.report import style

log = logging.getLogger(__name__)
HOW_TO_ENABLE = ("install Chromium (Debian/Ubuntu: apt-get install -y chromium) or point BROWSER_PATH at "
                 "a Chrome/Chromium executable")
PLOTLY_JS = "plotly.min.js"  # shared by the figures of a folder
_warned = False


def browser() -> str | None:
    """Path of the browser kaleido would use, or None when there is none."""
    path = Chromium.find_browser(skip_local=False)
    return path if path and Path(path).is_file() and os.access(path, os.X_OK) else None


def static_unavailable() -> str | None:
    """Why PNG/SVG cannot be exported here (None when they can): for the workflow to say once."""
    if browser():
        return None
    where = f"BROWSER_PATH={os.environ['BROWSER_PATH']!r} is not an executable" if "BROWSER_PATH" in os.environ \
        else "no Chrome/Chromium found"
    return f"static figures (PNG/SVG) skipped: {where}; to enable them, {HOW_TO_ENABLE}"


def write_plotly_js(out: str | Path) -> Path:
    """Write the plotly package's plotly.js to `out` (atomically: parallel figure jobs may share it)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.{os.getpid()}")
    partial.write_text(get_plotlyjs(), encoding="utf-8")
    os.replace(partial, out)
    return out


def write_html(fig: go.Figure, out: str | Path) -> None:
    """Interactive HTML with a stable div id (reruns are identical) loading PLOTLY_JS from its own folder;
    writes that copy of plotly.js when the folder has none yet."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not (out.parent / PLOTLY_JS).is_file():
        write_plotly_js(out.parent / PLOTLY_JS)
    fig.write_html(out, include_plotlyjs=PLOTLY_JS, full_html=True, div_id=f"figure-{out.stem}",
                   config={"displaylogo": False, "toImageButtonOptions": {"format": "svg"}})


def export(fig: go.Figure, out_html: str | Path, out_png: str | Path | None = None,
           out_svg: str | Path | None = None) -> bool:
    """Write the HTML and, when a browser exists, the PNG and SVG (WIDTH x height layout pixels; PNG at
    SCALE). Returns whether the static files were written; without a browser it logs why, once."""
    global _warned
    write_html(fig, out_html)
    jobs = [(path, fmt, scale) for path, fmt, scale in ((out_png, "png", style.SCALE), (out_svg, "svg", 1)) if path]
    if not jobs:
        return False
    reason = static_unavailable()
    if reason:
        if not _warned:
            log.warning(reason)
            _warned = True
        return False
    size = {"width": fig.layout.width or style.WIDTH, "height": fig.layout.height or style.HEIGHT}
    specs = []
    for path, fmt, scale in jobs:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        specs.append({"fig": fig, "path": str(path), "opts": {"format": fmt, "scale": scale, **size}})
    try:
        kaleido.write_fig_from_object_sync(specs, kopts={"mathjax": False}, cancel_on_error=True)
    except ChromeNotFoundError as error:  # the browser vanished between the check and the launch
        log.warning("static figures (PNG/SVG) skipped: %s; to enable them, %s", error, HOW_TO_ENABLE)
        return False
    return True
