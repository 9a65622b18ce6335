"""What every section's build(ctx, s) receives: the run's mode and the page's shared services."""
from __future__ import annotations

import itertools
from typing import Any

from ..experiments.common import Split, digits_split
from . import html

__all__ = ["Context", "QUICK_DPI"]

#: the largest resolution of a figure in quick mode (full mode: 90 unless a section says)
QUICK_DPI = 60


class Context:
    """One report run: output folder, quick mode, the digits, figures and unique SVG ids.

    out     the output folder (sections write files there only through Section.attach)
    quick   smaller experiments
    Figure  matplotlib's Figure class (no pyplot: no window, no global state)
    """

    def __init__(self, out: str, quick: bool):
        from matplotlib.figure import Figure

        self.out = out
        self.quick = quick
        self.Figure = Figure
        self._graph_ids = itertools.count(1)

    def digits(self) -> Split:
        """The standardized digits split 80/20 (loaded once per process)."""
        return digits_split()

    def figure(self, fig: Any, caption: str = "", dpi: int = 90, tight: bool = True) -> str:
        """A matplotlib figure as an HTML block (inline PNG) with its caption.

        Quick mode draws at QUICK_DPI at most and lays the figure out once, with a fixed
        margin instead of cropping it tight (html.png's fast): drawing figures is about half
        of a quick run, and most of that goes to laying out text and ticks, not to pixels.
        """
        if self.quick:
            return html.figure_block(fig, caption, min(dpi, QUICK_DPI), tight, fast=True)
        return html.figure_block(fig, caption, dpi, tight)

    def graph(self, graph: Any, caption: str) -> str:
        """A graphviz graph as an HTML block (inline SVG whose ids no other graph shares)."""
        return html.graph_block(graph, caption, prefix=f"g{next(self._graph_ids)}_")
