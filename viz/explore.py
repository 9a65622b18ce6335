"""An interactive, offline HTML page of a graph and its gradients over training time.

``explore(source, path=None, *, model=None, ...)`` draws the graph that a :class:`Recorder`
recorded (or the graph behind one Value) once, with Graphviz, and wraps the SVG in one
self-contained page: no network, no CDN (a Content-Security-Policy forbids every request),
the script, the style and the data inline.

What the page does
------------------
* pan (drag) and zoom (wheel, or the + / - / fit buttons) the graph;
* module clusters collapse and expand (click a cluster's title; "collapse all");
* a click on a node, an edge or a collapsed module opens a panel with its numbers at the
  current step and histograms of its values and gradients, and a line of its gradient over
  the recorded steps;
* for a Recorder: a step slider, a play button and the arrow keys (Home, End, space) move
  through the recorded steps; nodes and edges are recoloured by the gradient's RMS (on one
  scale for all steps, or relative to the gradient nearest the output at that step), ReLU and
  saturating nodes show their dead or saturated fraction and a strip of their units; a small
  loss chart marks the current step (a click on it jumps).

Graphs with more than ``max_nodes`` nodes are drawn one node per module (the module's output),
with a note on the page. The data is compact JSON, numbers rounded to 4 significant digits
and stored per statistic as one array over the steps.

``Explorer`` (what ``explore`` returns): ``.html`` is the page, ``str()`` a one-line
description, ``save(path)`` writes the page (atomically), ``_repr_html_()`` shows it in Jupyter
inside a sandboxed iframe, so several on one notebook page work independently.

Every text a user supplies (labels, parameter and module names, the title, op names) reaches
the page escaped for where it lands: DOT strings for the drawing, JSON with ``<``, ``>``, ``&``
and the line separators escaped inside the script, entities in HTML. The page is assembled in
one pass over its template, so no value is ever searched for markers.
"""
from __future__ import annotations

import html as _html
import math
import os
import re
from pathlib import Path

import numpy as np

from tinygrad_lite.files import write_text

from . import escape as esc
from .recorder import Recorder

__all__ = ["explore", "Explorer", "write_explorer"]

ASSETS = Path(__file__).resolve().parent / "assets"
STATS = {  # JSON name -> Recorder statistic (per node, one value per step)
    "mean": "mean", "std": "std", "gm": "grad_mean", "gs": "grad_std", "gn": "grad_norm",
    "dead": "dead", "sat": "saturated", "sata": "saturated_act",
}
CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
       "img-src data:; font-src data:")


class Explorer:
    """The page ``explore`` made: ``.html``, ``save(path)``, inline in Jupyter.

    Attributes: ``html`` (the page), ``nodes`` (drawn nodes), ``collapsed`` (True when the
    graph was drawn one node per module), ``note`` (what the page says about it), ``path``.
    ``str()`` and ``repr()`` are one line describing it; ``.html`` is the page.
    """

    def __init__(self, html: str, nodes: int, collapsed: bool, note: str, height: int,
                 path: str | None = None):
        self.html = html
        self.nodes = nodes
        self.collapsed = collapsed
        self.note = note
        self.height = height
        self.path = path

    def __str__(self) -> str:
        return repr(self)

    def __repr__(self):
        kb = len(self.html.encode("utf-8")) / 1024
        where = f", saved to {self.path!r}" if self.path else ""
        return f"Explorer({self.nodes} nodes, {kb:.0f} KiB of HTML in .html{where})"

    def save(self, path) -> str:
        """Write the page to ``path`` (UTF-8, atomically: a failure part-way leaves the
        previous file as it was); returns the path as a string."""
        p = Path(path)
        if p.parent and not p.parent.exists():
            p.parent.mkdir(parents=True, exist_ok=True)
        self.path = write_text(p, self.html)
        return self.path

    def iframe(self, height: int | None = None) -> str:
        """The page inside an ``<iframe srcdoc>``: its own document, so several never share
        ids, keys or state."""
        h = height or self.height
        return (f'<iframe class="tgl-explorer" srcdoc="{_html.escape(self.html, quote=True)}" '
                f'style="width:100%;height:{h}px;border:1px solid #ccc" '
                f'sandbox="allow-scripts" title="gradient flow explorer"></iframe>')

    def _repr_html_(self) -> str:
        return self.iframe()


def explore(source, path=None, *, model=None, params=None, title=None, max_nodes=300,
            rankdir="TB", renderer=None, height=760, mark_fraction=0.1,
            grad_range=None) -> Explorer:
    """One offline HTML page to explore a graph's gradients, over the recorded steps.

    source: a :class:`viz.Recorder` (a slider over its steps) or a Value after ``backward()``
    (one step). model: a Module (names and module clusters; with a Value, nodes join the
    module of their nearest parameter) or the trace of ``with viz.trace_modules(model) as
    trace:`` (exact clusters); params: a dict naming leaves. max_nodes: larger graphs are drawn
    one node per module. rankdir: "TB" or "LR". renderer: None, "system" or "graphviz-pure"
    (as draw_graph). mark_fraction: the dead or saturated fraction from which a node's border
    turns red or orange. grad_range: (low, high) gradient RMS spanned by the colour scale
    (default ``rec.grad_rms_range()``; give several pages the same to compare their colours).
    Writes the page to ``path`` when given; returns an Explorer.
    """
    from tinygrad_lite import Value

    if isinstance(source, Recorder):
        rec = source
    elif isinstance(source, Value):
        rec = _one_step(source, model, params)
    else:
        raise TypeError(f"explore: source must be a viz.Recorder or a Value, not "
                        f"{type(source).__name__}")
    if not rec.steps:
        raise ValueError("explore: the Recorder has recorded no step yet: call "
                         "rec.record(loss, step) after loss.backward()")
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"explore: rankdir must be 'TB' or 'LR', not {rankdir!r}")
    if not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"explore: max_nodes must be a positive int, not {max_nodes!r}")
    classes = rec.module_classes
    if not classes and model is not None:
        m = getattr(model, "model", model)
        if hasattr(m, "named_modules"):
            classes = {n: type(x).__name__ for n, x in m.named_modules()}
    layout = _layout(rec, max_nodes)
    if grad_range is None:
        grad_range = rec.grad_rms_range()
    elif not (len(grad_range) == 2 and 0 < grad_range[0] <= grad_range[1]):
        raise ValueError(f"explore: grad_range must be (low, high) with 0 < low <= high, not "
                         f"{grad_range!r}")
    data = _data(rec, layout, classes, title, mark_fraction)
    data["domain"] = (None if grad_range is None else
                      [math.log10(grad_range[0]), math.log10(grad_range[1])])
    dot = _dot(rec, layout, classes, data, rankdir)
    from .render import render_source

    svg = render_source(dot, "svg", prefer=renderer).decode("utf-8")
    page = _page(_clean_svg(svg), data, title)
    ex = Explorer(page, len(layout["draw"]), layout["collapsed"], layout["note"], height)
    if path is not None:
        ex.save(path)
    return ex


def write_explorer(source, folder, name, *, title=None, height=760, **kwargs) -> tuple:
    """Write ``folder/name`` (an explorer page) for a report; returns ``(path, html)`` where
    html is a block that links the page and embeds it (an iframe with ``src=name``)."""
    path = os.path.join(str(folder), name)
    ex = explore(source, path, title=title, height=height, **kwargs)
    label = esc.html(title or name)
    block = (f'<figure class="explorer"><iframe src="{esc.html(name)}" loading="lazy" '
             f'sandbox="allow-scripts" style="width:100%;height:{height}px;border:1px solid #ccc" '
             f'title="{label}"></iframe><figcaption>{label}: gradient flow over the recorded '
             f'steps (<a href="{esc.html(name)}">open the explorer on its own page</a>)'
             f"</figcaption></figure>")
    return ex.path or path, block


# -- one Value --------------------------------------------------------------------------------
def _one_step(root, model, params) -> Recorder:
    """A Recorder holding one step: the graph behind ``root`` as it is now."""
    trace_calls = getattr(model, "calls", None)
    module = getattr(model, "model", model) if trace_calls is not None else model
    rec = Recorder(module if hasattr(module, "named_parameters") else None, params=params)
    rec.close()  # the forward pass is over: hooks would see nothing
    if trace_calls is not None:
        from .recorder import _weak_values

        rec._calls.extend((name, _weak_values(ins), _weak_values(outs))
                          for name, _cls, ins, outs in trace_calls)
    rec.record(root, step=0)
    return rec


# -- what is drawn ------------------------------------------------------------------------------
def _layout(rec: Recorder, max_nodes: int) -> dict:
    """Drawn nodes (each one recorded node, or one module's nodes), edges between them."""
    keys = list(rec.nodes)
    level = None
    if len(keys) > max_nodes:
        depth = max((len(m.module.split(".")) for m in rec.nodes.values() if m.module),
                    default=0)
        for lv in range(depth, 0, -1):
            n = len({_group_of(rec.nodes[k].module, lv) or ("node", k) for k in keys})
            if n <= max_nodes:
                level = lv
                break
        if level is None:
            from .info import GraphTooLargeError

            hint = ("record with viz.Recorder(model) so that nodes are grouped by module"
                    if depth == 0 else "even one node per top-level module is too many")
            raise GraphTooLargeError(
                f"explore: {len(keys):,} nodes, more than max_nodes={max_nodes}; {hint}, or "
                f"raise max_nodes")
    draw: list[dict] = []
    where: dict[str, int] = {}
    groups: dict[str, int] = {}
    for k in keys:
        g = _group_of(rec.nodes[k].module, level) if level is not None else None
        if g is None:
            where[k] = len(draw)
            draw.append({"keys": [k], "group": None})
        else:
            if g not in groups:
                groups[g] = len(draw)
                draw.append({"keys": [], "group": g})
            draw[groups[g]]["keys"].append(k)
            where[k] = groups[g]
    for item in draw:
        if len(item["keys"]) == 1:
            item["group"] = None  # a module of one node (an activation layer) is that node
    edges: list[dict] = []
    seen: dict[tuple, int] = {}
    leaving: dict[int, list] = {}
    for ek in rec.edges:
        s, d = where[ek[0]], where[ek[1]]
        if s == d:
            continue
        leaving.setdefault(s, []).append(ek[0])
        if (s, d) in seen:
            edges[seen[s, d]]["count"] += 1
            continue
        seen[s, d] = len(edges)
        edges.append({"s": s, "d": d, "edge": ek, "count": 1})
    for i, item in enumerate(draw):  # a module's numbers: those of its output
        ks = item["keys"]
        outs = [k for k in ks if k in set(leaving.get(i, ()))]
        item["rep"] = (outs or ks)[-1]
        item["params"] = [k for k in ks if rec.nodes[k].kind == "param"] if item["group"] else []
    note = ""
    if level is not None:
        note = (f"This graph has {len(keys):,} nodes, more than max_nodes={max_nodes}: each "
                f"module is drawn as one node (the numbers are those of its output; its "
                f"parameters are listed in its panel). explore(..., max_nodes={len(keys)}) "
                f"draws every node.")
    return {"draw": draw, "edges": edges, "collapsed": level is not None, "note": note,
            "level": level}


def _group_of(module: str | None, level: int | None) -> str | None:
    if not module or level is None:
        return None
    return ".".join(module.split(".")[:level])


# -- the data -------------------------------------------------------------------------------
def _r(x):
    """A number rounded to 4 significant digits for the page (strings for nan and inf)."""
    if x is None:
        return None
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return int(x)
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return float(f"{x:.4g}")


def _col(values):
    """One statistic over the steps, or None when it never applies."""
    if all(v is None for v in values):
        return None
    return [_r(v) for v in values]


def _hist_col(values):
    if all(v is None for v in values):
        return None
    return [None if h is None else [_r(h[0]), _r(h[1])] + [int(c) for c in h[2]]
            for h in values]


def _data(rec: Recorder, layout: dict, classes: dict, title, mark_fraction) -> dict:
    draw = layout["draw"]
    hidden: list[str] = []  # parameters of collapsed modules: numbers for their panels
    for item in draw:
        hidden += [k for k in item["params"] if k != item["rep"]]
    rows = [item["rep"] for item in draw] + hidden
    index = {k: i for i, k in enumerate(hidden, start=len(draw))}
    names = _display_names(rec)
    nodes = []
    for i, k in enumerate(rows):
        m = rec.nodes[k]
        entry = {"k": k, "op": m.op, "kind": m.kind, "shape": list(m.shape), "m": m.module,
                 "g": m.group, "d": m.depth, "u": m.units, "lab": m.label, "dt": m.dtype}
        if i < len(draw) and draw[i]["group"] is not None:
            g = draw[i]["group"]
            entry.update(kind="module", name=f"module {g}", path=g, cls=classes.get(g, "module"),
                         members=len(draw[i]["keys"]), out=names[k],
                         p=[index.get(p, i) for p in draw[i]["params"]])
        else:
            entry["name"] = names[k]
        nodes.append(entry)
    S = {js: [_col(rec.columns(k)[stat]) for k in rows] for js, stat in STATS.items()}
    H = {"v": [_hist_col(rec.columns(k)["hist"]) for k in rows],
         "g": [_hist_col(rec.columns(k)["grad_hist"]) for k in rows]}
    strip = [None if all(s is None for s in rec.columns(k)["strip"]) else
             list(rec.columns(k)["strip"]) for k in rows]
    edges: list[dict] = []
    ES: dict[str, list] = {"up": [], "lo": [], "dn": []}
    for e in layout["edges"]:
        meta = rec.edges[e["edge"]]
        edges.append({"s": e["s"], "d": e["d"], "i": meta.index, "r": meta.rule, "c": e["count"],
                      "k": list(e["edge"])})
        cols = rec.edge_columns(e["edge"])
        ES["up"].append(_col(rec.columns(meta.dst)["grad_norm"]))
        ES["lo"].append(_col(cols["local_norm"]))
        ES["dn"].append(_col(cols["down_norm"]))
    clusters = _clusters(rec, layout, classes)
    return {
        "title": title or "Gradient flow over training", "note": layout["note"],
        "steps": list(rec.steps), "loss": [_r(x) for x in rec.losses],
        "nodes": nodes, "ndraw": len(draw), "edges": edges, "clusters": clusters,
        "S": S, "H": H, "strip": strip, "ES": ES, "ref": _references(rec, rows[:len(draw)]),
        "bins": rec.bins, "saturation": rec.saturation, "mark": mark_fraction,
        "root": next((i for i, k in enumerate(rows) if rec.nodes[k].depth == 0), None),
    }


def _display_names(rec: Recorder) -> dict[str, str]:
    """Recorder identity -> the name a person reads: a parameter's dotted name, a label, "data",
    or the op and its module ("+ in module 0", "relu in module 1, the 2nd"); the identity
    itself ("0 + #0") stays in the panel, as the key for ``rec.series``."""
    count: dict[tuple, int] = {}
    for m in rec.nodes.values():
        if m.kind != "param" and not m.label:
            count[m.kind, m.module, m.op] = count.get((m.kind, m.module, m.op), 0) + 1
    seen: dict[tuple, int] = {}
    out = {}
    for key, m in rec.nodes.items():
        if m.kind == "param":
            out[key] = key
            continue
        if m.label:
            out[key] = f"{m.label} ({m.op})" if m.kind == "op" else m.label
            continue
        what = (m.kind, m.module, m.op)
        k = seen[what] = seen.get(what, 0) + 1
        base = "data" if m.kind == "input" else (f"{m.op} in module {m.module}" if m.module
                                                 else m.op)
        if count[what] > 1:
            base += f" {k}" if m.kind == "input" else f", the {_ordinal(k)}"
        out[key] = base
    return out


def _ordinal(k: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(k if k < 20 else k % 10, f"{k}th")


def _references(rec: Recorder, rows: list) -> dict:
    """Per group and step: the gradient RMS nearest the output (the relative colour's 1)."""
    out = {}
    n = len(rec.steps)
    groups: dict[str, list] = {}
    for k in rows:
        m = rec.nodes[k]
        if m.depth > 0 or len(rows) == 1:
            groups.setdefault(m.group, []).append(m)
    for g, metas in groups.items():
        col: list = []
        for j in range(n):
            cands = []
            for m in metas:
                gn = rec.columns(m.key)["grad_norm"][j]
                if gn is not None and math.isfinite(gn) and gn > 0:
                    cands.append((m, gn / math.sqrt(max(m.size, 1))))
            if any(m.size > 1 for m, _ in cands):
                cands = [(m, r) for m, r in cands if m.size > 1]
            if not cands:
                col.append(None)
                continue
            dmin = min(m.depth for m, _ in cands)
            col.append(_r(max(r for m, r in cands if m.depth == dmin)))
        out[g] = col
    act = out.get("activation")
    for g in ("activation", "param-matrix", "param-vector"):
        if g not in out or all(x is None for x in out[g]):
            out[g] = act if act is not None else [None] * n
    return out


def _clusters(rec: Recorder, layout: dict, classes: dict) -> list:
    """Module clusters: path, class, drawn members (nested paths included), output node."""
    draw = layout["draw"]
    paths: dict[str, list] = {}
    for i, item in enumerate(draw):
        mod = item["group"] if item["group"] is not None else rec.nodes[item["keys"][0]].module
        if not mod:
            continue
        parts = mod.split(".")
        top = len(parts) - (1 if item["group"] is not None else 0)
        for n in range(1, top + 1):
            paths.setdefault(".".join(parts[:n]), []).append(i)
    out: list[dict] = []
    for path, members in paths.items():
        if len(members) < 2:
            continue  # a module of one node (an activation layer): the node says it all
        c = len(out)
        inside = set(members)
        leaving = [e["s"] for e in layout["edges"] if e["s"] in inside and e["d"] not in inside]
        out.append({"id": f"c{c}", "m": path, "cls": classes.get(path, ""),
                    "nodes": members, "out": (leaving or members)[-1]})
    return out


# -- the drawing ------------------------------------------------------------------------------
def _dot(rec: Recorder, layout: dict, classes: dict, data: dict, rankdir: str) -> str:
    draw = layout["draw"]
    lines = ["digraph explorer {",
             f'  graph [rankdir={rankdir} nodesep=0.3 ranksep=0.45 fontname="Helvetica" '
             f'bgcolor="transparent" newrank=true]',
             '  node [shape=box style="rounded,filled" fillcolor="#ffffff" color="#555555" '
             f'fontname="Helvetica" fontsize={FONT_SIZE} margin="0.12,0.04"]',
             '  edge [color="#888888" arrowsize=0.6]']
    node_lines = {}
    for i in range(len(draw)):
        n = data["nodes"][i]
        node_lines[i] = f'n{i} [id="n{i}" label="{_label(n)}"{_node_style(n)}]'
    by_cluster = {c["m"]: c for c in data["clusters"]}
    # nest: a node goes into its deepest cluster
    tree: dict = {"nodes": [], "children": {}}
    for i in range(len(draw)):
        n = data["nodes"][i]
        mod = n["path"] if n["kind"] == "module" else n["m"]
        place = tree
        if mod:
            parts = mod.split(".")
            top = len(parts) - (1 if n["kind"] == "module" else 0)
            for k in range(1, top + 1):
                p = ".".join(parts[:k])
                if p in by_cluster:
                    place = place["children"].setdefault(p, {"nodes": [], "children": {}})
        place["nodes"].append(i)

    # a parameter used once sits beside its op, not above it: the main path stays one
    # straight column (above, it would share a rank with the previous module's output,
    # and the module boxes would step sideways layer after layer)
    uses: dict[int, list] = {}
    for e in data["edges"]:
        uses.setdefault(e["s"], []).append(e["d"])
    main_inputs = {e["d"] for e in data["edges"]
                   if data["nodes"][e["s"]]["kind"] not in ("param", "input")}
    beside = {s: ds[0] for s, ds in uses.items()
              if len(ds) == 1 and data["nodes"][s]["kind"] == "param" and ds[0] in main_inputs}

    def emit(branch, pad):
        here = set(branch["nodes"])
        for i in branch["nodes"]:
            lines.append(pad + node_lines[i])
        for p, v in beside.items():
            if p in here and v in here:
                lines.append(f"{pad}{{rank=same; n{p}; n{v}}}")
        for path, sub in branch["children"].items():
            c = by_cluster[path]
            cls = classes.get(path)
            label = esc.dot_string(f"{path} ({cls})" if cls else path)
            lines.append(f"{pad}subgraph cluster_{c['id']} {{")
            lines.append(f'{pad}  id="{c["id"]}" label="{label}" labeljust=l labelloc=t '
                         f'style="rounded,dashed" color="#8c8c8c" fontsize={FONT_SIZE - 1} '
                         f'fontcolor="#444444"')
            emit(sub, pad + "  ")
            lines.append(pad + "}")

    emit(tree, "  ")
    for k, e in enumerate(data["edges"]):
        side = data["nodes"][e["s"]]["kind"] in ("param", "input")
        # the main path (activation to activation) pulls harder: it stays straight
        lines.append(f'  n{e["s"]} -> n{e["d"]} [id="e{k}"{"" if side else " weight=4"}]')
    lines.append("}")
    return "\n".join(lines) + "\n"


FONT_SIZE = 12  # of node text, in the drawing's units: the page opens at >= 0.95 px per unit
_GRAD_SLOT = "|grad| \u2007-0.000e-00 \u2007"  # room for the longest number a step shows
_UNIT_SLOT = "0000 of 0000 units dead (100%)\u2007"  # and for the longest unit line


def _label(n: dict) -> str:
    shape = "(" + ", ".join(str(d) for d in n["shape"]) + (",)" if len(n["shape"]) == 1 else ")")
    if n["kind"] == "module":
        second = f"{n['cls']}, {n['members']} nodes"
    elif n["kind"] == "op":
        second = f"op {n['op']}, output {shape}"
    else:
        second = f"{'parameter' if n['kind'] == 'param' else 'data'} {shape}"
    lines = [n["name"], second, _GRAD_SLOT]
    if n["u"] is not None:
        lines += [_UNIT_SLOT, "\u2007"]  # the unit strip is drawn on the last line
    return "\\n".join(esc.dot_string(x) for x in lines)


def _node_style(n: dict) -> str:
    if n["kind"] == "param":
        return ' fillcolor="#fff3c4"'
    if n["kind"] == "input":
        return ' fillcolor="#ececec" color="#aaaaaa"'
    if n["kind"] == "module":
        return ' penwidth=1.5'
    return ""


def _clean_svg(svg: str) -> str:
    """The <svg> element alone, without the XML prologue, DOCTYPE, comments, namespace names
    (the HTML parser supplies them) or the <title>s Graphviz gives every element."""
    start = svg.find("<svg")
    svg = svg[start:] if start >= 0 else svg
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    svg = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg)
    svg = re.sub(r"<title>.*?</title>\n?", "", svg, flags=re.S)
    return svg


# -- the page ---------------------------------------------------------------------------------
def _asset(name: str) -> str:
    try:
        return (ASSETS / name).read_text(encoding="utf-8")
    except OSError as e:
        raise FileNotFoundError(f"explore: the page's {name} is missing from {ASSETS} "
                                f"(a broken install?): {e}") from None


def _page(svg: str, data: dict, title) -> str:
    return _fill(_PAGE, {
        "CSP": CSP, "TITLE": esc.html(title or "Gradient flow over training", newline=" "),
        "STYLE": _asset("explore.css"), "SVG": svg, "DATA": esc.script_json(data),
        "SCRIPT": _asset("explore.js")})


_MARKER = re.compile(r"\{\{([A-Z]+)\}\}")


def _fill(template: str, values: dict[str, str]) -> str:
    """``template`` with each ``{{NAME}}`` replaced by ``values[NAME]`` in one pass: values
    (escaped already) are inserted, never searched, so a title holding ``{{SVG}}`` stays text."""
    return _MARKER.sub(lambda m: values[m.group(1)], template)


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{CSP}}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{TITLE}}</title>
<style>
{{STYLE}}</style>
</head>
<body>
<header id="bar">
  <div id="title">{{TITLE}}</div>
  <div id="controls">
    <button id="first" title="first step (Home)">|&#x25C0;</button>
    <button id="prev" title="previous step (left arrow)">&#x25C0;</button>
    <button id="play" title="play / pause (space)">&#x25B6; play</button>
    <button id="next" title="next step (right arrow)">&#x25B6;</button>
    <button id="last" title="last step (End)">&#x25B6;|</button>
    <input id="slider" type="range" min="0" max="0" value="0" step="1"
           aria-label="recorded step">
    <span id="counter"></span>
  </div>
  <div id="tools">
    <label title="colour by gradient RMS on one scale for every step, or relative to the
gradient nearest the output at this step">colour:
      <select id="mode"><option value="abs">gradient RMS</option>
        <option value="rel">relative to output</option></select></label>
    <button id="collapse-all" title="collapse every module">collapse all</button>
    <button id="expand-all" title="expand every module">expand all</button>
    <button id="zoom-in" title="zoom in (+)">+</button>
    <button id="zoom-out" title="zoom out (-)">&minus;</button>
    <button id="fit" title="fit the graph (0)">fit</button>
  </div>
</header>
<div id="note" hidden></div>
<main id="main">
<aside id="side">
  <section id="loss-box"><h3>loss</h3><svg id="loss" width="300" height="110"></svg></section>
  <section id="heat-box"><h3>gradient RMS of every op, by step</h3>
    <div id="heat"></div></section>
  <section id="legend-box"><h3>what the colours mean</h3><div id="legend"></div></section>
  <section id="panel"><p class="hint">Click a node, an edge or a module to see its numbers.
  Drag to pan, wheel to zoom; click a module's title to collapse it.</p></section>
</aside>
<div id="graph">{{SVG}}</div>
</main>
<script type="application/json" id="tgl-data">{{DATA}}</script>
<script>
{{SCRIPT}}</script>
</body>
</html>
"""
