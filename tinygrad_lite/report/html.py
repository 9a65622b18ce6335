"""HTML blocks of the report: escaped text, tables, numbers, figures, graphs, artefact links.

Every string from outside (claims, numbers, labels, tracebacks) goes through ``esc``, which is
viz's escaper (``viz.escape.html``): one escaper for the graphs and the page. viz, matplotlib
and graphviz are imported inside the functions that need them, never at import.
"""
from __future__ import annotations

import base64
import html as _stdlib_html
import io
import math
import re
import urllib.parse
from typing import Any

__all__ = ["esc", "fmt", "table", "pre", "png", "figure_block", "svg_inline", "graph_block",
           "artefact_block", "checks_table", "href",
           "srcdoc_frame"]


def esc(text) -> str:
    """Text for an HTML page: & < > " ' as entities, control characters shown as \\xNN."""
    from viz.escape import html

    return html(text, newline="\n")


def fmt(x, digits: int = 3) -> str:
    """A number in a few significant digits ("nan", "inf" as such; None as "n/a")."""
    if x is None:
        return "n/a"
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    return f"{x:.{digits}g}"


def table(header, rows, cls: str = "") -> str:
    """An HTML table; every cell is escaped text."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def pre(text) -> str:
    return f"<pre>{esc(text)}</pre>"


def png(fig, dpi: int = 90, tight: bool = True, fast: bool = False) -> str:
    """A matplotlib figure as an inline <img> (base64 PNG).

    tight: crop to what is drawn (bbox_inches="tight", which lays the figure out twice).
    fast: instead of that, a fixed margin around the figure (FAST_MARGIN inches; labels
    that stick out of the figure stay visible), laid out once: for quick mode.
    """
    buf = io.BytesIO()
    bbox: Any = None  # a Bbox, "tight" or None
    if tight and fast:
        from matplotlib.transforms import Bbox

        w, h = fig.get_size_inches()
        left, bottom, right, top = FAST_MARGIN
        bbox = Bbox.from_extents(-left, -bottom, w + right, h + top)
    elif tight:
        bbox = "tight"
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches=bbox)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img class="fig" alt="figure" src="data:image/png;base64,{data}">'


#: png(fast=True): the margin added around the figure (left, bottom, right, top) in inches
FAST_MARGIN = (0.1, 0.15, 0.0, 0.0)


def figure_block(fig, caption: str = "", dpi: int = 90, tight: bool = True,
                 fast: bool = False) -> str:
    """A figure with its caption (see png for tight and fast)."""
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return f"<figure>{png(fig, dpi, tight, fast)}{cap}</figure>"


def svg_inline(svg: str, prefix: str) -> str:
    """SVG text ready to sit inside HTML: no XML prologue, comments or namespace URLs, and
    every id prefixed, so that several graphs on one page never share one."""
    start = svg.find("<svg")
    svg = svg[start:] if start >= 0 else svg
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    svg = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg)
    svg = re.sub(r'\bid="', f'id="{prefix}', svg)
    svg = re.sub(r"url\(#", f"url(#{prefix}", svg)
    svg = re.sub(r'href="#', f'href="#{prefix}', svg)
    return svg


def graph_block(graph, caption: str, prefix: str) -> str:
    """A graphviz graph rendered to inline SVG (ids prefixed with `prefix`), with a caption."""
    svg = graph.pipe(format="svg", encoding="utf-8")
    return (f'<figure class="graph"><div class="svgwrap">{svg_inline(svg, prefix)}</div>'
            f"<figcaption>{esc(caption)}</figcaption></figure>")


def href(name: str) -> str:
    """A link to a file next to index.html: percent-encoded, then escaped for an attribute."""
    return esc(urllib.parse.quote(name, safe=""))


def srcdoc_frame(page: str, title: str) -> str:
    """An HTML page shown in a frame of its own, held inside index.html (``srcdoc``).

    The page is escaped for a double-quoted attribute, byte for byte (no other change), and
    the frame is sandboxed: its scripts run, but it reaches neither this page nor the network
    origin of this file (``allow-scripts`` only). Copied alone, index.html still shows it.
    """
    return (f'<iframe class="anim" sandbox="allow-scripts" title="{esc(title)}" '
            f'srcdoc="{_stdlib_html.escape(page, quote=True)}"></iframe>')


def artefact_block(name: str, title: str, text: str, page: str | None = None) -> str:
    """A heading, a sentence and a link to a file next to index.html; with `page` (the file's
    HTML) also the page itself in a sandboxed frame held inside index.html."""
    parts = [f"<h3>{esc(title)}</h3>"] if title else []
    link = f'<a href="{href(name)}">{esc(name)}</a>'
    if page is not None:
        parts.append(f"<p>{esc(text)} It is also saved beside this page as {link}.</p>"
                     if text else f"<p>Also saved beside this page as {link}.</p>")
        parts.append(srcdoc_frame(page, title or name))
    else:
        parts.append(f"<p>{esc(text)} The file is {link} in this folder.</p>" if text
                     else f"<p>{link}</p>")
    return "".join(parts)


def checks_table(checks) -> str:
    """The verdicts of one section: PASS/FAIL, the lecture's claim, the measured numbers."""
    rows = "".join(
        f'<tr><td class="verdict"><span class="{"pass" if c.passed else "fail"}">'
        f'{"PASS" if c.passed else "FAIL"}</span></td><td class="claim">{esc(c.claim)}</td>'
        f"<td>{esc(c.measured)}</td></tr>" for c in checks)
    return ('<table class="checks"><thead><tr><th>verdict</th><th>the lecture says</th>'
            f"<th>measured</th></tr></thead><tbody>{rows}</tbody></table>")
