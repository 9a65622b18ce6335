"""Gradient-flow graphs: walk the graph behind a Value, measure every node, build DOT.

``analyze(root, ...)`` walks the graph (iteratively: any depth) and returns a
:class:`GraphInfo` with one :class:`NodeInfo` per drawn node and one :class:`EdgeInfo` per
edge; ``draw_graph(root, path, ...)`` turns it into a :class:`GradGraph` (a graphviz.Digraph
that renders without a system Graphviz) and writes SVG, PNG or DOT.

What the picture shows
----------------------
* Node: its name (parameter name, label, or op), op, value (one element) or shape, mean and
  std (tensors), gradient (one element) or gradient norm. Hovering shows every statistic.
* Edge ``p -> v`` (forward direction): the upstream gradient that reached op ``v``, the
  local gradient d v / d p, and the downstream gradient sent to ``p``: downstream =
  upstream x local (for tensors: norms, and a description where the local gradient is a
  matrix product or a reduction). Colour and width follow the downstream gradient.
* Dead units (red): ReLU units whose output is <= 0 for every example of the batch, so that
  their gradient is zero for all. Saturated units (orange): sigmoid, tanh or ELU units whose
  local gradient |f'| is below ``saturation`` (0.01). Each is a fraction per node, and a strip
  of cells shows it unit by unit.
* Vanishing (violet) and exploding (magenta) gradients: a node's gradient RMS relative to a
  reference near the output below ``vanishing`` (1e-3) or above ``exploding`` (1e3), or not
  finite. The reference is the RMS of the gradient nearest the output (fewest hops from the
  root) in the node's group: activations, weight matrices (ndim >= 2), or vectors such as
  biases; a weight's gradient sums over the batch and an activation's does not, so each is
  measured against its own kind. The root itself, the seed, is not measured.

Constant scalars fold into their op's label (``* 0.9``); constant tensors are drawn small.
Node ids (``n0``, ``n1``, ...) follow trace order (a depth-first walk from the root, parents
in argument order, inputs before outputs), so the DOT text is deterministic.
"""
from __future__ import annotations

import math
import os
from collections import deque
from dataclasses import dataclass, field, replace

import graphviz
import numpy as np

from . import escape as esc
from .render import render_source, write

__all__ = [
    "draw_graph", "analyze", "GradGraph", "GraphInfo", "NodeInfo", "EdgeInfo",
    "GraphTooLargeError", "trace_modules", "ModuleTrace",
]

SATURATING = frozenset({"sigmoid", "tanh", "elu"})
DYING = frozenset({"relu"})
WALK_LIMIT = 2_000_000  # nodes walked before a graph is refused outright

# colours
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


class GraphTooLargeError(ValueError):
    """A graph with more nodes than ``max_nodes``: the message says how to collapse it."""


# -- small helpers ------------------------------------------------------------------------------
def _fmt(x, digits=4) -> str:
    if x is None:
        return "None"
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    return f"{x:.{digits}g}"


def _hex(rgb) -> str:
    return "#%02x%02x%02x" % tuple(int(round(c)) for c in rgb)


def _mix(c0: str, c1: str, t: float) -> str:
    a = [int(c0[i:i + 2], 16) for i in (1, 3, 5)]
    b = [int(c1[i:i + 2], 16) for i in (1, 3, 5)]
    t = min(max(t, 0.0), 1.0)
    return _hex([x + (y - x) * t for x, y in zip(a, b)])


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
    for (x0, c0), (x1, c1) in zip(_RAMP, _RAMP[1:]):
        if x <= x1:
            t = (x - x0) / (x1 - x0)
            return _hex([a + (b - a) * t for a, b in zip(c0, c1)])
    return _hex(_RAMP[-1][1])


def _text_colour(bg: str) -> str:
    r, g, b = (int(bg[i:i + 2], 16) for i in (1, 3, 5))
    return "#ffffff" if 0.299 * r + 0.587 * g + 0.114 * b < 140 else "#000000"


def _units_view(a: np.ndarray) -> np.ndarray:
    """(examples, units): axis 1 holds the units (features, channels); 1-D is one example."""
    if a.ndim == 0:
        return a.reshape(1, 1)
    if a.ndim == 1:
        return a.reshape(1, -1)
    return np.moveaxis(a, 1, -1).reshape(-1, a.shape[1])


def _short(obj, n=24) -> str:
    if isinstance(obj, np.ndarray):
        s = f"array{obj.shape}" if obj.size > 4 else np.array2string(obj, separator=",")
    elif isinstance(obj, float):
        s = _fmt(obj)
    else:
        s = repr(obj)
    return s if len(s) <= n else s[: n - 3] + "..."


# -- results ------------------------------------------------------------------------------------
@dataclass
class NodeInfo:
    """Statistics of one drawn node. Fractions are in [0, 1]; None where they do not apply."""

    id: str
    index: int
    name: str | None
    op: str
    op_label: str
    kind: str  # "param" | "input" | "const" | "op" | "module" | "more"
    op_args: str = ""
    shape: tuple = ()
    dtype: str = ""
    depth: int = 0
    module: str | None = None
    value: float | None = None  # one element only
    mean: float | None = None
    std: float | None = None
    min: float | None = None
    max: float | None = None
    reached: bool = False
    grad: float | None = None  # one element only
    grad_norm: float | None = None
    grad_rms: float | None = None
    grad_min: float | None = None
    grad_max: float | None = None
    grad_rel: float | None = None
    units: int | None = None
    dead_fraction: float | None = None
    dead_units: list = field(default_factory=list)
    saturated_fraction: float | None = None
    saturated_units: list = field(default_factory=list)
    unit_badness: np.ndarray | None = field(default=None, repr=False)
    status: tuple = ()
    members: int = 1  # nodes a module node stands for
    params: list = field(default_factory=list)  # module node: (name, shape, grad_norm)
    value_ref: object = field(default=None, repr=False, compare=False)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape)) if self.shape else 1

    def summary(self) -> str:
        """Every statistic, one per line (the SVG tooltip)."""
        lines = [f"{self.id}: {self.name or self.op_label or self.kind}"]
        if self.op:
            lines.append(f"op: {self.op_label}")
        if self.op_args:
            lines.append(f"arguments: {self.op_args}")
        lines.append(f"kind: {self.kind}" + (f" ({self.members} nodes)" if self.members > 1 else ""))
        if self.module:
            lines.append(f"module: {self.module}")
        lines.append(f"shape: {self.shape}  dtype: {self.dtype}")
        if self.value is not None:
            lines.append(f"value: {_fmt(self.value, 6)}")
        elif self.mean is not None:
            lines.append(f"mean {_fmt(self.mean)}  std {_fmt(self.std)}  "
                         f"min {_fmt(self.min)}  max {_fmt(self.max)}")
        if self.kind in ("const", "input") and not self.reached:
            lines.append("grad: none (requires_grad=False)")
        elif not self.reached:
            lines.append("grad: None (no backward pass reached it)")
        elif self.grad is not None:
            lines.append(f"grad: {_fmt(self.grad, 6)}")
        else:
            lines.append(f"grad: norm {_fmt(self.grad_norm)}  rms {_fmt(self.grad_rms)}  "
                         f"min {_fmt(self.grad_min)}  max {_fmt(self.grad_max)}")
        if self.grad_rel is not None:
            lines.append(f"grad rms / reference: {_fmt(self.grad_rel, 3)}")
        lines.append(f"depth from output: {self.depth}")
        for name, shape, gn in self.params:
            lines.append(f"param {name} {shape}: grad norm {_fmt(gn)}")
        if self.dead_fraction is not None:
            lines.append(f"dead units: {len(self.dead_units)}/{self.units} "
                         f"({100 * self.dead_fraction:.0f}%)" + _list(self.dead_units))
        if self.saturated_fraction is not None:
            lines.append(f"saturated: {100 * self.saturated_fraction:.0f}% of activations; units "
                         f"saturated on every example: {len(self.saturated_units)}/{self.units}"
                         + _list(self.saturated_units))
        if self.status:
            lines.append("marked: " + ", ".join(self.status))
        return "\n".join(lines)


def _list(idx, n=16) -> str:
    if not idx:
        return ""
    shown = ", ".join(str(i) for i in idx[:n])
    return f" [{shown}{', ...' if len(idx) > n else ''}]"


@dataclass
class EdgeInfo:
    """Edge src -> dst: input ``index`` of op ``dst``, with the gradients that cross it."""

    src: str
    dst: str
    index: int
    up: np.ndarray | None = field(default=None, repr=False)
    local: object = field(default=None, repr=False)  # ndarray, or a string describing the vjp
    down: np.ndarray | None = field(default=None, repr=False)
    down_rel: float | None = None
    count: int = 1  # underlying edges (collapsed graphs)

    def text(self, digits=4) -> list:
        """The edge label, one string per line: upstream * local = downstream."""
        if self.count > 1:
            return [f"{self.count} edges"]
        up, local, down = self.up, self.local, self.down
        if up is None:
            return []
        one = up.size == 1 and (not isinstance(local, np.ndarray) or local.size == 1)
        if one and isinstance(local, np.ndarray):
            lines = [f"up {_fmt(up.item(), digits)} * local {_fmt(local.item(), digits)}"]
        elif isinstance(local, np.ndarray):
            # norms do not multiply: say that the product is taken element by element
            lines = [f"|up| {_fmt(_norm(up), 3)}, |local| {_fmt(_norm(local), 3)}",
                     "down = up * local, elementwise"]
        else:
            u = _fmt(up.item(), digits) if up.size == 1 else _fmt(_norm(up), 3)
            rule = local if len(local) <= 40 else local[:37] + "..."
            lines = [f"{'up' if up.size == 1 else '|up|'} {u}", f"local: {rule}"]
        if down is None:
            lines.append("= (no grad)")
        elif down.size == 1:
            lines.append(f"= down {_fmt(down.item(), digits)}")
        else:
            lines.append(f"= |down| {_fmt(_norm(down), 3)}")
        return lines


def _norm(a) -> float:
    a = np.asarray(a, dtype=np.float64)
    return float(np.sqrt(np.sum(a * a))) if a.size else 0.0


@dataclass
class GraphInfo:
    """What ``analyze`` measured: nodes in trace order, edges, and the references used."""

    nodes: list
    edges: list
    root_id: str
    total_nodes: int
    references: dict = field(default_factory=dict)  # group -> gradient RMS near the output
    settings: dict = field(default_factory=dict)

    def __post_init__(self):
        self._by_value = {id(n.value_ref): n for n in self.nodes if n.value_ref is not None}

    def node(self, key) -> NodeInfo:
        """The node for a Value, a node id ("n3"), or a name (parameter name or label)."""
        if not isinstance(key, str):
            found = self._by_value.get(id(key))
            if found is None:
                raise KeyError("node: this Value is not drawn in the graph")
            return found
        for n in self.nodes:
            if n.id == key:
                return n
        hits = [n for n in self.nodes if n.name == key]
        if len(hits) == 1:
            return hits[0]
        if not hits:
            raise KeyError(f"node: no node named {key!r}")
        raise KeyError(f"node: {len(hits)} nodes are named {key!r}; use the Value or its id")

    def edges_into(self, key) -> list:
        nid = self.node(key).id
        return [e for e in self.edges if e.dst == nid]

    def marked(self, status: str) -> list:
        """The nodes marked with ``status`` ("dead", "saturated", "vanishing", ...)."""
        return [n for n in self.nodes if status in n.status]


# -- module tracing -----------------------------------------------------------------------------
class ModuleTrace:
    """Records which module produced which Values during a forward pass.

    Use as ``with viz.trace_modules(model) as trace: loss = lossfn(model(x), y)`` and then
    ``draw_graph(loss, model=trace)``: nodes are grouped in clusters named after the modules
    (the innermost module that computed them), and parameters take their dotted names.
    The model needs ``named_modules()`` and ``register_forward_hook(fn)`` returning a handle
    with ``remove()``, as ``tinygrad_lite.nn.Module`` (and PyTorch) have.
    """

    def __init__(self, model):
        self.model = model
        self.calls = []  # (name, class name, input Values, output Values), inner modules first
        self._handles = []

    def __enter__(self):
        for name, module in self.model.named_modules():
            if not name:
                continue  # the whole model: one cluster around everything says nothing
            self._handles.append(module.register_forward_hook(self._hook(name)))
        return self

    def _hook(self, name):
        def hook(module, inputs, output):
            self.calls.append((name, type(module).__name__, _values_in(inputs), _values_in(output)))
        return hook

    def __exit__(self, *exc):
        for h in self._handles:
            h.remove()
        self._handles = []
        return False

    def named_parameters(self):
        return self.model.named_parameters()


def trace_modules(model) -> ModuleTrace:
    """Context manager recording module outputs during a forward pass (see ModuleTrace)."""
    return ModuleTrace(model)


def _values_in(obj) -> tuple:
    from tinygrad_lite import Value

    out, stack = [], [obj]
    while stack:
        o = stack.pop()
        if isinstance(o, Value):
            out.append(o)
        elif isinstance(o, (tuple, list)):
            stack.extend(reversed(o))
        elif isinstance(o, dict):
            stack.extend(reversed(list(o.values())))
    return tuple(out)


def _param_names(params, model) -> dict:
    """id(Value) -> dotted name, from a dict, a Module or a ModuleTrace."""
    names = {}
    for src in (model, params):
        if src is None:
            continue
        if hasattr(src, "named_parameters"):
            items = src.named_parameters()
        elif isinstance(src, dict):
            items = src.items()
        else:
            raise TypeError(f"draw_graph: params must be a dict of name -> Value or a Module, "
                            f"not {type(src).__name__}")
        for name, v in items:
            names.setdefault(id(v), str(name))
    return names


def _module_classes(model) -> dict:
    m = model.model if isinstance(model, ModuleTrace) else model
    out = {}
    if m is not None and hasattr(m, "named_modules"):
        for name, mod in m.named_modules():
            out[name] = type(mod).__name__
    return out


# -- the walk -----------------------------------------------------------------------------------
def _walk(root, limit: int) -> tuple:
    """All Values behind root (constants too), inputs before outputs; (order, truncated)."""
    order, seen = [], {id(root)}
    stack = [(root, iter(root.parents))]
    while stack:
        node, it = stack[-1]
        for p in it:
            if id(p) not in seen:
                seen.add(id(p))
                if len(seen) > limit:
                    return order, True
                stack.append((p, iter(p.parents)))
                break
        else:
            stack.pop()
            order.append(node)
    return order, False


def _depths(root, limit=None) -> dict:
    """Hops from root (breadth first); with ``limit``, nodes deeper than limit are left out."""
    depth = {id(root): 0}
    queue = deque([root])
    while queue:
        v = queue.popleft()
        d = depth[id(v)] + 1
        if limit is not None and d > limit:
            continue
        for p in v.parents:
            if id(p) not in depth:
                depth[id(p)] = d
                queue.append(p)
    return depth


def _foldable(v, names) -> bool:
    """A constant scalar with no name: shown inside its op's label instead of as a node."""
    return (v._ctx is None and not v.requires_grad and v.size == 1 and v.label is None
            and id(v) not in names)


def _op_label(v, folded) -> str:
    """The op with folded constants and short keyword arguments: "* 0.9", "1 /", "pow 2"."""
    ctx = v._ctx
    op = ctx.op
    consts = [(i, p) for i, p in enumerate(ctx.parents) if id(p) in folded]
    if len(consts) == 1 and len(ctx.parents) == 2:
        i, c = consts[0]
        cv = _fmt(c.item())
        op = f"{cv} {op}" if i == 0 and op not in ("+", "*") else f"{op} {cv}"
    elif consts:
        op += " (" + ", ".join(_fmt(c.item()) for _, c in consts) + ")"
    kw = getattr(ctx, "kwargs", None) or {}
    if op == "pow" and "p" in kw and len(kw) == 1:
        return f"** {_fmt(kw['p'])}"
    # short arguments only (axis=1, k=2); arrays and flags are in the tooltip
    parts = [f"{k}={_short(val)}" for k, val in kw.items()
             if isinstance(val, (int, float, tuple, str, np.integer, np.floating))
             and not isinstance(val, bool)]
    label = op + (" " + " ".join(parts) if parts else "")
    return label if len(label) <= 36 else label[:33] + "..."


def _op_args(v) -> str:
    """Every keyword argument of the op that made v, for the tooltip."""
    kw = getattr(v._ctx, "kwargs", None) or {}
    text = ", ".join(f"{k}={_short(val, 40)}" for k, val in kw.items())
    return text if len(text) <= 300 else text[:297] + "..."


def analyze(root, params=None, *, model=None, depth=None, collapse=None, max_nodes=500,
            saturation=0.01, mark_fraction=0.1, vanishing=1e-3, exploding=1e3) -> GraphInfo:
    """Walk the graph behind ``root`` and measure every node and edge (no drawing).

    Arguments are draw_graph's; see there. Raises GraphTooLargeError past ``max_nodes``.
    """
    from tinygrad_lite import Value

    if not isinstance(root, Value):
        raise TypeError(f"draw_graph: root must be a Value, not {type(root).__name__}")
    if collapse not in (None, "modules"):
        raise ValueError(f"draw_graph: collapse must be None or 'modules', not {collapse!r}")
    if collapse == "modules" and model is None:
        raise ValueError("draw_graph: collapse='modules' needs model= (a Module, or the trace "
                         "from `with viz.trace_modules(model) as trace:`)")
    if depth is not None and (not isinstance(depth, int) or depth < 0):
        raise ValueError(f"draw_graph: depth must be a non-negative int, not {depth!r}")
    names = _param_names(params, model)

    # 1. which Values: all of them, or those within `depth` hops of the root
    if depth is not None:
        dmap = _depths(root, depth)
        order, truncated = _walk_within(root, dmap)
        hidden = _count_hidden(root, dmap, WALK_LIMIT)
    else:
        limit = WALK_LIMIT if collapse else min(WALK_LIMIT, max(100_000, 200 * max_nodes))
        order, truncated = _walk(root, limit)
        if truncated:
            raise GraphTooLargeError(_too_large_message(
                f"more than {limit:,}", None, max_nodes, collapse, model, depth))
        dmap = _depths(root)
        hidden = 0
    folded = {id(v) for v in order if _foldable(v, names) and v is not root}
    drawn = [v for v in order if id(v) not in folded]

    # 2. modules
    owner = _owners(drawn, names, model)
    if collapse == "modules":
        n_groups = len({owner[id(v)] for v in drawn if owner.get(id(v))})
        n_free = sum(1 for v in drawn if not owner.get(id(v)))
        n_drawn = n_groups + n_free
    else:
        n_drawn = len(drawn)
    if n_drawn + (1 if hidden else 0) > max_nodes:
        raise GraphTooLargeError(_too_large_message(n_drawn, len(order), max_nodes, collapse,
                                                    model, depth))

    settings = dict(saturation=saturation, mark_fraction=mark_fraction, vanishing=vanishing,
                    exploding=exploding, depth=depth, collapse=collapse)
    infos, by_id = [], {}
    for k, v in enumerate(drawn):
        info = _measure(v, f"n{k}", k, names, dmap, folded, saturation, mark_fraction)
        info.module = owner.get(id(v))
        infos.append(info)
        by_id[id(v)] = info

    # 3. references and gradient marks
    refs = _references(infos)
    for v, info in zip(drawn, infos):
        if v is root:  # the seed: measuring it against the gradients it starts says nothing
            continue
        _mark_gradient(info, refs.get(_group(info)), vanishing, exploding)

    # 4. edges
    edges = []
    for v in drawn:
        ctx = v._ctx
        if ctx is None:
            continue
        up = v.grad if v.requires_grad else None
        downs = _downstream(ctx, up)
        for i, p in enumerate(ctx.parents):
            if id(p) in folded or id(p) not in by_id:
                continue
            e = EdgeInfo(src=by_id[id(p)].id, dst=by_id[id(v)].id, index=i, up=up,
                         local=_local(ctx, i), down=downs[i] if downs else None)
            pinfo = by_id[id(p)]
            if e.down is not None and p.requires_grad:
                ref = refs.get(_group(pinfo))
                rms = _norm(e.down) / math.sqrt(max(e.down.size, 1))
                e.down_rel = rms / ref if ref else None
            edges.append(e)

    root_id = by_id[id(root)].id
    if hidden:
        more = NodeInfo(id="more", index=len(infos), name=None, op="", op_label="",
                        kind="more", depth=(depth or 0) + 1, members=hidden)
        cut = [by_id[id(v)] for v in drawn
               if any(id(p) not in by_id and id(p) not in folded for p in v.parents)]
        infos.append(more)
        for c in cut:
            edges.append(EdgeInfo(src="more", dst=c.id, index=-1))
    info = GraphInfo(nodes=infos, edges=edges, root_id=root_id, total_nodes=len(order) + hidden,
                     references=refs, settings=settings)
    if collapse == "modules":
        info = _collapse(info, model)
    return info


def _walk_within(root, dmap) -> tuple:
    """Trace order of the Values within the depth map (a walk that stops at its border)."""
    order, seen = [], {id(root)}
    stack = [(root, iter(root.parents))]
    while stack:
        node, it = stack[-1]
        for p in it:
            if id(p) not in seen and id(p) in dmap:
                seen.add(id(p))
                stack.append((p, iter(p.parents)))
                break
        else:
            stack.pop()
            order.append(node)
    return order, False


def _count_hidden(root, dmap, limit) -> int:
    """How many Values lie beyond the depth map (counting stops at ``limit``)."""
    hidden, stack = set(), []
    inside, frontier = {id(root)}, [root]
    while frontier:  # the drawn part: collect the first hidden Values at its border
        v = frontier.pop()
        for p in v.parents:
            if id(p) in dmap:
                if id(p) not in inside:
                    inside.add(id(p))
                    frontier.append(p)
            elif id(p) not in hidden:
                hidden.add(id(p))
                stack.append(p)
    while stack and len(hidden) < limit:  # everything behind the border
        v = stack.pop()
        for p in v.parents:
            if id(p) not in hidden and id(p) not in dmap:
                hidden.add(id(p))
                stack.append(p)
    return len(hidden)


def _too_large_message(n_drawn, n_total, max_nodes, collapse, model, depth) -> str:
    what = f"{n_drawn:,} nodes to draw" if isinstance(n_drawn, int) else f"{n_drawn} Values"
    if n_total is not None and n_total != n_drawn:
        what += f" ({n_total:,} Values in the graph)"
    hints = []
    if collapse != "modules":
        if model is None:
            hints.append("group by module and collapse each module into one node: "
                         "`with viz.trace_modules(model) as trace: loss = ...` then "
                         "draw_graph(loss, model=trace, collapse='modules')")
        else:
            hints.append("collapse each module into one node with collapse='modules'")
    hints.append("draw only the nodes nearest the output with depth=N "
                 f"(now {depth})" if depth is not None else
                 "draw only the nodes nearest the output with depth=N (e.g. depth=10)")
    hints.append(f"or raise max_nodes (now {max_nodes}) if you really want them all")
    return f"draw_graph: {what}, more than max_nodes={max_nodes}. To draw it, " + "; ".join(hints)


def _owners(drawn, names, model) -> dict:
    """id(Value) -> innermost module name, from a trace or from parameter ancestry."""
    owner = {}
    if model is None:
        return owner
    present = {id(v) for v in drawn}
    if isinstance(model, ModuleTrace):
        for name, _cls, inputs, outputs in model.calls:  # inner modules finish first
            stop = {id(x) for x in inputs}
            stack = [o for o in outputs if id(o) in present]
            seen = set()
            while stack:
                v = stack.pop()
                if id(v) in seen or id(v) in stop:
                    continue
                seen.add(id(v))
                owner.setdefault(id(v), name)
                stack.extend(p for p in v.parents if id(p) in present)
        # parameters never touched by a traced call still belong to their module by name
        for v in drawn:
            if id(v) in names and id(v) not in owner and "." in names[id(v)]:
                owner[id(v)] = names[id(v)].rsplit(".", 1)[0]
        return owner
    # a node belongs to the module of its nearest parameter ancestor
    dist = {}
    for v in drawn:  # trace order: parents first
        if id(v) in names:
            n = names[id(v)]
            if "." in n:
                owner[id(v)] = n.rsplit(".", 1)[0]
                dist[id(v)] = 0
            continue
        best = None
        for p in v.parents:
            if id(p) in dist and (best is None or dist[id(p)] < best[0]):
                best = (dist[id(p)], owner[id(p)])
        if best is not None:
            dist[id(v)] = best[0] + 1
            owner[id(v)] = best[1]
    return owner


def _local(ctx, i):
    try:
        lg = ctx.local_grad(i)
    except Exception as e:  # a user's op with a broken local_grad must not stop the drawing
        return f"local_grad failed: {type(e).__name__}"
    if isinstance(lg, str):
        return lg
    return np.asarray(lg)


def _downstream(ctx, up):
    if up is None:
        return None
    try:
        g = float(up) if ctx.scalar and up.size == 1 else up
        grads = ctx.input_grads(g)
    except Exception:  # a user's op whose backward fails here: draw the edge without it
        return None
    return tuple(None if (g is None or not p.requires_grad) else np.asarray(g)
                 for p, g in zip(ctx.parents, grads))


def _measure(v, nid, k, names, dmap, folded, saturation, mark_fraction) -> NodeInfo:
    name = names.get(id(v)) or v.label
    ctx = v._ctx
    if ctx is not None:
        kind = "op"
        op, op_label = ctx.op, _op_label(v, folded)
    else:  # leaves: learnable (requires grad), or data and constants
        kind = "param" if (v.requires_grad or id(v) in names) else (
            "input" if (v.size > 1 or v.label is not None) else "const")
        op, op_label = "", ""
    d = v.data
    info = NodeInfo(id=nid, index=k, name=None if name is None else str(name), op=op,
                    op_label=op_label, kind=kind, shape=tuple(v.shape), dtype=str(v.dtype),
                    depth=dmap.get(id(v), 0), value_ref=v,
                    op_args=_op_args(v) if ctx is not None else "")
    if d.size == 1:
        info.value = float(d.reshape(()))
    if d.size:
        df = d.astype(np.float64, copy=False)
        with np.errstate(all="ignore"):
            info.mean, info.std = float(df.mean()), float(df.std())
            info.min, info.max = float(df.min()), float(df.max())
    g = v.grad if v.requires_grad else None
    if g is not None:
        info.reached = True
        gf = g.astype(np.float64, copy=False)
        with np.errstate(all="ignore"):
            info.grad_norm = _norm(gf)
            if gf.size:  # an empty tensor has no gradient to call small or large
                info.grad_rms = info.grad_norm / math.sqrt(gf.size)
                info.grad_min, info.grad_max = float(gf.min()), float(gf.max())
        if gf.size == 1:
            info.grad = float(gf.reshape(()))
    if ctx is not None and (op in DYING or op in SATURATING):
        _unit_stats(info, ctx, v, saturation, mark_fraction)
    return info


def _unit_stats(info, ctx, v, saturation, mark_fraction):
    """Dead units (ReLU) and saturated activations (sigmoid, tanh, ELU) of one node."""
    local = _local(ctx, 0)
    if not isinstance(local, np.ndarray) or local.shape != tuple(v.shape) or local.size == 0:
        return
    lg = _units_view(np.abs(local.astype(np.float64, copy=False)))  # (examples, units)
    info.units = lg.shape[1]
    status = []
    if info.op in DYING:
        off = lg == 0
        dead = off.all(axis=0)
        info.dead_units = [int(i) for i in np.flatnonzero(dead)]
        info.dead_fraction = float(dead.mean())
        info.unit_badness = dead.astype(np.float64)
        if info.dead_fraction > 0 and info.dead_fraction >= mark_fraction:
            status.append("dead")
    else:
        sat = lg < saturation
        info.saturated_fraction = float(sat.mean())
        per_unit = sat.mean(axis=0)
        info.saturated_units = [int(i) for i in np.flatnonzero(per_unit == 1.0)]
        info.unit_badness = per_unit
        if info.saturated_fraction > 0 and info.saturated_fraction >= mark_fraction:
            status.append("saturated")
    info.status = tuple(status)


def _references(infos) -> dict:
    """Gradient RMS near the output, per group: activations, weight matrices, vectors.

    A weight's gradient sums over the batch and a bias's too, unlike an activation's, so each
    is measured against the one of its own group nearest the output.
    """
    def pick(cands):
        cands = [n for n in cands if n.reached and n.grad_rms and math.isfinite(n.grad_rms)]
        if not cands:
            return None
        if any(n.size > 1 for n in cands):
            cands = [n for n in cands if n.size > 1]
        dmin = min(n.depth for n in cands)
        return max(n.grad_rms for n in cands if n.depth == dmin)

    groups = {}
    for n in infos:
        groups.setdefault(_group(n), []).append(n)
    refs = {k: pick(v) for k, v in groups.items()}
    fallback = refs.get("activation") or next((r for r in refs.values() if r), None)
    return {k: (r or fallback) for k, r in refs.items()} | {"activation": refs.get("activation") or fallback}


def _group(n) -> str:
    if n.kind != "param":
        return "activation"
    return "param-matrix" if len(n.shape) >= 2 else "param-vector"


def _mark_gradient(info, ref, vanishing, exploding):
    if not info.reached:
        return
    status = list(info.status)
    if info.grad_rms is not None and not math.isfinite(info.grad_rms):
        status.append("non-finite")
    elif ref and info.grad_rms is not None:
        info.grad_rel = info.grad_rms / ref
        if info.grad_rel < vanishing:
            status.append("vanishing")
        elif info.grad_rel > exploding:
            status.append("exploding")
    info.status = tuple(status)


# -- collapsing modules -------------------------------------------------------------------------
def _collapse(info: GraphInfo, model) -> GraphInfo:
    """One node per (innermost) module; nodes outside every module stay as they are."""
    classes = _module_classes(model)
    groups, order = {}, []
    for n in info.nodes:
        if n.module:
            if n.module not in groups:
                groups[n.module] = []
                order.append(("g", n.module))
            groups[n.module].append(n)
        else:
            order.append(("n", n))
    module_of = {n.id: n.module for n in info.nodes}
    targets = {}
    for e in info.edges:
        targets.setdefault(e.src, []).append(e.dst)
    new_id, nodes = {}, []
    for k, (tag, item) in enumerate(order):
        nid = f"n{k}"
        if tag == "n":
            new_id[item.id] = nid
            nodes.append(replace(item, id=nid, index=k))
            continue
        members = groups[item]
        # the module's output: its last member with an edge leaving the module
        outs = [m for m in members if any(module_of.get(d) != item for d in targets.get(m.id, ()))]
        out = (outs or members)[-1]
        g = replace(out, id=nid, index=k, name=item, op=classes.get(item, "module"),
                    op_label=classes.get(item, "module"), kind="module",
                    depth=min(m.depth for m in members), module=item, members=len(members))
        g.params = [(m.name, m.shape, m.grad_norm) for m in members if m.kind == "param"]
        act = [m for m in members if m.units is not None]
        if act and out.units is None:
            a = act[-1]
            g.units, g.unit_badness = a.units, a.unit_badness
            g.dead_fraction, g.dead_units = a.dead_fraction, a.dead_units
            g.saturated_fraction, g.saturated_units = a.saturated_fraction, a.saturated_units
        status = []
        for m in members:
            for s in m.status:
                gradient_mark = s in ("vanishing", "exploding")
                if s not in status and (not gradient_mark or m is out or m.kind == "param"):
                    status.append(s)
        g.status = tuple(status)
        for m in members:
            new_id[m.id] = nid
        nodes.append(g)
    edges, seen = [], {}
    for e in info.edges:
        s, d = new_id.get(e.src, e.src), new_id.get(e.dst, e.dst)
        if s == d:
            continue
        if (s, d) in seen:
            seen[s, d].count += 1
            continue
        ne = replace(e, src=s, dst=d)
        seen[s, d] = ne
        edges.append(ne)
    return GraphInfo(nodes=nodes, edges=edges, root_id=new_id.get(info.root_id, info.root_id),
                     total_nodes=info.total_nodes, references=info.references,
                     settings=info.settings)


# -- drawing ------------------------------------------------------------------------------------
class GradGraph(graphviz.Digraph):
    """A graphviz.Digraph of a gradient-flow graph that renders without system Graphviz.

    ``.info`` is the :class:`GraphInfo` (every node's statistics); ``.source`` the DOT text;
    ``.write(path)`` renders by the path's suffix (.svg, .png, .dot); ``.pipe()``,
    ``.render()`` and Jupyter's inline SVG use the system ``dot`` when present, else
    graphviz-pure (see viz.render.find_dot).
    """

    info = None
    _prefer = None

    def pipe(self, format=None, renderer=None, formatter=None, neato_no_op=None,
             quiet=False, *, engine=None, encoding=None):
        data = render_source(self.source, format or self.format or "svg", prefer=self._prefer)
        return data.decode(encoding) if encoding else data

    def write(self, path) -> str:
        """Render to ``path`` in the format its suffix names (.svg, .png, .dot/.gv)."""
        return write(self.source, path, prefer=self._prefer)

    def render(self, filename=None, directory=None, view=False, cleanup=False, format=None,
               *args, outfile=None, **kwargs):
        """As graphviz's render (saves the source, then the output), with this renderer."""
        if outfile is not None:
            out = os.path.join(directory, outfile) if directory else str(outfile)
            return write(self.source, out, prefer=self._prefer)
        src = self.save(filename, directory=directory)
        out = write(self.source, f"{src}.{format or self.format or 'svg'}", prefer=self._prefer)
        if cleanup:
            os.remove(src)
        return out

    def copy(self):
        new = super().copy()
        new.info, new._prefer = self.info, self._prefer
        return new


def draw_graph(root, path=None, params=None, *, model=None, max_nodes=500, depth=None,
               collapse=None, saturation=0.01, mark_fraction=0.1, vanishing=1e-3,
               exploding=1e3, legend=True, title=None, rankdir="LR", digits=4,
               renderer=None):
    """Draw the graph behind ``root`` with values, gradients, and unhealthy units marked.

    Returns a GradGraph (a graphviz.Digraph; ``.info`` holds every statistic); writes SVG,
    PNG or DOT to ``path`` by its suffix. Call it after ``root.backward()`` to see gradients
    (before, it shows the forward pass only).

    * params: dict name -> Value, or a Module (``named_parameters()``): names parameter leaves.
    * model: a Module (clusters by parameter: a node joins the module of its nearest parameter
      ancestor) or the trace from ``with viz.trace_modules(model) as trace:`` (exact clusters).
    * max_nodes: refuse a larger graph with a message saying how to collapse it;
      collapse="modules" draws one node per module; depth=N only the N hops nearest the
      output (the rest becomes one "more" node).
    * saturation: |f'| below which a sigmoid/tanh/ELU activation counts as saturated;
      mark_fraction: the dead or saturated fraction from which a node is marked;
      vanishing / exploding: gradient RMS relative to the reference near the output.
    * legend, title, rankdir ("LR" or "TB"), digits (significant digits of one-element
      numbers), renderer (None, "system" or "graphviz-pure").
    """
    info = analyze(root, params, model=model, depth=depth, collapse=collapse,
                   max_nodes=max_nodes, saturation=saturation, mark_fraction=mark_fraction,
                   vanishing=vanishing, exploding=exploding)
    classes = _module_classes(model) if model is not None else {}
    lines = _dot_body(info, classes, legend=legend, digits=digits)
    graph_attr = {"rankdir": rankdir, "nodesep": "0.25", "ranksep": "0.5",
                  "fontname": "Helvetica", "bgcolor": "white", "newrank": "true"}
    g = GradGraph(name="gradient_flow", graph_attr=graph_attr,
            node_attr={"shape": "plaintext", "fontname": "Helvetica", "fontsize": "11",
                       "margin": "0"},
            edge_attr={"fontname": "Helvetica", "fontsize": "9", "arrowsize": "0.6",
                       "fontcolor": "#333333"},
            body=lines)
    if legend or title is not None:  # the graph's label: bottom right, apart from the layout
        g.body.insert(0, f"\tlabel={_legend_html(info.settings, title, legend, info.nodes)}\n")
        g.body.insert(1, "\tlabelloc=b labeljust=r\n")
    g.info, g._prefer = info, renderer
    if path is not None:
        g.write(path)
    return g


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
    # header: name and op
    op = f"<I>{h(n.op_label)}</I>" if n.op_label else ""
    if n.name is not None:
        head = f"<B>{h(n.name)}</B>" + (f"  {op}" if op else "")
    elif op:
        head = f"<B>{h(n.op_label)}</B>"
    else:
        head = f"<I>{n.kind}</I>"
    if n.kind == "module" and n.members > 1:
        head += f' <FONT POINT-SIZE="9">({n.members} nodes)</FONT>'
    rows.append(f"<TR><TD>{head}</TD></TR>")
    # value
    if n.value is not None and not n.shape:
        val = f"data {_fmt(n.value, digits)}"
    elif n.value is not None:
        val = f"{_shape(n.shape)} data {_fmt(n.value, digits)}"
    elif n.mean is not None:
        val = f"{_shape(n.shape)} mean {_fmt(n.mean, 3)} std {_fmt(n.std, 3)}"
    else:
        val = _shape(n.shape)
    if n.dtype not in ("float64", ""):
        val += f" {n.dtype}"
    rows.append(f'<TR><TD><FONT POINT-SIZE="{9 if small else 10}">{h(val)}</FONT></TD></TR>')
    # gradient (the cell has an id, for the animation, and so its own copy of the tooltip)
    tip = h(n.summary(), newline="&#10;")
    if n.reached:
        if n.grad is not None:
            gtxt = f"grad {_fmt(n.grad, digits)}"
        else:
            gtxt = f"grad norm {_fmt(n.grad_norm, 3)}"
            if n.grad_rel is not None:
                gtxt += f"  ({_fmt(n.grad_rel, 2)} x ref)"
        bg = grad_colour(n.grad_rel) if n.grad_rel is not None else "#ffffff"
        rows.append(f'<TR><TD BGCOLOR="{bg}" ID="{n.id}_grad" TOOLTIP="{tip}">'
                    f'<FONT COLOR="{_text_colour(bg)}">{h(gtxt)}</FONT></TD></TR>')
    elif n.kind not in ("input", "const"):
        rows.append(f'<TR><TD ID="{n.id}_grad" TOOLTIP="{tip}"><FONT '
                    f'COLOR="#888888">grad None</FONT></TD></TR>')
    for p_name, p_shape, p_gn in n.params:
        rows.append(f'<TR><TD><FONT POINT-SIZE="9">{h(p_name)} {_shape(p_shape)} |grad| '
                    f'{_fmt(p_gn, 3)}</FONT></TD></TR>')
    # unit health
    if n.units is not None and n.units <= 1 and not n.status:
        pass  # one unit that is fine: nothing to say
    elif n.dead_fraction is not None:
        k, u = len(n.dead_units), n.units
        txt = f"{100 * n.dead_fraction:.0f}% of units ({k}/{u})"
        rows.append(_status_row("dead" in n.status, DEAD, f"DEAD {txt}", f"dead {txt}"))
    if n.saturated_fraction is not None and not (n.units is not None and n.units <= 1
                                                  and not n.status):
        txt = f"{100 * n.saturated_fraction:.0f}% (|f'| &lt; {_fmt(s['saturation'], 2)})"
        rows.append(_status_row("saturated" in n.status, SATURATED, f"SATURATED {txt}",
                                f"saturated {txt}", raw=True))
    gmark = f' ID="{n.id}_gmark" TOOLTIP="{tip}"'
    if "vanishing" in n.status:
        rows.append(_status_row(True, VANISHING, f"VANISHING grad {_fmt(n.grad_rel, 2)} x ref", "",
                                td=gmark))
    if "exploding" in n.status:
        rows.append(_status_row(True, EXPLODING, f"EXPLODING grad {_fmt(n.grad_rel, 2)} x ref", "",
                                td=gmark))
    if "non-finite" in n.status:
        rows.append(_status_row(True, EXPLODING, "NON-FINITE grad (nan or inf)", "", td=gmark))
    if n.unit_badness is not None and n.units and n.units > 1:
        rows.append(f"<TR><TD>{_strip(n)}</TD></TR>")
    marked = [x for x in _PRIORITY if x in n.status]
    border = STATUS_COLOUR[marked[0]] if marked else ("#aaaaaa" if small else "#555555")
    width = 3 if marked else 1
    fill = KIND_FILL.get(n.kind, "#ffffff")
    return (f'<<TABLE BORDER="{width}" COLOR="{border}" CELLBORDER="0" CELLSPACING="0" '
            f'CELLPADDING="{2 if small else 3}" BGCOLOR="{fill}">{"".join(rows)}</TABLE>>')


def _status_row(marked, colour, loud, quiet, raw=False, td="") -> str:
    h = (lambda t: t) if raw else esc.dot_html
    if marked:
        return (f'<TR><TD BGCOLOR="{colour}"{td}><FONT COLOR="{_text_colour(colour)}"><B>'
                f'{h(loud)}</B></FONT></TD></TR>')
    return f'<TR><TD><FONT POINT-SIZE="9" COLOR="#555555">{h(quiet)}</FONT></TD></TR>'


def _strip(n: NodeInfo, cells=40) -> str:
    """One small cell per unit (units binned past ``cells``): green healthy, red or orange bad."""
    b = np.asarray(n.unit_badness, dtype=np.float64)
    bad = DEAD if n.dead_fraction is not None else SATURATED
    if b.size > cells:
        edges = np.linspace(0, b.size, cells + 1).astype(int)
        b = np.array([b[i:j].mean() for i, j in zip(edges[:-1], edges[1:])])
    w = max(3, min(10, 160 // max(len(b), 1)))
    tds = "".join(f'<TD BGCOLOR="{_mix(HEALTHY, bad, x)}" WIDTH="{w}" HEIGHT="7" FIXEDSIZE="TRUE">'
                  f"</TD>" for x in b)
    return f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="1" CELLPADDING="0"><TR>{tds}</TR></TABLE>'


def _shape(shape) -> str:
    return "(" + ", ".join(str(d) for d in shape) + (",)" if len(shape) == 1 else ")")


def _edge_attrs(e: EdgeInfo, src: NodeInfo, dst: NodeInfo, digits: int) -> str:
    h = esc.dot_html
    attrs = [f'id="e_{e.src}_{e.dst}_{e.index}"', f'class="edge to-{e.dst}"']
    if e.src == "more":
        attrs += ['style="dashed"', 'color="#999999"', 'arrowhead="none"']
        return ", ".join(attrs)
    if src.kind in ("input", "const") and not src.reached:
        attrs += ['color="#b0b0b0"', 'style="dotted"',
                  f'tooltip="{esc.dot_string(f"{_who(src)} -> {_who(dst)}: no gradient (requires_grad=False)")}"']
        return ", ".join(attrs)
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
    attrs += [f'color="{colour}"', f'penwidth="{width:.2f}"']
    if lines:
        label = "<BR/>".join(h(x) for x in lines)
        attrs.append(f"label=<{label}>")
    tip = _edge_tooltip(e, src, dst)
    attrs += [f'tooltip="{esc.dot_string(tip)}"', f'labeltooltip="{esc.dot_string(tip)}"']
    return ", ".join(attrs)


def _who(n: NodeInfo) -> str:
    return f"{n.id} ({n.name or n.op_label or n.kind})"


def _describe(a) -> str:
    if a is None:
        return "None"
    if isinstance(a, str):
        return a
    a = np.asarray(a)
    if a.size == 1:
        return _fmt(a.item(), 6)
    if a.size == 0:
        return f"shape {_shape(a.shape)} (empty)"
    af = a.astype(np.float64, copy=False)
    return (f"shape {_shape(a.shape)} norm {_fmt(_norm(af))} mean {_fmt(af.mean())} "
            f"min {_fmt(af.min())} max {_fmt(af.max())}")


def _edge_tooltip(e, src, dst) -> str:
    return "\n".join([
        f"{_who(src)} -> {_who(dst)}, input {e.index} of {dst.op_label or dst.op}",
        f"upstream (grad reaching {dst.id}): {_describe(e.up)}",
        f"local (d {dst.id} / d {src.id}): {_describe(e.local)}",
        f"downstream (grad sent to {src.id}): {_describe(e.down)}",
    ])


def _dot_body(info: GraphInfo, classes: dict, legend=True, digits=4) -> list:
    s = info.settings
    by_id = {n.id: n for n in info.nodes}
    node_lines = {}
    for n in info.nodes:
        cls = " ".join(["tgl", f"kind-{n.kind}"] + [f"status-{x}" for x in n.status])
        tip = esc.dot_string(n.summary()) if n.kind != "more" else "nodes not drawn"
        node_lines[n.id] = (f'{n.id} [id="{n.id}", class="{cls}", tooltip="{tip}", '
                            f"label={_node_html(n, s, digits)}]")
    lines = []
    # clusters: nested by dotted module names
    tree = {"nodes": [], "children": {}}
    for n in info.nodes:
        place = tree
        if n.module:
            path = _cluster_path(n.module, classes, is_module_node=n.kind == "module")
            for p in path:
                place = place["children"].setdefault(p, {"nodes": [], "children": {}})
        place["nodes"].append(n.id)
    counter = [0]

    def emit(branch, indent):
        pad = "\t" * indent
        for nid in branch["nodes"]:
            lines.append(f"{pad}{node_lines[nid]}\n")
        for name, sub in branch["children"].items():
            k = counter[0]
            counter[0] += 1
            cls = classes.get(name)
            label = esc.dot_html(name) + (f" ({esc.dot_html(cls)})" if cls else "")
            lines.append(f"{pad}subgraph cluster_m{k} {{\n")
            lines.append(f'{pad}\tlabel=<<FONT POINT-SIZE="10">{label}</FONT>> style="rounded,dashed" '
                         f'color="#7f7f7f" fontname="Helvetica" labelloc=t labeljust=l '
                         f'id="cluster_m{k}"\n')
            emit(sub, indent + 1)
            lines.append(f"{pad}}}\n")

    emit(tree, 1)
    for e in info.edges:
        lines.append(f"\t{e.src} -> {e.dst} [{_edge_attrs(e, by_id[e.src], by_id[e.dst], digits)}]\n")
    return lines


def _cluster_path(module: str, classes: dict, is_module_node=False) -> list:
    parts = module.split(".")
    prefixes = [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
    if is_module_node:
        prefixes = prefixes[:-1]
    if classes:
        prefixes = [p for p in prefixes if p in classes]
    return prefixes


def _legend_html(s: dict, title=None, legend=True, nodes=()) -> str:
    """The graph's label: an optional title, then the legend (colour scale and marks).

    The rows on dead and saturated units and on unit strips appear when the graph has
    nodes they apply to."""
    has_dead = any(n.dead_fraction is not None for n in nodes)
    has_sat = any(n.saturated_fraction is not None for n in nodes)
    has_strip = any(n.unit_badness is not None and (n.units or 0) > 1 for n in nodes)
    stops = [(1e-6, "1e-6"), (1e-4, "1e-4"), (1e-2, "0.01"), (1e-1, "0.1"), (1.0, "1"),
             (1e2, "100"), (1e4, "&gt;1e3")]
    n = len(stops)
    rows = []
    if title is not None:
        rows.append(f'<TR><TD COLSPAN="{n}" ALIGN="LEFT"><FONT POINT-SIZE="14"><B>'
                    f"{esc.dot_html(title)}</B></FONT></TD></TR>")
    if legend:
        cells = "".join(f'<TD BGCOLOR="{grad_colour(v)}" WIDTH="34" FIXEDSIZE="TRUE" HEIGHT="14">'
                        f'<FONT POINT-SIZE="8" COLOR="{_text_colour(grad_colour(v))}">{t}</FONT>'
                        f"</TD>" for v, t in stops)
        cells = (f'<TD COLSPAN="{n}" ALIGN="LEFT"><TABLE BORDER="0" CELLBORDER="0" '
                 f'CELLSPACING="1" CELLPADDING="0"><TR>{cells}</TR></TABLE></TD>')

        def row(colour, text):
            return (f'<TR><TD BGCOLOR="{colour}" WIDTH="34" HEIGHT="12" FIXEDSIZE="TRUE"></TD>'
                    f'<TD COLSPAN="{n - 1}" ALIGN="LEFT"><FONT POINT-SIZE="9">{text}</FONT>'
                    f"</TD></TR>")

        mark = f"{100 * s['mark_fraction']:.0f}%"
        marks = []
        if has_dead:
            marks.append(row(DEAD, f"dead: ReLU unit &lt;= 0 on every example, zero gradient "
                                   f"(marked from {mark} of units)"))
        if has_sat:
            marks.append(row(SATURATED, f"saturated: |f'| &lt; {_fmt(s['saturation'], 2)} "
                                        f"(sigmoid, tanh, ELU; marked from {mark} of "
                                        f"activations)"))
        marks += [
            row(VANISHING, f"vanishing: gradient &lt; {_fmt(s['vanishing'], 2)} x reference"),
            row(EXPLODING, f"exploding: gradient &gt; {_fmt(s['exploding'], 2)} x reference, "
                           f"or nan/inf"),
        ]
        if has_strip:
            marks.append(row(HEALTHY, "unit strip: one cell per unit, green healthy, red dead, "
                                      "orange saturated"))
        rows += [
            f'<TR><TD COLSPAN="{n}" ALIGN="LEFT"><FONT POINT-SIZE="9"><B>How to read:</B> '
            f"node = name op / data / grad; edge = up * local = down (tensors: norms |.|, product elementwise)."
            f"</FONT></TD></TR>",
            f'<TR><TD COLSPAN="{n}" ALIGN="LEFT"><FONT POINT-SIZE="9">Gradient RMS relative to '
            f"the reference near the output (grad rows and edges; thin pale edges: vanishing)"
            f"</FONT></TD></TR>",
            f"<TR>{cells}</TR>",
        ] + marks
    border = "1" if legend else "0"
    return (f'<<TABLE BORDER="{border}" COLOR="#999999" CELLBORDER="0" CELLSPACING="1" '
            f'CELLPADDING="2" BGCOLOR="#ffffff">{"".join(rows)}</TABLE>>')
