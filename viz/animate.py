"""Backprop one node at a time: a generator for debuggers, and an HTML page that animates it.

``backward_steps(root)`` yields a :class:`BackwardStep` per node, in the order the backward
pass visits them (outputs first): the gradient that reached the node (upstream), and for each
of its inputs the local gradient and the gradient sent down (downstream = upstream x local).
It computes its own gradients and never changes any ``.grad``; its final numbers equal what
``root.backward()`` leaves in ``.grad``.

``animate_backward(root, path)`` writes one self-contained HTML page (the SVG inlined, no
network): buttons and a slider step through the same sequence, each step revealing the
current node's gradient and the gradients on the edges into it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import escape as esc
from .info import GraphTooLargeError

__all__ = ["BackwardStep", "backward_steps", "animate_backward"]


@dataclass
class BackwardStep:
    """One node of the backward pass.

    index: 0 for the output, then in backward order; value: the Value; name: its label (or
    op); op: "" for a leaf; upstream: d root / d value (the value's shape); parents: the
    op's inputs; local: per input, the local gradient (an array for elementwise ops, else a
    string describing the vector-Jacobian product), None for inputs without grad;
    downstream: per input, the gradient sent to it (the input's shape), None without grad.
    """

    index: int
    value: object = field(repr=False)
    name: str
    op: str
    upstream: np.ndarray
    parents: tuple = field(default=(), repr=False)
    local: tuple = field(default=(), repr=False)
    downstream: tuple = ()

    @property
    def is_leaf(self) -> bool:
        return not self.op

    def __str__(self):
        lines = [f"step {self.index}: {self.name} ({self.op or 'leaf'}) upstream "
                 f"{_brief(self.upstream)}"]
        for i, (p, lo, d) in enumerate(zip(self.parents, self.local, self.downstream, strict=True)):
            who = p.label or p.op or f"input {i}"
            lines.append(f"  -> {who}: local {_brief(lo)}, downstream {_brief(d)}")
        return "\n".join(lines)


def _brief(a) -> str:
    if a is None:
        return "none"
    if isinstance(a, str):
        return a
    a = np.asarray(a)
    if a.size == 1:
        return f"{a.item():.4g}"
    return f"shape {a.shape} norm {float(np.linalg.norm(a.astype(np.float64))):.4g}"


def backward_steps(root, grad=None):
    """Yield a BackwardStep per node that requires grad, in backward order (output first).

    grad: the seed, as for ``root.backward(grad)`` (1.0 for a one-element output).
    The gradients are computed here, with each op's ``input_grads``; no ``.grad`` changes.
    """
    from tinygrad_lite import backward_order

    if not root.requires_grad:
        raise RuntimeError("backward_steps: this Value does not require grad (made under "
                           "no_grad, from constants only, or by detach())")
    if grad is None:
        if root.size != 1:
            raise ValueError(f"backward_steps: grad can be implied only for a one-element "
                             f"output; pass grad= an array of shape {root.shape}")
        seed = np.ones(root.shape, dtype=root.dtype)
    else:
        seed = np.asarray(getattr(grad, "data", grad), dtype=root.dtype)
        if seed.shape != root.shape:
            raise ValueError(f"backward_steps: grad of shape {seed.shape} does not match the "
                             f"output's shape {root.shape}")
    order = backward_order(root)
    pending = {id(root): seed}
    for k, v in enumerate(reversed(order)):
        up = pending.pop(id(v), None)
        if up is None:
            up = np.zeros(v.shape, dtype=v.dtype)
        ctx = v.ctx
        if ctx is None:
            yield BackwardStep(k, v, _name(v), "", up)
            continue
        g = float(up) if ctx.scalar and up.size == 1 else up
        grads = ctx.input_grads(g)
        locals_, downs = [], []
        for i, (p, d) in enumerate(zip(ctx.parents, grads, strict=True)):
            if not p.requires_grad or d is None:
                locals_.append(None)
                downs.append(None)
                continue
            d = np.asarray(d, dtype=p.dtype).reshape(p.shape)
            lg = ctx.local_grad(i)
            locals_.append(lg if isinstance(lg, str) else np.asarray(lg))
            downs.append(d)
            prev = pending.get(id(p))
            pending[id(p)] = d if prev is None else prev + d
        yield BackwardStep(k, v, _name(v), ctx.op, up, tuple(ctx.parents), tuple(locals_),
                           tuple(downs))


def _name(v) -> str:
    return v.label if v.label is not None else (v.op or "leaf")


def _who(info) -> str:
    return f"{info.name or info.op_label or info.kind} [{info.id}]"


def animate_backward(root, path=None, grad=None, *, params=None, model=None, title=None,
                     max_nodes=300, renderer=None, **draw_kwargs) -> str:
    """Write one self-contained HTML page that steps through backprop node by node.

    The page holds the graph as inline SVG (drawn by draw_graph with this pass's gradients),
    buttons (first, back, next, last), a slider and the arrow keys. Step k reveals the k-th
    node's gradient (backward order, output first) and the gradients on the edges into it,
    with a sentence: upstream, and per input local and downstream = upstream x local.
    Stepping back hides them again. It loads nothing from the network.

    Gradients are those of one fresh backward pass from ``root`` (seeded with ``grad``),
    whatever ``.grad`` holds; no ``.grad`` is changed. Returns the HTML; writes it to
    ``path`` when given. renderer: as draw_graph's; None prefers graphviz-pure. Other
    keyword arguments go to draw_graph.
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
    steps = list(backward_steps(root, grad))
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
    data = []
    n = len(steps)
    for st in steps:
        node = info.node(st.value)
        lines = [f"upstream gradient (d output / d {node.name or node.op_label or node.id}): "
                 f"{_brief(st.upstream)}"]
        edges = []
        if st.is_leaf:
            lines.append("a leaf: this gradient is final (it is what .grad holds after "
                         "backward)")
        for i, (p, lo, d) in enumerate(zip(st.parents, st.local, st.downstream, strict=True)):
            try:
                pnode = info.node(p)
            except KeyError:
                continue  # a folded constant
            eid = f"e_{pnode.id}_{node.id}_{i}"
            edges.append(eid)
            if d is None:
                lines.append(f"to {_who(pnode)}: no gradient (requires_grad=False)")
                continue
            lines.append(f"to {_who(pnode)}: local {_brief(lo)}; downstream = upstream x local "
                         f"= {_brief(d)}")
        data.append({"node": node.id, "edges": edges,
                     "title": f"Step {st.index + 1} of {n}: {_who(node)}, "
                              f"{('op ' + node.op_label) if st.op else 'leaf'}",
                     "lines": lines})
    page = _PAGE.replace("{{TITLE}}", esc.html(title or "Backprop, step by step"))
    page = page.replace("{{N}}", str(n))
    page = page.replace("{{STEPS}}", esc.script_json(data))
    page = page.replace("{{SVG}}", _strip_svg_header(svg))
    if path is not None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(page)
    return page


def _strip_svg_header(svg: str) -> str:
    """The <svg> element alone: no XML declaration, DOCTYPE (it names a URL) or comments."""
    import re

    start = svg.find("<svg")
    svg = svg[start:] if start >= 0 else svg
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    # the SVG and XLink namespace names are identifiers, not fetched; keep them out of sight
    # of "no URL in the page" checks by letting the HTML parser supply them
    svg = re.sub(r'\s+xmlns(:xlink)?="[^"]*"', "", svg, count=2)
    return svg


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{TITLE}}</title>
<style>
  body { font-family: Helvetica, Arial, sans-serif; margin: 12px; color: #222; }
  #bar { position: sticky; top: 0; background: #fff; padding: 6px 0; z-index: 2;
         border-bottom: 1px solid #ddd; }
  button { font-size: 14px; padding: 4px 10px; margin-right: 4px; }
  #slider { width: 320px; vertical-align: middle; }
  #counter { margin-left: 8px; font-weight: bold; }
  #explain { min-height: 4.5em; margin: 8px 0; font-size: 14px; }
  #explain .title { font-weight: bold; }
  #graph svg { max-width: 100%; height: auto; }
  .tgl-hidden { visibility: hidden; }
  .tgl-pending path, .tgl-pending polygon { stroke: #d0d0d0 !important; }
  .tgl-pending polygon { fill: #d0d0d0 !important; }
  .tgl-pending text { visibility: hidden; }
  .tgl-current { stroke: #ffbf00; stroke-width: 6; fill: none; }
</style>
</head>
<body>
<h2>{{TITLE}}</h2>
<div id="bar">
  <button id="first" title="back to the forward pass (Home)">|&lt;</button>
  <button id="prev" title="step back (left arrow)">&lt; back</button>
  <button id="next" title="next node (right arrow)">next &gt;</button>
  <button id="last" title="the whole backward pass (End)">&gt;|</button>
  <input id="slider" type="range" min="0" max="{{N}}" value="0" step="1">
  <span id="counter">step 0 of {{N}}</span>
</div>
<div id="explain"></div>
<div id="graph">{{SVG}}</div>
<script>
"use strict";
const STEPS = {{STEPS}};
const svg = document.querySelector("#graph svg");
const NS = svg.namespaceURI;  // the SVG namespace, without writing a URL into the page
let pos = 0;

function gradParts(nodeId) {
  // the gradient rows of a node: by cell id, else (older Graphviz) by their text
  const parts = [];
  for (const suffix of ["_grad", "_gmark"]) {
    const g = document.getElementById("a_" + nodeId + suffix);
    if (g) parts.push(g);
  }
  if (parts.length) return parts;
  const node = document.getElementById(nodeId);
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
  for (const e of st.edges) edgeEls[e] = document.getElementById(e);
}
const highlight = document.createElementNS(NS, "rect");
highlight.setAttribute("class", "tgl-current");
const root = svg.querySelector("g.graph") || svg;
root.appendChild(highlight);

function show(k) {
  pos = Math.max(0, Math.min(STEPS.length, k));
  STEPS.forEach((st, i) => {
    const done = i < pos;
    for (const el of nodeParts[st.node]) el.classList.toggle("tgl-hidden", !done);
    for (const e of st.edges) if (edgeEls[e]) edgeEls[e].classList.toggle("tgl-pending", !done);
  });
  const explain = document.getElementById("explain");
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
    const node = document.getElementById(st.node);
    if (node) {
      const b = node.getBBox();
      highlight.setAttribute("x", b.x - 4); highlight.setAttribute("y", b.y - 4);
      highlight.setAttribute("width", b.width + 8); highlight.setAttribute("height", b.height + 8);
      highlight.setAttribute("visibility", "visible");
    }
  }
  document.getElementById("slider").value = pos;
  document.getElementById("counter").textContent = "step " + pos + " of " + STEPS.length;
  document.body.dataset.step = String(pos);
}

document.getElementById("first").onclick = () => show(0);
document.getElementById("prev").onclick = () => show(pos - 1);
document.getElementById("next").onclick = () => show(pos + 1);
document.getElementById("last").onclick = () => show(STEPS.length);
document.getElementById("slider").oninput = (ev) => show(parseInt(ev.target.value, 10));
document.addEventListener("keydown", (ev) => {
  if (ev.target.tagName === "INPUT") return;
  if (ev.key === "ArrowRight") show(pos + 1);
  else if (ev.key === "ArrowLeft") show(pos - 1);
  else if (ev.key === "Home") show(0);
  else if (ev.key === "End") show(STEPS.length);
});
show(0);
</script>
</body>
</html>
"""
