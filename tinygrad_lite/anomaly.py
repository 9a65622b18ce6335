"""Anomaly detection: stop at the first op whose output or gradient holds NaN or inf.

    from tinygrad_lite import detect_anomaly

    with detect_anomaly():
        loss = model(x)          # raises AnomalyError at the op that made the first NaN/inf
        loss.backward()          # ... or at the op whose backward did

PyTorch's ``torch.autograd.detect_anomaly`` checks only the backward pass; this one checks
both. Inside the block every op's forward output is checked, and every op records where it
was created: the file, line and source text of the first stack frame outside tinygrad_lite.
Every backward rule's gradients are checked too. Outside the block none of this runs (the
engine tests one thread-local flag per op), so normal training pays nothing for it.

The first bad value is blamed on the op that produced it: an op whose inputs already hold
NaN/inf is reported with the inputs named as the cause (bad data, or a graph built outside
the block).
"""
from __future__ import annotations

import functools
import linecache
import math
import os
import sys

import numpy as np

from .grad_mode import mode as _mode
from .saved import saved_names

__all__ = ["detect_anomaly", "is_anomaly_enabled", "AnomalyError"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep

# What usually makes an op produce NaN/inf, for the message (a hint, not a diagnosis).
_HINTS = {
    "log": "log of a value <= 0 (log(0) = -inf, log of a negative is NaN)",
    "sqrt": "sqrt of a negative value, or its gradient 1/(2 sqrt(x)) at x = 0",
    "/": "division by zero",
    "exp": "exp overflowed (argument above ~709 in float64, ~88 in float32)",
    "pow": "a negative power of 0, or a result too large for the dtype",
    "*": "inf * 0, or a product too large for the dtype",
    "+": "inf + (-inf), or a sum too large for the dtype",
    "-": "inf - inf, or a difference too large for the dtype",
}


class AnomalyError(FloatingPointError, RuntimeError):
    """An op produced NaN or inf inside ``detect_anomaly()``.

    A FloatingPointError (what ``np.errstate(all="raise")`` raises) and also a RuntimeError
    (what PyTorch's anomaly mode raises), so either ``except`` catches it. Attributes:
    ``phase`` ("forward" or "backward"), ``op``, ``label`` (None if unlabelled),
    ``input_shapes``, ``creation_site`` ("file:line in function", or None when the node was
    made outside anomaly mode) and ``node`` (the Value whose op failed).
    """

    def __init__(self, message, *, phase, op, label, input_shapes, creation_site, node):
        super().__init__(message)
        self.phase = phase
        self.op = op
        self.label = label
        self.input_shapes = input_shapes
        self.creation_site = creation_site
        self.node = node


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()`` in this thread."""
    return _mode.anomaly


class detect_anomaly:
    """Context manager (and decorator) that raises AnomalyError at the first NaN/inf.

    detect_anomaly(check_nan=True): with ``check_nan=False`` it does nothing (so a flag can
    switch it, as in PyTorch). The switch is per thread; the previous state comes back on exit,
    so blocks nest. Costs one stack walk per op while on: use it to find a bug, not to train.
    """

    def __init__(self, check_nan=True):
        self.check_nan = bool(check_nan)
        self._prev = []

    def __enter__(self):
        self._prev.append(_mode.anomaly)
        _mode.anomaly = self.check_nan or _mode.anomaly
        return self

    def __exit__(self, *exc):
        _mode.anomaly = self._prev.pop()
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)

        return wrapper


# -- the hooks the engine calls --------------------------------------------------------------
def check_forward(ctx, v):
    """Record where ``v`` was created and copies of the arrays its op saved; raise if its
    data holds NaN/inf (engine hook)."""
    ctx.creation_site = _creation_site()
    ctx.saved_copies = {name: value.copy() for name, value in _saved_arrays(ctx)}
    out = _values(v)
    nan, inf = _bad_counts(out)
    if not (nan or inf):
        return
    lines = [f"the output of shape {v.shape} holds {_count_text(nan, inf, np.size(out))}"]
    inherited = False
    for i, p in enumerate(ctx.parents):
        pn, pi = _bad_counts(_values(p))
        if pn or pi:
            inherited = True
            lines.append(f"input {i} ({_describe(p)}) already holds "
                         f"{_count_text(pn, pi, p.size)}: the bad values come from there "
                         f"(bad data, or a node built outside detect_anomaly())")
    if not inherited:
        hint = _HINTS.get(ctx.op)
        if hint:
            lines.append(f"every input is finite, so this op made them; a likely cause: {hint}")
        else:
            lines.append("every input is finite, so this op made them")
    raise _error("forward", ctx, v, lines)


def check_backward(ctx, node, grads):
    """Raise if an array the op saved changed since forward, or if a gradient that ``node``'s
    op sends to its inputs holds NaN/inf (engine hook)."""
    _check_saved_unchanged(ctx, node)
    bad = []
    for i, (p, g) in enumerate(zip(ctx.parents, grads, strict=True)):
        if g is None or not p.requires_grad:
            continue
        gn, gi = _bad_counts(g)
        if gn or gi:
            bad.append(f"the gradient for input {i} ({_describe(p)}) holds "
                       f"{_count_text(gn, gi, np.size(g))}")
    if not bad:
        return
    un, ui = _bad_counts(node.grad)  # read only now, when something is wrong
    if un or ui:
        bad.append(f"this node's own gradient already holds {_count_text(un, ui, node.size)}: "
                   f"if it is the output, the grad passed to backward() is the cause (or a "
                   f"gradient accumulated by an earlier pass: call zero_grad())")
    else:
        hint = _HINTS.get(ctx.op)
        bad.append("its own gradient is finite, so this op's backward made them" +
                   (f"; a likely cause: {hint}" if hint else ""))
    raise _error("backward", ctx, node, bad)


def _saved_arrays(ctx):
    """(name, array) for every ndarray the op saved for backward."""
    for name in saved_names(ctx):
        if name in ("saved_copies", "_site"):
            continue
        value = getattr(ctx, name)
        if isinstance(value, np.ndarray):
            yield name, value


def _check_saved_unchanged(ctx, node):
    """Raise if a saved array was written to in place between forward and backward
    (``w.data[:] = 5``), which would silently give a wrong gradient."""
    copies = getattr(ctx, "saved_copies", None)
    if not copies:
        return
    for name, value in _saved_arrays(ctx):
        before = copies.get(name)
        if before is None or np.array_equal(before, value, equal_nan=True):
            continue
        which = next((f"input {i} ({_describe(p)})" for i, p in enumerate(ctx.parents)
                      if p.ndim and p.data is value), f"its saved value {name!r}")
        site = ctx.creation_site or "an unknown line"
        raise RuntimeError(
            f"{ctx.op}: {which} was modified in place after the op saved it for backward "
            f"(the node was created at {site}); the gradient would use the new numbers. "
            f"Change data only between a backward pass and the next forward pass.")


# -- helpers ---------------------------------------------------------------------------------
def _values(v):
    """A Value's numbers without turning a stored Python-float scalar into an array."""
    return v.item() if v.ndim == 0 else v.data


def _bad_counts(x):
    """(number of NaN, number of +-inf) in a float, an ndarray or anything array-like."""
    if type(x) is float:
        if math.isfinite(x):
            return 0, 0
        return (1, 0) if x != x else (0, 1)
    a = np.asarray(x)
    if a.dtype.kind not in "fc":
        return 0, 0
    if a.size and np.isfinite(a).all():
        return 0, 0
    nan = int(np.isnan(a).sum())
    return nan, int(a.size - nan - np.isfinite(a).sum())


def _count_text(nan, inf, size):
    parts = []
    if nan:
        parts.append(f"{nan} NaN")
    if inf:
        parts.append(f"{inf} inf")
    return f"{' and '.join(parts)} (of {size} element{'s' if size != 1 else ''})"


def _describe(p):
    """'a leaf labelled 'x', shape (3,)' or 'the output of log, shape (3,)'."""
    name = f"labelled {p.label!r}" if p.label is not None else "unlabelled"
    kind = "a leaf" if p.op == "" else f"the output of {p.op}"
    return f"{kind}, {name}, shape {p.shape}"


def _creation_site():
    """'file:line in function: source' of the first frame outside tinygrad_lite, or None."""
    f = sys._getframe(1)
    while f is not None and f.f_code.co_filename.startswith(_PACKAGE_DIR):
        f = f.f_back
    if f is None:
        return None
    code = f.f_code
    site = f"{code.co_filename}:{f.f_lineno} in {code.co_name}"
    src = linecache.getline(code.co_filename, f.f_lineno).strip()
    return f"{site}: {src}" if src else site


def _error(phase, ctx, node, lines):
    shapes = tuple(p.shape for p in ctx.parents)
    site = ctx.creation_site
    label = node.label
    where = (f"created at {site}" if site else
             "creation site unknown (the node was built outside detect_anomaly())")
    shape_text = ", ".join(str(s) for s in shapes)
    name = repr(label) if label is not None else "unlabelled"
    head = f"anomaly in {phase} of {ctx.op} (node {name}, input shapes {shape_text}), {where}"
    msg = head + "\n  " + "\n  ".join(lines)
    return AnomalyError(msg, phase=phase, op=ctx.op, label=label, input_shapes=shapes,
                        creation_site=site, node=node)
