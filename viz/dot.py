"""DOT text for a measured graph: node and edge labels, clusters, the legend, escaping.

``graph_body(info, classes, ...)`` turns a :class:`GraphInfo` into the lines of a DOT
digraph's body; viz.draw wraps them in a graphviz object. Strings only: no graphviz import.

What the picture shows
----------------------
* Node: name and op, value (one element) or shape with mean and std, gradient (one element)
  or gradient norm with its colour on the gradient scale; hovering shows every statistic.
* Edge ``p -> v``: upstream x local = downstream; colour and width follow the downstream
  gradient relative to the reference.
* Marks: dead (red), saturated (orange), vanishing (violet), exploding (magenta), with a
  strip of cells, one per unit, for activations.

Every user-supplied string goes through viz.escape.
"""
from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

from . import escape as esc
from .info import EdgeInfo, GraphInfo, NodeInfo, fmt, norm, ratio, shape_text

__all__ = ["graph_body", "legend_label", "grad_colour", "GRAPH_ATTR", "NODE_ATTR", "EDGE_ATTR"]

DEAD = "#d73027"
SATURATED = "#f28e2b"
VANISHING = "#8073ac"
EXPLODING = "#c51b7d"
HEALTHY = "#a6d96a"
KIND_FILL = {"param": "#fff3c4", "input": "#ececec", "const": "#f4f4f4", "op": "#dbe9f6",
             "module": "#e3f1dc", "more": "#ffffff"}
STATUS_COLOUR = {"dead": DEAD, "saturated": SATURATED, "vanishing": VANISHING,
                 "exploding": EXPLODING, "non-finite": EXPLODING}
# gradient scale: log10(gradient RMS / reference) -> colour
_RAMP = [(-6.0, (0xf2, 0xf2, 0xf2)), (-3.0, (0xc6, 0xdb, 0xef)), (-1.0, (0x6b, 0xae, 0xd6)),
         (0.0, (0x31, 0x82, 0xbd)), (2.0, (0x08, 0x45, 0x94)), (3.0, (0xc5, 0x1b, 0x7d))]

# One font for every text, and the one the layout measures: DejaVu Sans is on every Linux and
# ships with matplotlib; Graphviz (and graphviz-pure) know its metrics, so boxes fit their
# text wherever the SVG is shown with it. It is among the widest sans fonts, so where a viewer
# substitutes another (the SVG names sans-serif as the fallback), text is narrower, never
# wider, than its box.
FONT = "DejaVu Sans"
GRAPH_ATTR = {"nodesep": "0.25", "ranksep": "0.15", "fontname": FONT,
              "bgcolor": "white", "newrank": "true"}
NODE_ATTR = {"shape": "plaintext", "fontname": FONT, "fontsize": "11", "margin": "0"}
EDGE_ATTR = {"fontname": FONT, "fontsize": "9", "arrowsize": "0.6", "fontcolor": "#333333"}
NAME_LIMIT = 40  # characters of a name, op or module shown in the picture (all in the tooltip)
TITLE_LIMIT = 160  # characters of a title shown in the picture


def _hex(rgb) -> str:
    r, g, b = (int(round(c)) for c in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def _mix(c0: str, c1: str, t: float) -> str:
    a = [int(c0[i:i + 2], 16) for i in (1, 3, 5)]
    b = [int(c1[i:i + 2], 16) for i in (1, 3, 5)]
    t = min(max(t, 0.0), 1.0)
    return _hex([x + (y - x) * t for x, y in zip(a, b, strict=True)])


def grad_colour(rel) -> str:
    """Colour of a gradient whose RMS is ``rel`` times the reference (None: white)."""
    if rel is None:
        return "#ffffff"
    if not math.isfinite(rel):
        return EXPLODING
    if rel <= 0:
        return _hex(_RAMP[0][1])
    x = math.log10(rel)
    if x <= _RAMP[0][0]:
        return _hex(_RAMP[0][1])
    for (x0, c0), (x1, c1) in pairwise(_RAMP):
        if x <= x1:
            t = (x - x0) / (x1 - x0)
            return _hex([a + (b - a) * t for a, b in zip(c0, c1, strict=True)])
    return _hex(_RAMP[-1][1])


def _text_colour(bg: str) -> str:
    r, g, b = (int(bg[i:i + 2], 16) for i in (1, 3, 5))
    return "#ffffff" if 0.299 * r + 0.587 * g + 0.114 * b < 140 else "#000000"


_PRIORITY = ("dead", "saturated", "non-finite", "exploding", "vanishing")


def _node_html(n: NodeInfo, s: dict, digits: int) -> str:
    h = esc.dot_html
    rows = []
    small = n.kind in ("input", "const")
    if n.kind == "more":
        return (f'<<TABLE BORDER="1" STYLE="dashed" COLOR="#888888" CELLBORDER="0" '
                f'CELLPADDING="4"><TR><TD>... {n.members:,} more nodes beyond depth '
                f'{n.depth - 1}</TD></TR><TR><TD><FONT POINT-SIZE="9">draw_graph(..., '
                f'depth=N) with a larger N shows more</FONT></TD></TR></TABLE>>')
    # header: name and op (one line each, cut to NAME_LIMIT; the tooltip has them in full)
    name = None if esc.is_blank(n.name) else _short_name(n.name)
    op_text = None if esc.is_blank(n.op_label) else _short_name(n.op_label)
    op = f"<I>{h(op_text)}</I>" if op_text else ""
    if name is not None:
        head = f"<B>{h(name)}</B>" + (f"  {op}" if op else "")
    elif op_text:
        head = f"<B>{h(op_text)}</B>"
    else:
        head = f"<I>{n.kind}</I>"
    if n.kind == "module" and n.members > 1:
        head += f' <FONT POINT-SIZE="9">({n.members} nodes)</FONT>'
    rows.append(f"<TR><TD>{head}</TD></TR>")
    # value
    if n.value is not None and not n.shape:
        val = f"data {fmt(n.value, digits)}"
    elif n.value is not None:
        val = f"{shape_text(n.shape)} data {fmt(n.value, digits)}"
    elif n.mean is not None:
        val = f"{shape_text(n.shape)} mean {fmt(n.mean, 3)} std {fmt(n.std, 3)}"
    else:
        val = shape_text(n.shape)
    if n.dtype not in ("float64", ""):
        val += f" {n.dtype}"
    rows.append(f'<TR><TD><FONT POINT-SIZE="{9 if small else 10}">{h(val)}</FONT></TD></TR>')
    # gradient (the cell has an id, for the animation, and so its own copy of the tooltip)
    tip = h(n.summary(), newline="&#10;")
    if n.reached:
        if n.grad is not None:
            gtxt = f"grad {fmt(n.grad, digits)}"
        else:
            gtxt = f"grad norm {fmt(n.grad_norm, 3)}"
            if n.grad_rel is not None:
                gtxt += f"  (rms {ratio(n.grad_rel)}\u00d7 ref)"
        bg = grad_colour(n.grad_rel) if n.grad_rel is not None else "#ffffff"
        rows.append(f'<TR><TD BGCOLOR="{bg}" ID="{n.id}_grad" TOOLTIP="{tip}">'
                    f'<FONT COLOR="{_text_colour(bg)}">{h(gtxt)}</FONT></TD></TR>')
    elif n.kind not in ("input", "const"):
        rows.append(f'<TR><TD ID="{n.id}_grad" TOOLTIP="{tip}"><FONT '
                    f'COLOR="#888888">grad None</FONT></TD></TR>')
    for p_name, p_shape, p_gn in n.params:
        rows.append(f'<TR><TD><FONT POINT-SIZE="9">{h(p_name)} {shape_text(p_shape)} |grad| '
                    f'{fmt(p_gn, 3)}</FONT></TD></TR>')
    # unit health, judged on a batch; one example gets a quiet note instead
    one_fine_unit = n.units is not None and n.units <= 1 and not n.status
    if n.dead_fraction is not None and not one_fine_unit:
        txt = f"{100 * n.dead_fraction:.0f}% of units ({len(n.dead_units)}/{n.units})"
        rows.append(_status_row("dead" in n.status, DEAD, f"DEAD {n.reasons.get('dead', txt)}",
                                f"dead {txt}"))
    if n.saturated_fraction is not None and not one_fine_unit:
        txt = f"{100 * n.saturated_fraction:.0f}% (|f'| < {fmt(s['saturation'], 2)})"
        rows.append(_status_row("saturated" in n.status, SATURATED,
                                f"SATURATED {n.reasons.get('saturated', txt)}",
                                f"saturated {txt}"))
    gmark = f' ID="{n.id}_gmark" TOOLTIP="{tip}"'
    for st, colour in (("vanishing", VANISHING), ("exploding", EXPLODING),
                       ("non-finite", EXPLODING)):
        if st in n.status:
            rows.append(_status_row(True, colour, f"{st.upper()} {n.reasons.get(st, '')}", "",
                                    td=gmark))
    if ({"dead", "saturated"} & set(n.status)) and ({"vanishing", "exploding"} & set(n.status)):
        unit = "dead" if "dead" in n.status else "saturated"
        size = "large" if "exploding" in n.status else "small"
        both = (f"both: the gradient arriving here is {size}, and its {unit} units pass "
                f"little or none of it on")
        rows.append(f'<TR><TD><FONT POINT-SIZE="9" COLOR="#555555">{_wrapped(both)}'
                    f"</FONT></TD></TR>")
    for note in n.notes:
        rows.append(f'<TR><TD><FONT POINT-SIZE="9" COLOR="#555555">'
                    f'{_wrapped(note)}</FONT></TD></TR>')
    if n.unit_badness is not None and n.units and n.units > 1:
        rows.append(f"<TR><TD>{_strip(n)}</TD></TR>")
    marked = [x for x in _PRIORITY if x in n.status]
    border = STATUS_COLOUR[marked[0]] if marked else ("#aaaaaa" if small else "#555555")
    width = 3 if marked else 1
    fill = KIND_FILL.get(n.kind, "#ffffff")
    return (f'<<TABLE BORDER="{width}" COLOR="{border}" CELLBORDER="0" CELLSPACING="0" '
            f'CELLPADDING="{2 if small else 3}" BGCOLOR="{fill}">{"".join(rows)}</TABLE>>')


def _short_name(text) -> str:
    """A name, op or module as one line of at most NAME_LIMIT characters."""
    return esc.shorten(esc.one_line(text).strip(), NAME_LIMIT)


def _status_row(marked: bool, colour: str, loud: str, quiet: str, td: str = "") -> str:
    """A mark's row: loud (white on its colour) when marked, else a quiet grey line."""
    if marked:
        return (f'<TR><TD BGCOLOR="{colour}"{td}><FONT COLOR="{_text_colour(colour)}"><B>'
                f'{_wrapped(loud)}</B></FONT></TD></TR>')
    return f'<TR><TD><FONT POINT-SIZE="9" COLOR="#555555">{_wrapped(quiet)}</FONT></TD></TR>'


def _wrapped(text: str, width: int = 38) -> str:
    """Escaped text for a label cell, broken into lines of about ``width`` characters."""
    return "<BR/>".join(esc.dot_html(line) for line in textwrap.wrap(text, width) or [""])


def _strip(n: NodeInfo, cells=40) -> str:
    """One small cell per unit (units binned past ``cells``): green healthy, red or orange bad."""
    b = np.asarray(n.unit_badness, dtype=np.float64)
    bad = DEAD if n.dead_fraction is not None else SATURATED
    if b.size > cells:
        edges = np.linspace(0, b.size, cells + 1).astype(int)
        b = np.array([b[i:j].mean() for i, j in pairwise(edges)])
    w = max(3, min(10, 160 // max(len(b), 1)))
    tds = "".join(f'<TD BGCOLOR="{_mix(HEALTHY, bad, x)}" WIDTH="{w}" HEIGHT="7" FIXEDSIZE="TRUE">'
                  f"</TD>" for x in b)
    return (f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="1" CELLPADDING="0"><TR>{tds}</TR>'
            f"</TABLE>")


def _edge_lines(e: EdgeInfo, src: NodeInfo, dst: NodeInfo, digits: int,
                layout: str, sideways: bool = False) -> list[str]:
    """DOT statements for edge ``src -> dst``: the edge, or its label node and two halves.

    An edge with numbers is drawn as two edges through a small node that holds them
    (``src -> label -> dst``), so the numbers lie on their own edge, wherever the layout puts
    it: an edge label of Graphviz may sit nearer a neighbouring edge than its own where
    several edges meet one node. In the SVG, viz.draw puts the three back into one group,
    ``e_{src}_{dst}_{index}``, which holds the numbers too (as an edge label would).
    """
    eid = f"e_{e.src}_{e.dst}_{e.index}"
    attrs = [f'id="{eid}"', f'class="edge to-{e.dst}"']
    if e.src == "more":
        attrs += ['style="dashed"', 'color="#999999"', 'arrowhead="none"']
        return [f"\t{e.src} -> {e.dst} [{', '.join(attrs)}{layout}]\n"]
    if src.kind in ("input", "const") and not src.reached:
        tip = f"{_who(src)} -> {_who(dst)}: no gradient (requires_grad=False)"
        attrs += ['color="#b0b0b0"', 'style="dotted"', f'tooltip="{esc.dot_string(tip)}"']
        return [f"\t{e.src} -> {e.dst} [{', '.join(attrs)}{layout}]\n"]
    lines = e.text(digits)
    if e.down is None:
        colour, width = "#999999", 1.0
    elif e.down.size and not np.any(e.down):
        colour, width = DEAD, 1.5
        attrs.append('style="dashed"')
    elif e.down_rel is None:
        colour, width = "#555555", 1.2
    else:
        colour = grad_colour(e.down_rel)
        if colour == _hex(_RAMP[0][1]):
            colour = "#cccccc"
        t = 0.0 if e.down_rel <= 0 else min(max((math.log10(e.down_rel) + 6) / 6, 0.0), 1.0)
        width = 0.7 + 2.8 * t
    tip = esc.dot_string(_edge_tooltip(e, src, dst))
    attrs += [f'color="{colour}"', f'penwidth="{width:.2f}"', f'tooltip="{tip}"']
    if not lines:
        return [f"\t{e.src} -> {e.dst} [{', '.join(attrs)}{layout}]\n"]
    lid = f"{eid}_label"
    text = "<BR/>".join(esc.dot_html(x) for x in lines)
    # left to right, the edge enters the numbers at their left side: lines start there
    align = ' ALIGN="LEFT" BALIGN="LEFT"' if sideways else ""
    label = (f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1" '
             f'><TR><TD{align}><FONT POINT-SIZE="9" COLOR="#333333">{text}</FONT>'
             f"</TD></TR></TABLE>>")
    tail = [a.replace(f'id="{eid}"', f'id="{eid}_tail"') for a in attrs]
    out = [f'\t{lid} [id="{eid}_numbers", class="edge-label to-{e.dst}", tooltip="{tip}", '
           f"margin=0, width=0, height=0, label={label}]\n",
           f"\t{e.src} -> {lid} [{', '.join(tail)}, arrowhead=none{layout}]\n",
           f"\t{lid} -> {e.dst} [{', '.join(attrs)}{layout.replace(', minlen=2', '')}]\n"]
    return out


def _who(n: NodeInfo) -> str:
    """A node as a reader knows it: its name, else its op, else its kind (never its id)."""
    return esc.shorten(esc.one_line(n.name or n.op_label or n.kind), 60)


def _describe(a) -> str:
    if a is None:
        return "None"
    if isinstance(a, str):
        return a
    a = np.asarray(a)
    if a.size == 1:
        return fmt(a.item(), 6)
    if a.size == 0:
        return f"shape {shape_text(a.shape)} (empty)"
    af = a.astype(np.float64, copy=False)
    return (f"shape {shape_text(a.shape)} norm {fmt(norm(af))} mean {fmt(af.mean())} "
            f"min {fmt(af.min())} max {fmt(af.max())}")


def _edge_tooltip(e, src, dst) -> str:
    s, d = _who(src), _who(dst)
    return "\n".join([
        f"{s} -> {d}: input {e.index + 1} of {esc.one_line(dst.op_label or dst.op)}",
        f"upstream (the gradient reaching {d}): {_describe(e.up)}",
        f"local (d {d} / d {s}): {_describe(e.local)}",
        f"downstream (the gradient sent to {s}): {_describe(e.down)}",
    ])


def graph_body(info: GraphInfo, classes: dict, legend=True, digits=4,
               rankdir="TB") -> list[str]:
    """The lines of the DOT body: nodes (inside their module clusters), then edges.

    Layout: the data path (see ``spine``) shares one ``group``, which dot keeps in a straight
    line, so layers stack along the flow instead of drifting sideways; an edge between two
    modules spans two ranks (``minlen=2``), so a module's parameters sit below the previous
    module rather than beside it, and clusters follow one another instead of a staircase.
    """
    s = info.settings
    by_id = {n.id: n for n in info.nodes}
    on_spine = spine(info)
    node_lines = {}
    for n in info.nodes:
        cls = " ".join(["tgl", f"kind-{n.kind}"] + [f"status-{x}" for x in n.status])
        tip = esc.dot_string(n.summary()) if n.kind != "more" else "nodes not drawn"
        group = ', group="spine"' if n.id in on_spine else ""
        node_lines[n.id] = (f'{n.id} [id="{n.id}"{group}, class="{cls}", tooltip="{tip}", '
                            f"label={_node_html(n, s, digits)}]")
    # clusters: nested by dotted module names
    tree = _Cluster("")
    place_of: dict[str, _Cluster] = {}
    for n in info.nodes:
        place = tree
        if n.module:
            for p in _cluster_path(n.module, classes, is_module_node=n.kind == "module"):
                place = place.children.setdefault(p, _Cluster(p))
        place.nodes.append(n.id)
        place_of[n.id] = place
    # edges: an edge with numbers brings the node that holds them, in its ends' cluster
    edge_lines: list[str] = []
    for e in info.edges:
        src, dst = by_id[e.src], by_id[e.dst]
        layout = ""
        if e.src in on_spine and e.dst in on_spine:
            layout += ", weight=8"
        if src.module != dst.module and e.src != "more":
            layout += ", minlen=2"
        out = _edge_lines(e, src, dst, digits, layout, sideways=rankdir in ("LR", "RL"))
        if len(out) == 1:
            # no numbers: as long as an edge through a label node (one rank more between
            # modules, so an input sits above the first module's cluster, not beside it)
            longer = "minlen=3" if "minlen=2" in layout else "minlen=2"
            out = [out[0].replace(", minlen=2", "").replace("]\n", f", {longer}]\n")]
            edge_lines += out
            continue
        label_line, *halves = out
        if e.src in on_spine and e.dst in on_spine:
            label_line = label_line.replace(", class=", ', group="spine", class=', 1)
        lid = f"e_{e.src}_{e.dst}_{e.index}_label"
        node_lines[lid] = label_line.strip()
        place = place_of[e.dst]
        place.nodes.append(lid)
        edge_lines += halves
    lines: list[str] = []
    k = 0
    stack: list[tuple[_Cluster | None, int]] = [(tree, 1)]  # None closes a cluster
    while stack:
        branch, indent = stack.pop()
        pad = "\t" * indent
        if branch is None:
            lines.append(f"{pad}}}\n")
            continue
        if branch is not tree:
            mod_class = classes.get(branch.name)
            label = esc.dot_html(_short_name(branch.name)) + (
                f" ({esc.dot_html(_short_name(mod_class))})" if mod_class else "")
            lines.append(f"{pad}subgraph cluster_m{k} {{\n")
            lines.append(f'{pad}\tlabel=<<FONT POINT-SIZE="10">{label}</FONT>> '
                         f'style="rounded,dashed" color="#7f7f7f" fontname="{FONT}" '
                         f'labelloc=t labeljust=l id="cluster_m{k}"\n')
            k += 1
            pad += "\t"
            indent += 1
        for nid in branch.nodes:
            lines.append(f"{pad}{node_lines[nid]}\n")
        for sub in reversed(branch.children.values()):  # first child on top of the stack
            stack += [(None, indent), (sub, indent)]
    return lines + edge_lines


def spine(info: GraphInfo) -> set[str]:
    """The data path: node ids from the root back to an input, through the longest branch.

    From the root, each step goes to the input with the longest chain of ops behind it
    (ties: a data input before a parameter, then argument order): through activations, past
    weights and biases. Iterative; one pass over the nodes in trace order.
    """
    parents: dict[str, list[tuple[int, str]]] = {}
    for e in info.edges:
        if e.src != "more":
            parents.setdefault(e.dst, []).append((e.index, e.src))
    kind = {n.id: n.kind for n in info.nodes}
    height: dict[str, int] = {}
    for n in info.nodes:  # trace order: inputs before outputs
        height[n.id] = 1 + max((height.get(p, 0) for _, p in parents.get(n.id, ())), default=0)
    path: set[str] = set()
    nid: str | None = info.root_id
    while nid is not None and nid not in path:
        path.add(nid)
        cands = sorted(parents.get(nid, ()))
        best = max(cands, default=None,
                   key=lambda c: (height[c[1]], kind[c[1]] != "param", -c[0]))
        nid = best[1] if best is not None else None
    return path


@dataclass
class _Cluster:
    """A module's cluster: its own nodes, then its submodules' clusters."""

    name: str
    nodes: list[str] = field(default_factory=list)
    children: dict[str, _Cluster] = field(default_factory=dict)


def _cluster_path(module: str, classes: dict, is_module_node=False) -> list:
    parts = module.split(".")
    prefixes = [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
    if is_module_node:
        prefixes = prefixes[:-1]
    if classes:
        prefixes = [p for p in prefixes if p in classes]
    return prefixes


def legend_label(s: dict, title=None, legend=True, nodes=()) -> str:
    """The graph's label: an optional title, then the legend (what the text says, the colour
    scale, the marks).

    Rows on dead and saturated units, on one-example notes, on unit strips and on the ratio
    to the reference appear when the graph has nodes they apply to. Lines are wrapped, so
    that the legend stays narrower than a tall graph (about 380 pixels). A title longer than
    TITLE_LIMIT characters is cut; its tooltip holds all of it. A blank title draws nothing.
    """
    has_dead = any(n.dead_fraction is not None for n in nodes)
    has_sat = any(n.saturated_fraction is not None for n in nodes)
    has_one = any(n.examples == 1 and n.notes for n in nodes)
    has_strip = any(n.unit_badness is not None and (n.units or 0) > 1 for n in nodes)
    has_off_path = any(not n.data_path for n in nodes)
    has_rel = any(n.grad_rel is not None and n.grad is None for n in nodes)
    has_tensor = any(n.shape and n.size > 1 for n in nodes)
    has_both = any({"dead", "saturated"} & set(n.status) and {"vanishing", "exploding"}
                   & set(n.status) for n in nodes)
    stops = [(1e-6, "1e-6"), (1e-4, "1e-4"), (1e-2, "0.01"), (1e-1, "0.1"), (1.0, "1"),
             (1e2, "100"), (1e4, "&gt;1e3")]
    n = len(stops)
    rows = []
    if title is not None and not esc.is_blank(title):
        full = esc.dot_html(esc.one_line(title), newline=" ")
        shown = esc.shorten(esc.one_line(title).strip(), TITLE_LIMIT)
        rows.append(f'<TR><TD COLSPAN="{n}" ALIGN="LEFT" BALIGN="LEFT" TOOLTIP="{full}">'
                    f'<FONT POINT-SIZE="14"><B>{_wrapped(shown, 40)}</B></FONT></TD></TR>')
    if legend:
        cells = "".join(f'<TD BGCOLOR="{grad_colour(v)}" WIDTH="34" FIXEDSIZE="TRUE" HEIGHT="14">'
                        f'<FONT POINT-SIZE="8" COLOR="{_text_colour(grad_colour(v))}">{t}</FONT>'
                        f"</TD>" for v, t in stops)
        cells = (f'<TD COLSPAN="{n}" ALIGN="LEFT"><TABLE BORDER="0" CELLBORDER="0" '
                 f'CELLSPACING="1" CELLPADDING="0"><TR>{cells}</TR></TABLE></TD>')

        def text(t: str, width: int = 54) -> str:
            lines = textwrap.wrap(t, width)
            return '<BR ALIGN="LEFT"/>'.join(esc.dot_html(x) for x in lines) + \
                '<BR ALIGN="LEFT"/>'

        def row(colour: str, t: str) -> str:
            swatch = (f'<TABLE BORDER="0" CELLPADDING="0" CELLSPACING="0"><TR><TD BGCOLOR='
                      f'"{colour}" WIDTH="32" HEIGHT="11" FIXEDSIZE="TRUE"></TD></TR></TABLE>')
            return (f'<TR><TD VALIGN="TOP">{swatch}</TD>'
                    f'<TD COLSPAN="{n - 1}" ALIGN="LEFT" BALIGN="LEFT"><FONT POINT-SIZE="9">'
                    f"{text(t, 46)}</FONT></TD></TR>")

        def line(t: str) -> str:
            return (f'<TR><TD COLSPAN="{n}" ALIGN="LEFT" BALIGN="LEFT"><FONT POINT-SIZE="9">'
                    f"{text(t)}</FONT></TD></TR>")

        mark = f"{100 * s['mark_fraction']:.0f}%"
        marks = []
        if has_dead:
            marks.append(row(DEAD, f"dead: a ReLU unit <= 0 on every example of the batch, so "
                                   f"it passes no gradient back (marked from {mark} of units)"))
        if has_sat:
            marks.append(row(SATURATED, f"saturated: |f'| < {fmt(s['saturation'], 2)} "
                                        f"(sigmoid, tanh, ELU; marked from {mark} of "
                                        f"activations of the batch)"))
        if has_one:
            marks.append(row("#ffffff", "one example: dead and saturated are judged on a "
                                        "batch; a node notes what this example shows"))
        off_path = ("A branch the data never reaches, such as an L2 term scaled by its "
                    "strength, is coloured but not marked." if has_off_path else
                    "Branches without data (an L2 term) are not marked.")
        marks += [
            row(VANISHING, f"vanishing: on the data path (nodes that depend on the input "
                           f"data) a gradient rms < {fmt(s['vanishing'], 2)}\u00d7 ref: it "
                           f"shrank through the layers. {off_path}"),
            row(EXPLODING, f"exploding: on the data path a gradient rms > "
                           f"{fmt(s['exploding'], 2)}\u00d7 ref; or nan/inf anywhere"),
        ]
        if has_strip:
            marks.append(row(HEALTHY, "unit strip: one cell per unit, green healthy, red dead, "
                                      "orange saturated"))
        if has_both:
            marks.append(line("Dead and saturated judge what a node's units pass back (their "
                              "local gradient); vanishing and exploding judge the gradient "
                              "that arrives at the node. So one node can be both: dead and "
                              "exploding means a large gradient arrives and none passes on."))
        if any(n.kind == "module" and n.status for n in nodes):
            marks.append(line("A module's mark names the member that raised it and quotes "
                              "that member's number."))
        edges = ("An edge carries the gradient back from an op to one input: up \u00d7 local "
                 "= down, with up the gradient reaching the op, local d(op)/d(input), "
                 "down the gradient sent to the input.")
        if has_tensor:
            edges += (" For a tensor it shows the rule that makes down from up (\u00d7 "
                      "elementwise, @ a matrix product) and |down|, the norm of down (root "
                      "of the sum of its squares). Hover for every number.")
        rows += [
            line("How to read: a node shows its name and op, its data (a tensor: shape, mean, "
                 "std) and its gradient (a tensor: grad norm, the root of the sum of squares)."),
            line(edges),
        ]
        if has_rel:
            rows.append(line("rms N\u00d7 ref: the gradient's root mean square per element, as "
                             "a multiple of the reference, the same measure at the node of "
                             "its kind nearest the output (activations, weight matrices, "
                             "vectors such as biases); that node itself reads 1.0\u00d7."))
        rows += [
            line("Colour of grad rows and edges: gradient rms relative to the reference "
                 "(thin pale edges carry little):"),
            f"<TR>{cells}</TR>",
        ] + marks
    border = "1" if legend else "0"
    return (f'<<TABLE BORDER="{border}" COLOR="#999999" CELLBORDER="0" CELLSPACING="1" '
            f'CELLPADDING="2" BGCOLOR="#ffffff">{"".join(rows)}</TABLE>>')
