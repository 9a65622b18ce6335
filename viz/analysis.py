"""Graph analysis: walk the graph behind a Value, measure every node and edge, mark trouble.

``analyze(root, ...)`` walks the graph (iteratively: any depth) and returns a
:class:`GraphInfo` with one :class:`NodeInfo` per drawn node and one :class:`EdgeInfo` per
edge. numpy only: nothing here draws.

What is measured
----------------
* Node: its name (parameter name, label, or op), op, value (one element) or shape, mean and
  std (tensors), gradient (one element) or gradient norm.
* Edge ``p -> v`` (forward direction): the upstream gradient that reached op ``v``, the
  local gradient d v / d p, and the downstream gradient sent to ``p``: downstream =
  upstream x local (for tensors elementwise, or a description where the local gradient is a
  matrix product or a reduction).
* Dead units: ReLU units whose output is <= 0 for every example of the batch, so that their
  gradient is zero for all. Saturated units: sigmoid, tanh or ELU units whose local gradient
  |f'| is below ``saturation``. Each is a fraction per node and a list of units.
* Vanishing and exploding gradients: a node's gradient RMS relative to a reference near the
  output below ``vanishing`` or above ``exploding``, or not finite. The reference is the RMS
  of the gradient nearest the output (fewest hops from the root) in the node's group:
  activations, weight matrices (ndim >= 2), or vectors such as biases; a weight's gradient
  sums over the batch and an activation's does not, so each is measured against its own
  kind. The root itself, the seed, is not measured.

Constant scalars fold into their op's label (``* 0.9``). Node ids (``n0``, ``n1``, ...)
follow trace order (a depth-first walk from the root, parents in argument order, inputs
before outputs), so the result is deterministic.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import replace

import numpy as np

from .info import (
    DYING,
    EXPLODING_RATIO,
    MARK_FRACTION,
    SATURATING,
    SATURATION,
    VANISHING_RATIO,
    EdgeInfo,
    GraphInfo,
    GraphTooLargeError,
    NodeInfo,
    fmt,
    norm,
    ratio,
)
from .modules import module_classes, owners, param_names

__all__ = ["analyze", "WALK_LIMIT"]

WALK_LIMIT = 2_000_000  # nodes walked before a graph is refused outright


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
        s = fmt(obj)
    else:
        s = repr(obj)
    return s if len(s) <= n else s[: n - 3] + "..."


# -- the walk -----------------------------------------------------------------------------------
def _walk(root, limit: int) -> tuple:
    """All Values behind root (constants too), inputs before outputs; (order, truncated)."""
    order: list = []
    seen = {id(root)}
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
    return (v.ctx is None and not v.requires_grad and v.size == 1 and v.label is None
            and id(v) not in names)


def _op_label(v, folded) -> str:
    """The op with folded constants and short keyword arguments: "* 0.9", "1 /", "pow 2"."""
    ctx = v.ctx
    op = ctx.op
    consts = [(i, p) for i, p in enumerate(ctx.parents) if id(p) in folded]
    if len(consts) == 1 and len(ctx.parents) == 2:
        i, c = consts[0]
        cv = fmt(c.item())
        op = f"{cv} {op}" if i == 0 and op not in ("+", "*") else f"{op} {cv}"
    elif consts:
        op += " (" + ", ".join(fmt(c.item()) for _, c in consts) + ")"
    kw = getattr(ctx, "kwargs", None) or {}
    if op == "pow" and "p" in kw and len(kw) == 1:
        return f"** {fmt(kw['p'])}"
    # short arguments only (axis=1, k=2); arrays and flags are in the tooltip
    parts = [f"{k}={_short(val)}" for k, val in kw.items()
             if isinstance(val, (int, float, tuple, str, np.integer, np.floating))
             and not isinstance(val, bool)]
    label = op + (" " + " ".join(parts) if parts else "")
    return label if len(label) <= 36 else label[:33] + "..."


def _op_args(v) -> str:
    """Every keyword argument of the op that made v, for the tooltip."""
    kw = getattr(v.ctx, "kwargs", None) or {}
    text = ", ".join(f"{k}={_short(val, 40)}" for k, val in kw.items())
    return text if len(text) <= 300 else text[:297] + "..."



def analyze(root, params=None, *, model=None, depth=None, collapse=None, max_nodes=500,
            saturation=SATURATION, mark_fraction=MARK_FRACTION,
            vanishing=VANISHING_RATIO, exploding=EXPLODING_RATIO) -> GraphInfo:
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
    names = param_names(params, model)

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
    owner = owners(drawn, names, model)
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
    on_path = _data_path(drawn, names, folded)
    infos: list[NodeInfo] = []
    by_id: dict[int, NodeInfo] = {}
    for k, v in enumerate(drawn):
        node = _measure(v, f"n{k}", k, names, dmap, folded, saturation, mark_fraction)
        node.module = owner.get(id(v))
        node.data_path = id(v) in on_path
        infos.append(node)
        by_id[id(v)] = node

    # 3. references and gradient marks
    refs = _references(infos)
    for v, node in zip(drawn, infos, strict=True):
        if v is root:  # the seed: measuring it against the gradients it starts says nothing
            continue
        _mark_gradient(node, refs.get(_group(node)), vanishing, exploding)

    # 4. edges
    edges = []
    for v in drawn:
        ctx = v.ctx
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
                rms = norm(e.down) / math.sqrt(max(e.down.size, 1))
                e.down_rel = rms / ref if ref else None
            edges.append(e)

    _cancel_notes(infos, edges, vanishing)
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



def _local(ctx, i):
    try:
        lg = ctx.local_grad(i)
    except Exception as e:  # a user's op with a broken local_grad must not stop the drawing
        return f"local_grad failed: {type(e).__name__}"
    if isinstance(lg, str):
        return lg
    return np.asarray(lg)


def input_grads(ctx, up: np.ndarray) -> tuple:
    """``ctx.input_grads(up)``: what the op sends to each input for the upstream ``up``.

    A context that says it works on Python floats (``ctx.scalar``) gets a float, as the
    engine gives it; any other gets the array.
    """
    scalar = getattr(ctx, "scalar", False) is True and up.size == 1
    return ctx.input_grads(float(up.reshape(())) if scalar else up)


def _downstream(ctx, up):
    if up is None:
        return None
    try:
        grads = input_grads(ctx, up)
    except Exception:  # a user's op whose backward fails here: draw the edge without it
        return None
    return tuple(None if (g is None or not p.requires_grad) else np.asarray(g)
                 for p, g in zip(ctx.parents, grads, strict=True))


def _measure(v, nid, k, names, dmap, folded, saturation, mark_fraction) -> NodeInfo:
    name = names.get(id(v)) or v.label
    ctx = v.ctx
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
            info.grad_norm = norm(gf)
            if gf.size:  # an empty tensor has no gradient to call small or large
                info.grad_rms = info.grad_norm / math.sqrt(gf.size)
                info.grad_min, info.grad_max = float(gf.min()), float(gf.max())
        if gf.size == 1:
            info.grad = float(gf.reshape(()))
    if ctx is not None and (op in DYING or op in SATURATING):
        _unit_stats(info, ctx, v, saturation, mark_fraction)
    return info


def _unit_stats(info, ctx, v, saturation, mark_fraction):
    """Dead units (ReLU) and saturated activations (sigmoid, tanh, ELU) of one node.

    A unit is dead when it is zero for every example of the batch, so these are judged only
    with two examples or more; one example gets a note on what it shows instead.
    """
    local = _local(ctx, 0)
    if not isinstance(local, np.ndarray) or local.shape != tuple(v.shape) or local.size == 0:
        return
    lg = _units_view(np.abs(local.astype(np.float64, copy=False)))  # (examples, units)
    info.examples, info.units = lg.shape
    status = list(info.status)
    if info.examples < 2:  # one example: nothing to say about the batch
        note = _one_example_note(info.op, lg[0], saturation)
        if note:
            info.notes.append(note)
    elif info.op in DYING:
        dead = (lg == 0).all(axis=0)
        info.dead_units = [int(i) for i in np.flatnonzero(dead)]
        info.dead_fraction = float(dead.mean())
        info.unit_badness = dead.astype(np.float64)
        if info.dead_fraction > 0 and info.dead_fraction >= mark_fraction:
            status.append("dead")
            info.reasons["dead"] = (f"{100 * info.dead_fraction:.0f}% of units "
                                    f"({len(info.dead_units)}/{info.units})")
    else:
        sat = lg < saturation
        info.saturated_fraction = float(sat.mean())
        per_unit = sat.mean(axis=0)
        info.saturated_units = [int(i) for i in np.flatnonzero(per_unit == 1.0)]
        info.unit_badness = per_unit
        if info.saturated_fraction > 0 and info.saturated_fraction >= mark_fraction:
            status.append("saturated")
            info.reasons["saturated"] = (f"{100 * info.saturated_fraction:.0f}% of "
                                         f"activations (|f'| < {fmt(saturation, 2)})")
    info.status = tuple(status)


def _one_example_note(op: str, lg: np.ndarray, saturation: float) -> str:
    """What one example shows: how many units pass no gradient (ReLU) or nearly none."""
    u = lg.size
    if op in DYING:
        k = int(np.count_nonzero(lg == 0))
        if u == 1:
            return "zero on this example: passes no gradient" if k else ""
        return f"{k}/{u} units zero on this example" if k else ""
    k = int(np.count_nonzero(lg < saturation))
    if u == 1:
        return f"|f'| {fmt(float(lg[0]), 2)} < {fmt(saturation, 2)} on this example" if k else ""
    return f"{k}/{u} units |f'| < {fmt(saturation, 2)} on this example" if k else ""


def _references(infos) -> dict:
    """Gradient RMS near the output on the data path, per group: activations, weight
    matrices, vectors.

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

    groups: dict[str, list[NodeInfo]] = {}
    for n in infos:
        if n.data_path:  # a branch without data (an L2 term) is no reference for the rest
            groups.setdefault(_group(n), []).append(n)
    refs = {k: pick(v) for k, v in groups.items()}
    fallback = refs.get("activation") or next((r for r in refs.values() if r), None)
    out = {k: (r or fallback) for k, r in refs.items()}
    out["activation"] = refs.get("activation") or fallback
    return out


def _group(n) -> str:
    if n.kind != "param":
        return "activation"
    return "param-matrix" if len(n.shape) >= 2 else "param-vector"


def _mark_gradient(info, ref, vanishing, exploding):
    """Non-finite, vanishing or exploding: the gradient RMS against the group's reference.

    Vanishing and exploding are judged on the data path only: a branch that the data never
    flows through, such as an L2 term scaled by its strength, is small (or large) by that
    constant, not because a gradient shrank (or grew) through the layers. A gradient of
    exactly zero was cut (a ReLU off), not shrunk: it gets a note, not a mark.
    """
    if not info.reached:
        return
    status = list(info.status)
    if info.grad_rms is not None and not math.isfinite(info.grad_rms):
        status.append("non-finite")
        info.reasons["non-finite"] = "nan or inf in the gradient"
    elif ref and info.grad_rms is not None:
        info.grad_rel = info.grad_rms / ref
        if info.grad_rms == 0.0:  # cut, not shrunk: say so rather than call it vanishing
            info.notes.append("gradient exactly 0: none reaches it (a ReLU at or below 0 on "
                              "the way, or a sum that cancels)")
            return
        mark = ("vanishing" if info.grad_rel < vanishing else
                "exploding" if info.grad_rel > exploding else None)
        if mark is not None and info.data_path:
            status.append(mark)
            info.reasons[mark] = f"gradient rms {ratio(info.grad_rel)}\u00d7 ref"
    info.status = tuple(status)


def _data_path(drawn, names: dict[int, str], folded: set[int]) -> set[int]:
    """ids of the Values on the data path: those that depend on the input data.

    Data: a leaf that is not a parameter (kind "input"; with params or model given, also a
    leaf that requires grad but is not named as a parameter). Ops depend on the data through
    their inputs; a parameter is on the path when an op on the path uses it. Without any data
    leaf (a graph of parameters only, such as the lecture's neuron) every Value is on it.
    """
    on: set[int] = set()
    for v in drawn:  # trace order: parents first
        if v.ctx is None:
            param = id(v) in names if names else v.requires_grad
            if not param and id(v) not in folded and (v.size > 1 or v.label is not None
                                                      or v.requires_grad):
                on.add(id(v))
        elif any(id(p) in on for p in v.parents):
            on.add(id(v))
    if not on:
        return {id(v) for v in drawn}
    for v in drawn:  # the parameters that ops on the path use
        if id(v) in on and v.ctx is not None:
            on.update(id(p) for p in v.parents if p.ctx is None)
    return on


def _cancel_notes(infos: list[NodeInfo], edges: list[EdgeInfo], vanishing: float) -> None:
    """A parameter marked vanishing whose every consumer has a healthy gradient: its
    gradient cancels over the batch (a bias before batch norm gets none), say so."""
    by_id = {n.id: n for n in infos}
    consumers: dict[str, list[NodeInfo]] = {}
    for e in edges:
        if e.src in by_id and e.dst in by_id:
            consumers.setdefault(e.src, []).append(by_id[e.dst])
    for n in infos:
        if n.kind != "param" or "vanishing" not in n.status:
            continue
        cs = [c for c in consumers.get(n.id, ()) if c.data_path]
        if cs and all(c.grad_rel is not None and c.grad_rel >= vanishing for c in cs):
            n.notes.append("the gradient reaching its consumer is healthy: it cancels over "
                           "the batch (a bias before batch norm gets none)")


# -- collapsing modules -------------------------------------------------------------------------
_WORST = {  # among members with the same mark, the one a module node quotes
    "vanishing": lambda m: -(m.grad_rel or 0.0), "exploding": lambda m: m.grad_rel or 0.0,
    "dead": lambda m: m.dead_fraction or 0.0, "saturated": lambda m: m.saturated_fraction or 0.0,
    "non-finite": lambda m: 0.0,
}


def _member(m: NodeInfo) -> str:
    return m.name or m.op_label or m.kind


def _member_marks(members: list[NodeInfo], out: NodeInfo) -> tuple[tuple, dict]:
    """A module node's marks: each names the member that raised it and quotes its number.

    Dead and saturated come from any member; vanishing and exploding from the module's
    output or its parameters (its inner activations are measured through the output).
    Where several members raise a mark, the worst is quoted and the others counted.
    """
    raised: dict[str, list[NodeInfo]] = {}
    for m in members:
        for st in m.status:
            if st in ("vanishing", "exploding") and not (m is out or m.kind == "param"):
                continue
            raised.setdefault(st, []).append(m)
    reasons = {}
    for st, ms in raised.items():
        worst = max(ms, key=_WORST.get(st, lambda m: 0.0))
        more = f" (and {len(ms) - 1} more)" if len(ms) > 1 else ""
        reasons[st] = f"{_member(worst)}: {worst.reasons.get(st, st)}{more}"
    return tuple(raised), reasons


def _collapse(info: GraphInfo, model) -> GraphInfo:
    """One node per (innermost) module; nodes outside every module stay as they are."""
    classes = module_classes(model)
    groups: dict[str, list[NodeInfo]] = {}
    order: list[str | NodeInfo] = []  # a module's name (at its first member), or a free node
    for n in info.nodes:
        if n.module:
            if n.module not in groups:
                groups[n.module] = []
                order.append(n.module)
            groups[n.module].append(n)
        else:
            order.append(n)
    module_of = {n.id: n.module for n in info.nodes}
    targets: dict[str, list[str]] = {}
    for e in info.edges:
        targets.setdefault(e.src, []).append(e.dst)
    new_id: dict[str, str] = {}
    nodes: list[NodeInfo] = []
    for k, item in enumerate(order):
        nid = f"n{k}"
        if isinstance(item, NodeInfo):
            new_id[item.id] = nid
            nodes.append(replace(item, id=nid, index=k))
            continue
        members = groups[item]
        # the module's output: its last member with an edge leaving the module
        outs = [m for m in members
                if any(module_of.get(d) != item for d in targets.get(m.id, ()))]
        out = (outs or members)[-1]
        g = replace(out, id=nid, index=k, name=item, op=classes.get(item, "module"),
                    op_label=classes.get(item, "module"), kind="module",
                    depth=min(m.depth for m in members), module=item, members=len(members))
        g.params = [(m.name, m.shape, m.grad_norm) for m in members if m.kind == "param"]
        act = [m for m in members if m.units is not None]
        if act and out.units is None:
            a = act[-1]
            g.units, g.unit_badness, g.examples = a.units, a.unit_badness, a.examples
            g.dead_fraction, g.dead_units = a.dead_fraction, a.dead_units
            g.saturated_fraction, g.saturated_units = a.saturated_fraction, a.saturated_units
        g.status, g.reasons = _member_marks(members, out)
        g.notes = [f"{_member(m)}: {note}" for m in members for note in m.notes]
        g.data_path = any(m.data_path for m in members)
        for m in members:
            new_id[m.id] = nid
        nodes.append(g)
    edges: list[EdgeInfo] = []
    seen: dict[tuple[str, str], EdgeInfo] = {}
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

