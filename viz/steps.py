"""Backprop one node at a time, as Python objects: a generator to step through in a debugger.

``backward_steps(root)`` yields a :class:`BackwardStep` per node, in the order the backward
pass visits them (outputs first): the gradient that reached the node (upstream), and for each
of its inputs the local gradient and the gradient sent down (downstream = upstream x local).
It computes its own gradients and never changes any ``.grad``; its final numbers equal what
``root.backward()`` leaves in ``.grad``. Parameters are named by their dotted names
(``0.weight``) when ``params`` or ``model`` is given.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .analysis import input_grads
from .info import fmt, norm, shape_text
from .modules import param_names

if TYPE_CHECKING:
    from tinygrad_lite import Value

__all__ = ["BackwardStep", "backward_steps"]


@dataclass(repr=False)
class BackwardStep:
    """One node of the backward pass.

    index: 0 for the output, then in backward order; value: the Value; name: its parameter
    name, label or op; op: "" for a leaf; upstream: d root / d value (the value's shape);
    parents: the op's inputs, and parent_names their names; local: per input, the local
    gradient (an array for elementwise ops, else a string describing the vector-Jacobian
    product), None for inputs without grad; downstream: per input, the gradient sent to it
    (the input's shape), None without grad.
    """

    index: int
    value: Value
    name: str
    op: str
    upstream: np.ndarray
    parents: tuple = ()
    local: tuple = ()
    downstream: tuple = ()
    parent_names: tuple = field(default=())

    @property
    def is_leaf(self) -> bool:
        return not self.op

    def lines(self) -> list[str]:
        """A few lines: the node and its upstream gradient, then one line per input."""
        shape = getattr(self.value, "shape", np.shape(self.upstream))
        head = (f"step {self.index}: {self.name} ({self.op or 'leaf'}"
                f"{', ' + shape_text(shape) if shape else ''}) upstream {_brief(self.upstream)}")
        out = [head]
        names = self.parent_names or tuple(f"input {i}" for i in range(len(self.parents)))
        for who, lo, d in zip(names, self.local, self.downstream, strict=True):
            if d is None:
                out.append(f"  -> {who}: no gradient (requires_grad=False)")
            else:
                out.append(f"  -> {who}: local {_brief(lo)}, downstream {_brief(d)}")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def __repr__(self) -> str:
        return "<BackwardStep " + "\n ".join(self.lines()) + ">"


def _brief(a) -> str:
    """A number, a description, or a summary of an array: never the whole array."""
    if a is None:
        return "none"
    if isinstance(a, str):
        return a if len(a) <= 60 else a[:57] + "..."
    a = np.asarray(a)
    if a.size == 1:
        return fmt(a.item())
    if a.size == 0:
        return f"{shape_text(a.shape)} empty"
    af = a.astype(np.float64, copy=False)
    with np.errstate(all="ignore"):
        return (f"{shape_text(a.shape)} norm {fmt(norm(af), 3)} mean {fmt(af.mean(), 3)} "
                f"min {fmt(af.min(), 3)} max {fmt(af.max(), 3)}")


def backward_steps(root, params=None, model=None, *, grad=None) -> Iterator[BackwardStep]:
    """Yield a BackwardStep per node that requires grad, in backward order (output first).

    params: dict name -> Value, or a Module; model: a Module or a viz.trace_modules trace:
    parameters are then named by their dotted names (``0.weight``), as draw_graph names them.
    grad: the seed, as for ``root.backward(grad)`` (1.0 for a one-element output).
    The gradients are computed here, with each op's ``input_grads``; no ``.grad`` changes.
    """
    from tinygrad_lite import backward_order

    if not root.requires_grad:
        raise RuntimeError("backward_steps: this Value does not require grad (made under "
                           "no_grad, from constants only, or by detach())")
    if grad is None:
        if int(np.prod(root.shape)) != 1:
            raise ValueError(f"backward_steps: grad can be implied only for a one-element "
                             f"output; pass grad= an array of shape {root.shape}")
        seed = np.ones(root.shape, dtype=root.dtype)
    else:
        seed = np.asarray(getattr(grad, "data", grad), dtype=root.dtype)
        if seed.shape != root.shape:
            raise ValueError(f"backward_steps: grad of shape {seed.shape} does not match the "
                             f"output's shape {root.shape}")
    names = param_names(params, model)
    order = backward_order(root)
    pending = {id(root): seed}
    for k, v in enumerate(reversed(order)):
        up = pending.pop(id(v), None)
        if up is None:
            up = np.zeros(v.shape, dtype=v.dtype)
        ctx = v.ctx
        if ctx is None:
            yield BackwardStep(k, v, _name(v, names), "", up)
            continue
        grads = input_grads(ctx, up)
        locals_: list = []
        downs: list = []
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
        parent_names = tuple(_name(p, names) if (id(p) in names or p.label is not None)
                             else f"input {i} ({p.op or 'leaf'})"
                             for i, p in enumerate(ctx.parents))
        yield BackwardStep(k, v, _name(v, names), ctx.op, up, tuple(ctx.parents),
                           tuple(locals_), tuple(downs), parent_names)


def _name(v, names: dict[int, str]) -> str:
    """A parameter's dotted name, else the label, else the op ("leaf" for an unnamed leaf)."""
    if id(v) in names:
        return names[id(v)]
    return v.label if v.label is not None else (v.op or "leaf")
