"""Gradient flow over training time: per-node statistics of values and gradients, step by step.

``Recorder(model)`` watches a training loop. Call ``rec.record(loss, step)`` after
``loss.backward()`` (and before the optimizer's ``zero_grad``); it walks the graph behind
``loss`` and keeps, for every node, a few numbers of its value and of its gradient:

* mean, std, min and max of the value; mean, std, norm, min and max of the gradient;
* a small histogram of each (``bins`` bins between the step's min and max; above ``sample``
  elements it counts an evenly strided sample of them, so recording stays cheap);
* for ReLU nodes the fraction of units that are dead (the unit's local gradient is 0 for every
  example of the batch), for sigmoid, tanh and ELU nodes the fraction of units saturated on
  every example and the fraction of activations saturated (local gradient ``|f'| <
  saturation``, 0.01 as everywhere in the project); a strip of cells, one per group of units,
  with the share of bad units;
* for every edge ``p -> v`` (input ``i`` of op ``v``): the norm of the local gradient
  ``d v / d p`` where the op gives it as an array, and the norm of the gradient sent down to
  ``p`` where it can be read without recomputing a backward pass. The upstream gradient of the
  edge is ``v``'s gradient, whose norm is a node statistic.

It keeps numbers only, never arrays of the graph: memory grows as nodes x recorded steps x a
constant (about a kilobyte), and the graph is freed as usual after the step. It reads
``.data``, ``.grad`` and the ops' local gradients and writes nothing: training runs the same
with or without it.

Node identity, the same from step to step
-----------------------------------------
* parameters: their dotted names from ``model.named_parameters()`` (or the ``params`` dict);
* op nodes: the innermost module that computed them (known exactly from forward hooks that the
  Recorder registers on the model's modules; without a model, the module of the nearest
  parameter) and their position among that module's nodes of the same op, in the order the
  forward pass created them: ``"2 relu #0"`` is the first ReLU of module ``2``,
  ``"0 + #0"`` the first addition of module ``0``, ``"softmax_cross_entropy #0"`` an op
  outside every module;
* other leaves (the data): their label, else ``"input #k"`` in order of first use.
"""
from __future__ import annotations

import math
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from .info import SATURATION  # saturated: local gradient |f'| below it (0.01, as everywhere)
from .modules import param_names

__all__ = ["Recorder", "NodeMeta", "EdgeMeta", "NODE_STATS", "EDGE_STATS"]

DYING = frozenset({"relu"})
SATURATING = frozenset({"sigmoid", "tanh", "elu"})

# the per-step numbers of a node and of an edge, in the order ``columns`` returns them
NODE_STATS = ("mean", "std", "min", "max", "grad_mean", "grad_std", "grad_norm", "grad_min",
              "grad_max", "dead", "saturated", "saturated_act", "strip", "hist", "grad_hist")
EDGE_STATS = ("local_norm", "down_norm")


@dataclass
class NodeMeta:
    """What stays the same about a node: identity, op, shape, module, kind.

    kind: "param" (a leaf that requires grad), "input" (a leaf without grad: data), "op".
    group: "activation", "param-matrix" (ndim >= 2) or "param-vector": gradients of each group
    are compared with the one nearest the output. depth: hops from the output (at first sight).
    units: for ReLU, sigmoid, tanh and ELU nodes, the number of units (axis 1, or every entry
    of a 1-D value).
    """

    key: str
    op: str
    kind: str
    shape: tuple
    dtype: str
    module: str | None
    label: str | None
    depth: int
    group: str
    units: int | None = None
    first_step: int = 0

    @property
    def size(self) -> int:
        return int(np.prod(self.shape)) if self.shape else 1

    @property
    def name(self) -> str:
        """The name a drawing shows: a parameter's name, a label, else the identity."""
        if self.kind == "op" and self.label:
            return f"{self.label} ({self.op})"
        return self.key


@dataclass
class EdgeMeta:
    """Edge ``src -> dst``: input ``index`` of the op at ``dst``. ``rule``: how the op's
    local gradient is applied when it is not an elementwise array (e.g. ``"a.T @ grad"``)."""

    src: str
    dst: str
    index: int
    rule: str | None = None

    @property
    def key(self) -> tuple:
        return (self.src, self.dst, self.index)


@dataclass
class _Series:
    """One node's or edge's numbers, one list per statistic, aligned with Recorder.steps."""

    cols: dict = field(default_factory=dict)

    def pad(self, names, n):
        cols = self.cols
        if cols and len(cols[names[0]]) == n:
            return  # recorded at the previous step: nothing is missing
        for c in names:
            col = cols.setdefault(c, [])
            if len(col) < n:
                col.extend([None] * (n - len(col)))


class _Work:
    """What one record() computes once: moments of each array (an op that passes its
    gradient on unchanged, such as a bias add, gives two nodes one gradient array) and each
    op's local gradients (read by the unit statistics and by the edges)."""

    def __init__(self) -> None:
        self._moments: dict[int, tuple] = {}
        self._locals: dict[tuple, object] = {}

    def moments(self, a: np.ndarray, bins: int, sample: int) -> tuple:
        hit = self._moments.get(id(a))
        if hit is not None and hit[0] is a:
            return hit[1]
        m = _moments(a, bins, sample)
        self._moments[id(a)] = (a, m)  # the array is kept: its id stays its own
        return m

    def local(self, v, i):
        key = (id(v), i)
        if key not in self._locals:
            self._locals[key] = (v, _local(v.ctx, i))
        return self._locals[key][1]


class Recorder:
    """Statistics of every node's value and gradient at each recorded training step.

    Recorder(model=None, params=None, every=1, bins=16, saturation=0.01, sample=4096,
             strip_cells=40)

    * model: a Module. Its parameters give leaves their dotted names, and forward hooks on its
      modules (registered now, removed by ``close()``) tell which module computed each node.
    * params: a dict name -> Value (or a Module) naming leaves, where there is no model.
    * every: record only steps that are multiples of ``every``.
    * bins: histogram bins; sample: elements counted in a histogram at most (an evenly
      strided sample of larger arrays; the other statistics use every element);
      strip_cells: cells of the unit strip; saturation: |f'| below which a unit is saturated.

    After ``loss.backward()``: ``rec.record(loss, step)``. Then ``rec.steps``, ``rec.losses``,
    ``rec.nodes`` (identity -> NodeMeta), ``rec.series(key, stat)`` (one number per recorded
    step), ``rec.at(key, step)`` (every number of one step), ``rec.edges``, and
    ``viz.explore(rec)`` draws it all.
    """

    def __init__(self, model=None, params=None, every=1, bins=16, saturation=SATURATION,
                 sample=4096, strip_cells=40) -> None:
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"Recorder: every must be a positive int, not {every!r}")
        if not isinstance(bins, int) or bins < 1:
            raise ValueError(f"Recorder: bins must be a positive int, not {bins!r}")
        if model is not None and not hasattr(model, "named_parameters"):
            raise TypeError(f"Recorder: model must be a Module (with named_parameters()), not "
                            f"{type(model).__name__}")
        self.model = model
        self.every = every
        self.bins = bins
        self.saturation = float(saturation)
        self.sample = max(int(sample), bins)
        self.strip_cells = max(int(strip_cells), 1)
        self.steps: list[int] = []
        self.losses: list[float | None] = []
        self.nodes: dict[str, NodeMeta] = {}
        self.edges: dict[tuple, EdgeMeta] = {}
        self._node_series: dict[str, _Series] = {}
        self._edge_series: dict[tuple, _Series] = {}
        self._params = params
        self._calls: list = []  # (module name, weakrefs of inputs, weakrefs of outputs)
        self._handles: list = []
        self._classes: dict[str, str] = {}
        self._count = 0  # record() calls, the step when none is given
        if model is not None and hasattr(model, "named_modules"):
            for name, module in model.named_modules():
                self._classes[name] = type(module).__name__
                if name and hasattr(module, "register_forward_hook"):
                    self._handles.append(module.register_forward_hook(self._hook(name)))

    # -- hooks ----------------------------------------------------------------------------
    def _hook(self, name):
        calls = self._calls

        def hook(module, inputs, output):
            calls.append((name, _weak_values(inputs), _weak_values(output)))
            if len(calls) > 20_000:  # record() is not being called: drop calls long gone
                calls[:] = [c for c in calls if any(r() is not None for r in c[2])]
        return hook

    def close(self) -> None:
        """Remove the forward hooks from the model (the numbers recorded stay)."""
        for h in self._handles:
            h.remove()
        self._handles = []
        self._calls.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    @property
    def module_classes(self) -> dict:
        """Module path -> class name ("0" -> "Linear"), from the model."""
        return dict(self._classes)

    # -- recording --------------------------------------------------------------------------
    def record(self, root, step=None, loss=None) -> bool:
        """Measure every node of the graph behind ``root`` (after ``root.backward()``).

        step: the training step (default: the number of earlier calls); recorded when a
        multiple of ``every``. loss: the number for the loss chart; default ``root``'s value
        when it has one element. Returns True when this step was recorded.
        """
        from tinygrad_lite import Value

        if not isinstance(root, Value):
            raise TypeError(f"Recorder.record: root must be a Value, not {type(root).__name__}")
        if step is None:
            step = self._count
        self._count += 1
        if not isinstance(step, (int, np.integer)):
            raise TypeError(f"Recorder.record: step must be an int, not {type(step).__name__}")
        step = int(step)
        calls, self._calls[:] = list(self._calls), []
        if step % self.every:
            return False
        if self.steps and step <= self.steps[-1]:
            raise ValueError(f"Recorder.record: step {step} comes after step {self.steps[-1]}; "
                             f"steps must increase")
        if loss is None and _size(root) == 1:
            loss = root.item()
        j = len(self.steps)
        self.steps.append(step)
        self.losses.append(None if loss is None else float(loss))
        with np.errstate(all="ignore"):  # a nan or inf is recorded, not warned about
            self._measure(root, calls, step, j)
        return True

    @contextmanager
    def step(self, loss) -> Iterator[Recorder]:
        """``with rec.step(loss): opt.step()``: records ``loss`` (after ``backward()``) at the
        next step number, as tinygrad_lite.monitor.Monitor.step is used, so a training loop
        that takes a monitor (``sgd_epochs(..., monitor=rec)``) records with no change."""
        self.record(loss)
        yield self

    def _measure(self, root, calls, step, j) -> None:
        from tinygrad_lite import backward_order

        order = backward_order(root) if root.requires_grad else [root]
        in_graph = {id(v) for v in order}
        inputs, seen = [], set()
        for v in order:  # leaves without grad that feed the graph: the data
            for p in v.parents:
                if id(p) not in in_graph and id(p) not in seen and (_size(p) > 1 or p.label):
                    seen.add(id(p))
                    inputs.append(p)
        nodes = inputs + order  # inputs first, then creation order (inputs before outputs)
        keys = _identities(nodes, root, calls, self._names(), order)
        depth = _depths(root, {id(v) for v in nodes})
        consumers: dict[int, int] = {}
        for v in order:
            for p in v.parents:
                consumers[id(p)] = consumers.get(id(p), 0) + 1
        work = _Work()
        grad_norms: dict[int, float | None] = {}
        for v in nodes:
            key, module = keys[id(v)]
            meta = self.nodes.get(key)
            if meta is None:
                meta = self.nodes[key] = _meta(v, key, module, depth.get(id(v), 0), step)
                self._node_series[key] = _Series()
            series = self._node_series[key]
            series.pad(NODE_STATS, j)
            stats = self._node_stats(v, meta, work)
            grad_norms[id(v)] = stats["grad_norm"]
            cols = series.cols
            for name in NODE_STATS:
                cols[name].append(stats[name])
        for v in order:
            ctx = v.ctx
            if ctx is None:
                continue
            g = v.grad if v.requires_grad else None
            for i, p in enumerate(ctx.parents):
                if id(p) not in keys:
                    continue  # a folded constant
                ek = (keys[id(p)][0], keys[id(v)][0], i)
                local = work.local(v, i)
                emeta = self.edges.get(ek)
                if emeta is None:
                    emeta = self.edges[ek] = EdgeMeta(*ek, rule=local if isinstance(local, str)
                                                      else None)
                    self._edge_series[ek] = _Series()
                es = self._edge_series[ek]
                es.pad(EDGE_STATS, j)
                es.cols["local_norm"].append(_norm(local) if isinstance(local, np.ndarray)
                                             else None)
                if g is None or not p.requires_grad:
                    down = None
                elif consumers.get(id(p)) == 1:  # p's gradient is what this edge sent
                    down = grad_norms.get(id(p))
                else:
                    down = _down_norm(p, v, g, local)
                es.cols["down_norm"].append(down)
        n = j + 1
        for series in self._node_series.values():
            series.pad(NODE_STATS, n)
        for es in self._edge_series.values():
            es.pad(EDGE_STATS, n)

    def _names(self) -> dict:
        return param_names(self._params, self.model, who="Recorder")

    def _node_stats(self, v, meta: NodeMeta, work: _Work) -> dict:
        out: dict = dict.fromkeys(NODE_STATS)
        size = _size(v)
        if size == 1 and meta.shape == ():
            x = v.item()  # .item() leaves a scalar on the engine's fast float path
            out.update(mean=x, std=0.0, min=x, max=x, hist=_hist1(x, self.bins))
        elif size:
            m = work.moments(v.data, self.bins, self.sample)
            out.update(mean=m[0], std=m[1], min=m[2], max=m[3], hist=m[5])
        g = v.grad if v.requires_grad else None
        if g is not None and g.size:
            m = work.moments(g, self.bins, self.sample)
            out.update(grad_mean=m[0], grad_std=m[1], grad_min=m[2], grad_max=m[3],
                       grad_norm=m[4], grad_hist=m[5])
        elif g is not None:
            out["grad_norm"] = 0.0
        if meta.units is not None and v.ctx is not None:
            out.update(self._unit_stats(v, meta, work))
        return out

    def _unit_stats(self, v, meta: NodeMeta, work: _Work) -> dict:
        local = work.local(v, 0)
        if not isinstance(local, np.ndarray) or local.shape != tuple(v.shape) or not local.size:
            return {}
        lg = _units_view(np.abs(local))  # (examples, units)
        if meta.op in DYING:
            dead = np.asarray(~lg.any(axis=0))  # zero local gradient on every example
            return {"dead": float(dead.mean()), "strip": _strip(dead, self.strip_cells)}
        sat = lg < self.saturation
        per_unit = sat.mean(axis=0)
        return {"saturated": float((per_unit == 1.0).mean()), "saturated_act": float(sat.mean()),
                "strip": _strip(per_unit, self.strip_cells)}

    # -- reading ------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self):
        span = f"steps {self.steps[0]}..{self.steps[-1]}" if self.steps else "no steps yet"
        return (f"Recorder({len(self.nodes)} nodes, {len(self.edges)} edges, "
                f"{len(self.steps)} recorded, {span})")

    def _index(self, step) -> int:
        try:
            return self.steps.index(int(step))
        except ValueError:
            raise KeyError(f"Recorder: step {step} was not recorded (recorded: "
                           f"{_span(self.steps)})") from None

    def _node_key(self, key) -> str:
        if key in self.nodes:
            return key
        hits = [k for k, m in self.nodes.items() if m.label == key]
        if len(hits) == 1:
            return hits[0]
        close = [k for k in self.nodes if str(key) in k][:5]
        raise KeyError(f"Recorder: no node {key!r}" + (f"; did you mean one of {close}?"
                                                       if close else ""))

    def series(self, key, stat) -> list:
        """One statistic of a node over the recorded steps (None where it was absent)."""
        key = self._node_key(key)
        if stat not in NODE_STATS:
            raise KeyError(f"Recorder.series: no statistic {stat!r}; one of {NODE_STATS}")
        return list(self._node_series[key].cols[stat])

    def at(self, key, step) -> dict:
        """Every statistic of a node at one recorded step; ``hist`` and ``grad_hist`` are
        ``(lo, hi, counts)`` (counts an int array of ``bins``), None where they do not apply."""
        key = self._node_key(key)
        j = self._index(step)
        return {c: self._node_series[key].cols[c][j] for c in NODE_STATS}

    def edge_at(self, edge, step) -> dict:
        """``local_norm`` and ``down_norm`` of edge ``(src, dst, index)`` at one step, with
        ``up_norm``: the norm of the gradient that reached ``dst``."""
        if edge not in self.edges:
            raise KeyError(f"Recorder: no edge {edge!r}")
        j = self._index(step)
        out = {c: self._edge_series[edge].cols[c][j] for c in EDGE_STATS}
        out["up_norm"] = self._node_series[edge[1]].cols["grad_norm"][j]
        return out

    def grad_rms_range(self, q=(0.02, 0.98), ops_only=True) -> tuple | None:
        """(low, high) percentiles ``q`` of the gradient RMS per element over every recorded
        step of every op node (all nodes with ops_only=False); None without a gradient.

        viz.explore colours by it; pass the widest of several Recorders' ranges to
        ``explore(..., grad_range=...)`` to give their pages one scale."""
        logs = []
        for key, meta in self.nodes.items():
            if meta.depth == 0 or (ops_only and meta.kind != "op"):
                continue
            size = math.sqrt(max(meta.size, 1))
            for gn in self._node_series[key].cols["grad_norm"]:
                if gn is not None and gn > 0 and math.isfinite(gn):
                    logs.append(gn / size)
        if not logs:
            return self.grad_rms_range(q, ops_only=False) if ops_only else None
        lo, hi = np.quantile(np.asarray(logs), q)
        return float(lo), float(hi)

    def columns(self, key) -> dict:
        """Every statistic of a node, each a list over the recorded steps (shared, read only)."""
        return self._node_series[self._node_key(key)].cols

    def edge_columns(self, edge) -> dict:
        return self._edge_series[edge].cols


# -- helpers --------------------------------------------------------------------------------------
def _weak_values(obj) -> tuple:
    from tinygrad_lite import Value

    out, stack = [], [obj]
    while stack:
        o = stack.pop()
        if isinstance(o, Value):
            out.append(weakref.ref(o))
        elif isinstance(o, (tuple, list)):
            stack.extend(reversed(o))
        elif isinstance(o, dict):
            stack.extend(reversed(list(o.values())))
    return tuple(out)


def _identities(nodes, root, calls, names, order) -> dict:
    """id(Value) -> (identity, module) for every node (see the module docstring)."""
    present = {id(v): v for v in nodes}
    owner: dict[int, str] = {}
    for name, ins, outs in calls:  # inner modules finish first: setdefault keeps the innermost
        stop = {id(r()) for r in ins if r() is not None}
        stack = [o for o in (r() for r in outs) if o is not None and id(o) in present]
        seen = set()
        while stack:
            v = stack.pop()
            if id(v) in seen or id(v) in stop or v.ctx is None:
                continue
            seen.add(id(v))
            owner.setdefault(id(v), name)
            stack.extend(p for p in v.parents if id(p) in present)
    if not calls:  # no hooks: the module of the nearest parameter (forward order: inputs first)
        dist: dict[int, int] = {}
        for v in nodes:
            n = names.get(id(v))
            if n is not None:
                if "." in n:
                    dist[id(v)] = 0
                    owner[id(v)] = n.rsplit(".", 1)[0]
                continue
            best = None
            for p in v.parents:
                if id(p) in dist and (best is None or dist[id(p)] < best[0]):
                    best = (dist[id(p)], owner[id(p)])
            if best is not None and v.ctx is not None:
                dist[id(v)] = best[0] + 1
                owner[id(v)] = best[1]
    keys: dict[int, tuple] = {}
    counters: dict[str, int] = {}
    taken: set = set()

    def unique(base: str, numbered: bool) -> str:
        # numbered: "0 relu #0", "0 relu #1", ...; else "X", then "X #1", ...
        while True:
            k = counters.get(base, 0)
            counters[base] = k + 1
            key = f"{base} #{k}" if numbered or k else base
            if key not in taken:
                taken.add(key)
                return key

    for v in nodes:
        n = names.get(id(v))
        if n is not None:
            module = n.rsplit(".", 1)[0] if "." in n else None
            keys[id(v)] = (unique(n, False), module)
        elif v.ctx is None:
            base = v.label or ("param" if v.requires_grad else "input")
            keys[id(v)] = (unique(str(base), not v.label), None)
        else:
            module = owner.get(id(v))
            keys[id(v)] = (unique(f"{module} {v.op}" if module else v.op, True), module)
    return keys


def _depths(root, present) -> dict:
    """Hops from root, breadth first, within ``present``."""
    depth = {id(root): 0}
    frontier = [root]
    while frontier:
        nxt = []
        for v in frontier:
            d = depth[id(v)] + 1
            for p in v.parents:
                if id(p) in present and id(p) not in depth:
                    depth[id(p)] = d
                    nxt.append(p)
        frontier = nxt
    return depth


def _meta(v, key, module, depth, step) -> NodeMeta:
    op = v.op
    if v.ctx is not None:
        kind = "op"
    else:
        kind = "param" if v.requires_grad else "input"
    group = "activation" if kind != "param" else ("param-matrix" if len(v.shape) >= 2
                                                  else "param-vector")
    units = None
    if op in DYING or op in SATURATING:
        shape = tuple(v.shape)
        units = 1 if not shape else (shape[0] if len(shape) == 1 else shape[1])
    return NodeMeta(key=key, op=op, kind=kind, shape=tuple(v.shape), dtype=str(v.dtype),
                    module=module, label=v.label, depth=depth, group=group, units=units,
                    first_step=step)


def _size(v) -> int:
    """Elements of a Value, from its shape (the public API: no engine internals)."""
    return math.prod(v.shape)


def _units_view(a: np.ndarray) -> np.ndarray:
    """(examples, units): axis 1 holds the units (features, channels); 1-D is one example."""
    if a.ndim == 0:
        return a.reshape(1, 1)
    if a.ndim == 1:
        return a.reshape(1, -1)
    return np.moveaxis(a, 1, -1).reshape(-1, a.shape[1])


def _strip(bad: np.ndarray, cells: int) -> str:
    """Share of bad units per cell (units in ``cells`` even groups), one digit 0..9 per cell."""
    b = np.asarray(bad, dtype=np.float64)
    if b.size > cells:
        edges = np.linspace(0, b.size, cells + 1).astype(int)
        b = np.add.reduceat(b, edges[:-1]) / np.diff(edges)
    q = np.clip(np.ceil(b * 9 - 1e-9), 0, 9).astype(int)  # any bad unit shows as at least 1
    return "".join("0123456789"[i] for i in q)


def _hist1(x: float, bins: int):
    counts = np.zeros(bins, dtype=np.int64)
    if math.isfinite(x):
        counts[bins // 2] = 1
    return (x, x, counts)


EXACT_RANGE = 65536  # arrays up to this size: min and max of every element; above, of the sample


def _moments(a: np.ndarray, bins: int, sample: int) -> tuple:
    """(mean, std, min, max, norm, (lo, hi, counts)) of an array, in float64.

    mean, std and norm read every element (a sum and a BLAS dot: two passes). Min and max
    too up to EXACT_RANGE elements; above, like the histogram, they read an evenly strided
    sample of at most ``sample`` elements (a weight matrix's extremes cost two more passes,
    a third of a recording step). A nan or inf anywhere shows in mean, std and norm. Call
    under ``np.errstate(all="ignore")``."""
    flat = a.reshape(-1)
    n = flat.size
    if flat.dtype.kind != "f":
        flat = flat.astype(np.float64)
    s1 = float(flat.sum(dtype=np.float64))
    s2 = float(np.dot(flat, flat))
    sampled = flat[:: -(-n // sample)] if n > sample else flat
    if math.isfinite(s1) and math.isfinite(s2):
        part = flat if n <= EXACT_RANGE else sampled
        lo, hi = float(part.min()), float(part.max())
        mean = s1 / n
        var = s2 / n - mean * mean
        if var < 1e-7 * s2 / n:  # cancellation: recompute exactly (values far from zero)
            var = float(np.var(flat, dtype=np.float64))
        std, norm = math.sqrt(max(var, 0.0)), math.sqrt(s2)
    else:  # nan or inf somewhere: the moments say so, the histogram counts the finite part
        sampled = sampled[np.isfinite(sampled)]
        mean = s1 / n
        std = float("nan") if math.isnan(s1) or math.isnan(s2) else float("inf")
        norm = float("nan") if math.isnan(s2) else float("inf")
        lo = float(np.nanmin(flat)) if n else float("nan")
        hi = float(np.nanmax(flat)) if n else float("nan")
    if sampled.size:
        lo_h = lo if math.isfinite(lo) else float(sampled.min())
        hi_h = hi if math.isfinite(hi) else float(sampled.max())
        rng = (lo_h, hi_h) if hi_h > lo_h else (lo_h - 0.5, lo_h + 0.5)
        counts = _counts(sampled, rng[0], rng[1], bins)
    else:
        counts, rng = np.zeros(bins, dtype=np.int64), (lo, hi)
    return mean, std, lo, hi, norm, (rng[0], rng[1], counts)


def _counts(x: np.ndarray, lo: float, hi: float, bins: int) -> np.ndarray:
    """Histogram counts of x (all >= lo) in ``bins`` equal bins over [lo, hi], hi in the
    last bin: np.histogram's answer without its per-call cost (it dominated a recording)."""
    t = x - lo
    t *= bins / (hi - lo)
    idx = t.astype(np.intp)
    np.minimum(idx, bins - 1, out=idx)
    np.maximum(idx, 0, out=idx)
    return np.bincount(idx, minlength=bins)


def _norm(a) -> float:
    a = np.asarray(a)
    if not a.size:
        return 0.0
    flat = a.reshape(-1)
    if flat.dtype.kind != "f":
        flat = flat.astype(np.float64)
    return math.sqrt(float(np.dot(flat, flat)))


def _local(ctx, i):
    """The op's local gradient for input i: an array, a string describing it, or None."""
    try:
        lg = ctx.local_grad(i)
    except Exception:  # noqa: BLE001  (a user's op with a broken local_grad records nothing)
        return None
    if lg is None or isinstance(lg, str):
        return lg
    return np.asarray(lg)


def _down_norm(p, v, g, local) -> float | None:
    """Norm of the gradient sent from v to p, where it can be read without a backward pass:
    upstream * local for an elementwise op whose input and output have one shape."""
    if isinstance(local, np.ndarray) and local.shape == tuple(v.shape) == tuple(p.shape):
        return _norm(g * local)
    return None


def _span(steps) -> str:
    if not steps:
        return "none"
    if len(steps) <= 6:
        return ", ".join(str(s) for s in steps)
    return f"{steps[0]}, {steps[1]}, ..., {steps[-1]} ({len(steps)} steps)"
