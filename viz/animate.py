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
        for i, (p, lo, d) in enumerate(zip(self.parents, self.local, self.downstream)):
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
        ctx = v._ctx
        if ctx is None:
            yield BackwardStep(k, v, _name(v), "", up)
            continue
        g = float(up) if ctx.scalar and up.size == 1 else up
        grads = ctx.input_grads(g)
        locals_, downs = [], []
        for i, (p, d) in enumerate(zip(ctx.parents, grads)):
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
def animate_backward(root, path): raise NotImplementedError
