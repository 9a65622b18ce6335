"""An animation of backprop, node by node: one self-contained HTML page, shown inline in Jupyter.

``animate_backward(root, path)`` draws the graph (viz.draw) with the gradients of one fresh
backward pass and returns an :class:`Animation`: the page as a ``str`` (write it, embed it,
compare it) that Jupyter displays as the working animation. Buttons, a slider and the arrow
keys step through ``backward_steps(root)`` (viz.steps), each step revealing the current
node's gradient and the gradients on the edges into it.

Any number of animations work on one page: every id in an animation (its buttons, its SVG's
nodes and edges) starts with the animation's own prefix, its script finds its elements from
its own root, and the arrow keys step only the animation that has the focus (or the only one
on the page). In a notebook each is shown in its own frame besides.
"""
from __future__ import annotations

import hashlib
import html as _html
import itertools
import re
from pathlib import Path

from tinygrad_lite.files import write_text

from . import escape as esc
from .info import GraphTooLargeError
from .steps import BackwardStep, _brief, backward_steps

__all__ = ["Animation", "animate_backward", "BackwardStep", "backward_steps"]

_serial = itertools.count(1)  # with a hash of the content: a prefix unique in this process


class Animation(str):
    """The page of an animation of backprop.

    ``a.html``: the standalone page; ``a.fragment``: the same animation as one ``<div>``
    (style and script inside, ids scoped) to place into a page of your own; ``a.write(path)``;
    ``a.prefix``: the prefix of its ids; ``a.steps``: how many steps. ``str(a)``, ``print(a)``
    and f-strings give a one-line description; use ``a.html`` for the page. As a notebook
    cell's last expression it shows as the working animation, in a sandboxed frame.

    For code written when it was a plain ``str``, it still is one holding the page: ``==``,
    ``in``, ``len`` and ``file.write(a)`` see the page.
    """

    fragment: str
    prefix: str
    steps: int
    height: int  # pixels the page needs, about: the frame's height in a notebook

    def __new__(cls, page: str, fragment: str, prefix: str, steps: int, height: int):
        self = super().__new__(cls, page)
        self.fragment, self.prefix, self.steps, self.height = fragment, prefix, steps, height
        return self

    def __reduce__(self):  # pickle and copy: rebuild from the same parts
        return (Animation, (self.html, self.fragment, self.prefix, self.steps, self.height))

    @property
    def html(self) -> str:
        """The standalone page, as a plain str."""
        return str.__str__(self)

    def __str__(self) -> str:
        return repr(self)

    def __format__(self, spec: str) -> str:
        return format(repr(self), spec)

    def __repr__(self) -> str:
        return (f"<Animation {self.prefix}: {self.steps} steps, {len(self.html):,} characters "
                f"of HTML; .html, .fragment, .write(path)>")

    def _repr_pretty_(self, p, cycle) -> None:  # IPython's text/plain: short, not the page
        p.text(repr(self))

    def write(self, path: str | Path) -> str:
        """Write the standalone page to ``path`` (atomically: a failure part-way leaves the
        previous file as it was); returns the path as str."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        return write_text(out, self.html)

    def _repr_html_(self) -> str:
        """The page in a frame of its own (``srcdoc``), sandboxed: its script runs, but it
        cannot reach the notebook, and nothing in it can clash with the notebook."""
        doc = _html.escape(self.html, quote=True)
        return (f'<iframe class="tgl-anim-frame" title="backprop, step by step" '
                f'sandbox="allow-scripts" srcdoc="{doc}" style="width: 100%; '
                f'height: {self.height}px; border: 1px solid #ddd;"></iframe>')


def animate_backward(root, path=None, grad=None, *, params=None, model=None, title=None,
                     max_nodes=300, renderer=None, **draw_kwargs) -> Animation:
    """Make one self-contained HTML page that steps through backprop node by node.

    The page holds the graph as inline SVG (drawn by draw_graph with this pass's gradients),
    buttons (first, back, next, last), a slider and the arrow keys. Step k reveals the k-th
    node's gradient (backward order, output first) and the gradients on the edges into it,
    with a sentence: upstream, and per input local and downstream = upstream x local.
    Stepping back hides them again. It loads nothing from the network.

    Gradients are those of one fresh backward pass from ``root`` (seeded with ``grad``),
    whatever ``.grad`` holds; no ``.grad`` is changed. Returns an :class:`Animation` (the
    page as a str, shown inline in Jupyter); writes it to ``path`` when given. params and
    model name parameters (and model draws module clusters), as for draw_graph; renderer:
    as draw_graph's, None prefers graphviz-pure. Other keyword arguments go to draw_graph.
    """
    from tinygrad_lite import backward_order

    from .draw import draw_graph

    n_order = len(backward_order(root)) if root.requires_grad else 0
    if n_order > max_nodes:
        raise GraphTooLargeError(
            f"animate_backward: {n_order:,} nodes need a gradient, more than max_nodes="
            f"{max_nodes}; an animation cannot collapse them: animate a smaller piece (a "
            f"single layer or neuron), or raise max_nodes")
    if renderer is None:  # graphviz-pure keeps the ids of table cells, which the page uses
        from .render import DotNotFoundError, find_dot

        try:
            find_dot("graphviz-pure")
            renderer = "graphviz-pure"
        except DotNotFoundError:
            pass  # another dot: the page finds the gradient rows by their text instead
    steps = list(backward_steps(root, params, model, grad=grad))
    saved = []
    try:  # draw with this pass's gradients, then put every .grad back as it was
        for st in steps:
            v = st.value
            saved.append((v, v.grad))
            v.grad = st.upstream
        g = draw_graph(root, params=params, model=model, max_nodes=max_nodes,
                       renderer=renderer, **draw_kwargs)
        svg = g.pipe(format="svg", encoding="utf-8")
    finally:
        for v, old in saved:
            v.grad = old
    info = g.info
    if info is None:  # draw_graph always measures; a GradGraph made by hand has no info
        raise RuntimeError("animate_backward: the drawing has no GraphInfo")
    names = _human_names(steps, info)
    data = []
    n = len(steps)
    for st in steps:
        node = info.node(st.value)
        who = names.get(id(st.value)) or _plain(node)
        lines = [f"upstream gradient (d output / d {who}): {_brief(st.upstream)}"]
        edges = []
        if st.is_leaf:
            lines.append("a leaf: this gradient is final (it is what .grad holds after "
                         "backward)")
        for i, (p, lo, d) in enumerate(zip(st.parents, st.local, st.downstream, strict=True)):
            try:
                pnode = info.node(p)
            except KeyError:
                continue  # a folded constant
            edges.append(f"e_{pnode.id}_{node.id}_{i}")
            to = names.get(id(p)) or _plain(pnode)
            if d is None:
                lines.append(f"to {to}: no gradient (requires_grad=False)")
                continue
            lines.append(f"to {to}: local {_brief(lo)}; downstream = upstream x local "
                         f"= {_brief(d)}")
        kind = f"op {node.op_label}" if st.op else "a leaf"
        data.append({"node": node.id, "edges": edges,
                     "title": f"Step {st.index + 1} of {n}: {who} ({kind})", "lines": lines})
    svg = _strip_svg_header(svg)
    steps_json = esc.script_json(data)
    digest = hashlib.sha1((svg + steps_json).encode("utf-8")).hexdigest()[:6]
    prefix = f"tgl{digest}x{next(_serial)}"
    title_html = esc.html(title or "Backprop, step by step", newline=" ")
    # one pass each: a value (a label, a title, the steps) is never searched for markers
    fragment = _fill(_FRAGMENT, {"P": prefix, "TITLE": title_html, "N": str(n),
                                 "SVG": _scope_ids(svg, prefix), "STEPS": steps_json,
                                 "STYLE": _STYLE})
    page = _fill(_PAGE, {"TITLE": title_html, "FRAGMENT": fragment})
    anim = Animation(page, fragment, prefix, n, _height(svg))
    if path is not None:
        anim.write(path)
    return anim


_MARKER = re.compile(r"\{\{([A-Z]+)\}\}")


def _fill(template: str, values: dict[str, str]) -> str:
    """``template`` with every ``{{NAME}}`` replaced by ``values[NAME]``, in one pass.

    The values are already escaped for where they go; they are inserted, never searched, so
    a label or title that holds ``{{STEPS}}`` stays text. A marker without a value raises.
    """
    return _MARKER.sub(lambda m: values[m.group(1)], template)


_INFIX = frozenset({"+", "-", "*", "/", "@", "**"})
_CALL = re.compile(r"[\w.]+\(.*\)", re.S)  # "sigmoid(...)": needs no parentheses


def _plain(node) -> str:
    """A node's name, else its op, else its kind: what a person would call it."""
    return node.name or node.op_label or {"param": "a parameter", "input": "the input",
                                          "const": "a constant"}.get(node.kind, node.kind)


def _human_names(steps: list[BackwardStep], info) -> dict[int, str]:
    """id(Value) -> a name for the page's text: the label or parameter name, else the
    expression that computed the node from named inputs ("w0 * x0", "sigmoid(w0 * x0 + b)"),
    shortened with "..." past a few dozen characters. Never an internal node id."""
    out: dict[int, str] = {}
    for st in reversed(steps):  # inputs before the ops that use them
        v = st.value
        try:
            node = info.node(v)
        except KeyError:
            continue
        if node.name:
            out[id(v)] = node.name
            continue
        if not st.op:
            out[id(v)] = _plain(node)
            continue
        args = []
        for p in st.parents:
            a = out.get(id(p))
            if a is None:
                try:
                    a = _plain(info.node(p))
                except KeyError:  # a folded constant: its number
                    a = _brief(p.data)
            args.append(a)
        op = node.op_label if node.op_label.split(" ")[0] == st.op else st.op
        out[id(v)] = _expression(st.op, op, args)
    seen: dict[str, int] = {}
    for key, name in list(out.items()):  # two nodes computed alike: "..., the 2nd"
        k = seen[name] = seen.get(name, 0) + 1
        if k > 1:
            out[key] = f"{name} (the {_ordinal(k)})"
    return out


def _expression(op: str, label: str, args: list[str], limit: int = 48) -> str:
    def wrap(a: str) -> str:  # "w0 * x0" inside another expression: "(w0 * x0) + b"
        return f"({a})" if " " in a and not _CALL.fullmatch(a) else a

    if op in _INFIX and len(args) == 2:
        text = f"{wrap(args[0])} {op} {wrap(args[1])}"
        if len(text) > limit:
            short = [a if len(a) <= limit // 3 else "..." for a in args]
            text = f"{wrap(short[0])} {op} {wrap(short[1])}"
        return text
    if op == "neg" and len(args) == 1:
        return "-" + wrap(args[0])
    text = f"{label}({', '.join(args)})"
    return text if len(text) <= limit else f"{label}(...)"


def _ordinal(k: int) -> str:
    return {2: "2nd", 3: "3rd"}.get(k, f"{k}th")


def _strip_svg_header(svg: str) -> str:
    """The <svg> element alone: no XML declaration, DOCTYPE (it names a URL) or comments."""
    start = svg.find("<svg")
    svg = svg[start:] if start >= 0 else svg
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    # the SVG and XLink namespace names are identifiers, not fetched; keep them out of sight
    # of "no URL in the page" checks by letting the HTML parser supply them
    svg = re.sub(r'\s+xmlns(:xlink)?="[^"]*"', "", svg, count=2)
    return svg


def _scope_ids(svg: str, prefix: str) -> str:
    """Every id in the SVG (and every ``#id`` reference to one) starts with ``prefix-``."""
    svg = re.sub(r'(\sid=")([^"]*)"', lambda m: f'{m.group(1)}{prefix}-{m.group(2)}"', svg)
    svg = re.sub(r'(href=")#([^"]*)"', lambda m: f'{m.group(1)}#{prefix}-{m.group(2)}"', svg)
    return re.sub(r"url\(#([^)]*)\)", lambda m: f"url(#{prefix}-{m.group(1)})", svg)


def _height(svg: str) -> int:
    """Pixels a notebook frame gives the page: the SVG's height plus the title, the controls
    and the explanation, at most 900 (the page fits the drawing into whatever it gets)."""
    m = re.search(r'<svg[^>]*\bheight="([\d.]+)(pt|px)?"', svg)
    h = float(m.group(1)) * (4 / 3 if m.group(2) in (None, "pt") else 1) if m else 400.0
    return int(min(h + 260, 900))


_STYLE = """
  .tgl-anim { font-family: Helvetica, Arial, sans-serif; color: #222; outline: none; }
  .tgl-anim h2 { margin: 4px 0 8px 0; }
  .tgl-anim .tgl-bar { position: sticky; top: 0; background: #fff; padding: 6px 0; z-index: 2;
                       border-bottom: 1px solid #ddd; }
  .tgl-anim button { font-size: 14px; padding: 4px 10px; margin-right: 4px; }
  .tgl-anim .tgl-slider { width: 320px; vertical-align: middle; }
  .tgl-anim .tgl-counter { margin-left: 8px; font-weight: bold; }
  .tgl-anim .tgl-explain { height: 7.2em; overflow-y: auto; margin: 8px 0; font-size: 14px;
                           line-height: 1.2; }
  .tgl-anim .tgl-explain .title { font-weight: bold; }
  .tgl-anim .tgl-graph svg { display: block; overflow: visible; }
  .tgl-anim .tgl-hidden { visibility: hidden; }
  .tgl-anim .tgl-pending path, .tgl-anim .tgl-pending polygon { stroke: #d0d0d0 !important; }
  .tgl-anim .tgl-pending polygon { fill: #d0d0d0 !important; }
  .tgl-anim .tgl-pending text { visibility: hidden; }
  .tgl-anim .tgl-current { stroke: #ffbf00; stroke-width: 6; fill: none; }
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{TITLE}}</title>
<style>body { margin: 12px; }</style>
</head>
<body>
{{FRAGMENT}}
</body>
</html>
"""

# One animation: {{P}} is its id prefix; everything it looks up is found from its root.
_FRAGMENT = """<div class="tgl-anim" id="{{P}}" tabindex="0" data-step="0">
<style>{{STYLE}}</style>
<h2>{{TITLE}}</h2>
<div class="tgl-bar">
  <button class="tgl-first" id="{{P}}-first" title="back to the forward pass (Home)">|&lt;</button>
  <button class="tgl-prev" id="{{P}}-prev" title="step back (left arrow)">&lt; back</button>
  <button class="tgl-next" id="{{P}}-next" title="next node (right arrow)">next &gt;</button>
  <button class="tgl-last" id="{{P}}-last" title="the whole backward pass (End)">&gt;|</button>
  <input class="tgl-slider" id="{{P}}-slider" type="range" min="0" max="{{N}}" value="0"
         step="1" aria-label="step">
  <span class="tgl-counter" id="{{P}}-counter">step 0 of {{N}}</span>
</div>
<div class="tgl-explain" id="{{P}}-explain"></div>
<div class="tgl-graph" id="{{P}}-graph">{{SVG}}</div>
<script>
(function () {
"use strict";
const P = "{{P}}";
const STEPS = {{STEPS}};
const root = document.getElementById(P);
const part = (name) => document.getElementById(P + "-" + name);
const svg = part("graph").querySelector("svg");
const NS = svg.namespaceURI;  // the SVG namespace, without writing a URL into the page
let pos = 0;

function gradParts(nodeId) {
  // the gradient rows of a node: by cell id, else (older Graphviz) by their text
  const parts = [];
  for (const suffix of ["_grad", "_gmark"]) {
    const g = part("a_" + nodeId + suffix);
    if (g) parts.push(g);
  }
  if (parts.length) return parts;
  const node = part(nodeId);
  if (!node) return parts;
  for (const t of node.querySelectorAll("text")) {
    const s = t.textContent;
    if (s.startsWith("grad ") || s.startsWith("VANISHING") || s.startsWith("EXPLODING") ||
        s.startsWith("NON-FINITE")) {
      parts.push(t);
      const prev = t.previousElementSibling;
      if (prev && prev.tagName === "polygon" && prev.getAttribute("fill") !== "none") {
        parts.push(prev);
      }
    }
  }
  return parts;
}

const nodeParts = {};
const edgeEls = {};
for (const st of STEPS) {
  nodeParts[st.node] = gradParts(st.node);
  for (const e of st.edges) edgeEls[e] = part(e);
}
// the drawing's own text may be wider than the layout measured it (another font): widen the
// view to hold all of it, then fit it to the window, no smaller than 60% unless that fits
const vb = svg.viewBox.baseVal;
const box = svg.getBBox();
const x0 = Math.min(vb.x, box.x - 4), y0 = Math.min(vb.y, box.y - 4);
const vw = Math.max(vb.x + vb.width, box.x + box.width + 4) - x0;
const vh = Math.max(vb.y + vb.height, box.y + box.height + 4) - y0;
svg.setAttribute("viewBox", [x0, y0, vw, vh].join(" "));
const natural = {w: vw * 4 / 3, h: vh * 4 / 3};  // Graphviz's points, as CSS pixels
svg.removeAttribute("width");
svg.removeAttribute("height");
function fit() {
  // the room: the graph's width, and the window's height below the animation's controls
  const above = part("graph").getBoundingClientRect().top - root.getBoundingClientRect().top;
  const w = Math.max(part("graph").clientWidth - 2, 100);
  const h = Math.max(window.innerHeight - above - 40, 100);
  let s = Math.min(1, w / natural.w, h / natural.h);
  if (s < 0.6) s = Math.min(0.6, w / natural.w);  // too small to read: scroll instead
  svg.style.width = (natural.w * s).toFixed(1) + "px";
  svg.style.height = (natural.h * s).toFixed(1) + "px";
}
fit();
// a frame may run this before it has its final size: fit again once it has
window.addEventListener("resize", fit);
window.addEventListener("load", fit);
requestAnimationFrame(fit);
const highlight = document.createElementNS(NS, "rect");
highlight.setAttribute("class", "tgl-current");
(svg.querySelector("g.graph") || svg).appendChild(highlight);

function show(k) {
  pos = Math.max(0, Math.min(STEPS.length, k));
  STEPS.forEach((st, i) => {
    const done = i < pos;
    for (const el of nodeParts[st.node]) el.classList.toggle("tgl-hidden", !done);
    for (const e of st.edges) if (edgeEls[e]) edgeEls[e].classList.toggle("tgl-pending", !done);
  });
  const explain = part("explain");
  explain.textContent = "";
  if (pos === 0) {
    explain.textContent = "The forward pass: values only. Press next to send the gradient back " +
      "from the output, one node at a time.";
    highlight.setAttribute("visibility", "hidden");
  } else {
    const st = STEPS[pos - 1];
    const title = document.createElement("div");
    title.className = "title";
    title.textContent = st.title;
    explain.appendChild(title);
    for (const line of st.lines) {
      const div = document.createElement("div");
      div.textContent = line;
      explain.appendChild(div);
    }
    const node = part(st.node);
    if (node) {
      const b = node.getBBox();
      highlight.setAttribute("x", b.x - 4); highlight.setAttribute("y", b.y - 4);
      highlight.setAttribute("width", b.width + 8); highlight.setAttribute("height", b.height + 8);
      highlight.setAttribute("visibility", "visible");
    }
  }
  part("slider").value = pos;
  part("counter").textContent = "step " + pos + " of " + STEPS.length;
  root.dataset.step = String(pos);
}

function key(ev) {
  if (ev.target.tagName === "INPUT") return;  // the slider moves itself
  const to = {ArrowRight: pos + 1, ArrowLeft: pos - 1, Home: 0, End: STEPS.length}[ev.key];
  if (to === undefined) return;
  show(to);
  ev.preventDefault();
}

part("first").onclick = () => show(0);
part("prev").onclick = () => show(pos - 1);
part("next").onclick = () => show(pos + 1);
part("last").onclick = () => show(STEPS.length);
part("slider").oninput = (ev) => show(parseInt(ev.target.value, 10));
root.addEventListener("keydown", key);  // keys step the animation that has the focus
document.addEventListener("keydown", (ev) => {  // ... or the only one on the page
  if (!root.contains(ev.target) && document.querySelectorAll(".tgl-anim").length === 1) key(ev);
});
show(0);
})();
</script>
</div>"""
