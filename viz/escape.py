"""Escaping of user-supplied strings (labels, parameter names) for DOT, SVG, HTML and JS.

A label such as ``<script>``, ``a"b``, ``{x|y}`` or ``C:\\tmp`` must render literally and
inject nothing, whichever of the three languages it lands in:

* ``html(s)``: text of an SVG or an HTML page.
* ``dot_html(s)``: text inside an HTML-like DOT label (``label=<...>``), where Graphviz still
  expands ``\\G``, ``\\N``... after decoding entities, so backslashes double as well.
* ``dot_string(s)``: the inside of a double-quoted DOT string (tooltips, ids), where ``\\``
  starts an escape (``\\n``, ``\\N``, ``\\G``) and ``&amp;`` is read as an entity.
* ``script_json(obj)``: JSON to embed inside ``<script>...</script>`` of an HTML page.

Control characters (which XML forbids, so an SVG holding one would not parse) are shown as
``\\xNN``; bidirectional controls (which would reorder the text around them) as ``\\uNNNN``.
``shorten(s, limit)`` cuts text for a picture (the full text belongs in a tooltip).
"""
from __future__ import annotations

import json
import re

__all__ = ["html", "dot_html", "dot_string", "script_json", "printable", "shorten", "one_line",
           "is_blank"]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# embeddings, overrides and isolates (LRE RLE PDF LRO RLO, LRI RLI FSI PDI): they reorder text
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
_BREAKS = re.compile(r"\r\n|[\r\n\t\v\f\x85\u2028\u2029]")


def printable(s) -> str:
    """``str(s)`` with control characters other than tab and newline shown as ``\\xNN``, and
    bidirectional embedding, override and isolate characters as ``\\uNNNN``."""
    s = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(s))
    return _BIDI.sub(lambda m: f"\\u{ord(m.group()):04x}", s)


def is_blank(s) -> bool:
    """Whether ``s`` draws as nothing: None, empty, or only whitespace (U+2028 included)."""
    return s is None or not str(s).strip()


def one_line(s) -> str:
    """``printable(s)`` with every line or paragraph break (\\n, \\r, U+2028, ...) a space."""
    return _BREAKS.sub(" ", printable(s))


def shorten(s, limit: int) -> str:
    """``s`` cut to at most ``limit`` characters, ending in an ellipsis when cut."""
    s = str(s)
    return s if len(s) <= limit else s[: max(limit - 1, 0)].rstrip() + "\u2026"


def html(s, newline: str = "<BR/>") -> str:
    """Escape text for an HTML-like DOT label, SVG or HTML: & < > " ' become entities.

    Newlines become ``newline`` (``<BR/>`` for a DOT HTML label; pass ``"<br>"`` for an
    HTML page). Braces, bars and backslashes are plain characters there and stay as they are.
    """
    s = printable(s)
    s = (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
         .replace('"', "&quot;").replace("'", "&#39;"))
    return s.replace("\r\n", "\n").replace("\n", newline)


def dot_html(s, newline: str = "<BR/>") -> str:
    """Escape text for an HTML-like DOT label: html() plus doubled backslashes; tabs as spaces.

    Graphviz decodes entities and then expands escapes such as ``\\G`` (the graph's name)
    even in HTML labels; a doubled backslash is the one form it prints as one backslash.
    """
    return html(str(s).replace("\t", " "), newline).replace("\\", "\\\\")


def dot_string(s) -> str:
    """Escape text for the inside of a double-quoted DOT string, to be read back literally.

    ``\\`` doubles (so ``\\N`` or ``\\G`` is never expanded), ``"`` is backslashed, ``&``
    becomes ``&amp;`` (Graphviz decodes entities in strings), a newline becomes ``\\n``.
    """
    s = printable(s)
    s = s.replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;")
    return s.replace("\r\n", "\n").replace("\n", "\\n")


def script_json(obj) -> str:
    """JSON safe to place inside ``<script>``: no ``</script>``, ``<!--`` or line separators."""
    s = json.dumps(obj, ensure_ascii=False, allow_nan=False)
    return (s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
