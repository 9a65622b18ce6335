"""A matplotlib Figure that Jupyter shows as an image, with no ``%matplotlib`` magic.

matplotlib's Figure has a rich display only when an interactive or inline backend has
registered one; a figure made without pyplot (as viz.plots makes them) would show as
``<Figure size 640x400 with 1 Axes>``. :class:`Figure` here, a subclass, adds ``_repr_png_``, which
IPython calls for a cell's last expression. Where the inline backend is active it has
registered its own printer for Figure, which IPython prefers, so the image appears once
either way. Outside Jupyter nothing calls it: the figure behaves as any other.
"""
from __future__ import annotations

import io

import matplotlib.figure

__all__ = ["Figure", "DPI"]

DPI = 100  # dots per inch of the inline image (a 6.4 x 4 inch figure: 640 x 400 pixels)


class Figure(matplotlib.figure.Figure):
    """A matplotlib Figure with a PNG representation for Jupyter (``_repr_png_``).

    Otherwise unchanged, down to its name: ``repr(fig)`` still reads ``<Figure size ...>``.
    """

    def _repr_png_(self) -> bytes:
        """The figure as PNG bytes, cropped to its contents, as the inline backend draws it."""
        buf = io.BytesIO()
        self.savefig(buf, format="png", dpi=DPI, bbox_inches="tight", facecolor="white")
        return buf.getvalue()
