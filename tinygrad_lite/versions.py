"""Data changes made through the library, caught at backward (PyTorch's version counter).

An op that saved its inputs for backward would compute a wrong gradient if their data changed
in between (``w.data = ...``, an optimizer step, a state-dict load). Each such change takes the
next tick of ``clock`` (see :func:`mark_changed`); each op notes the clock when it runs
(``ctx.stamp``). So "changed after this op ran" is one comparison in the backward loop, and this
module is entered only when some change happened. Changes written straight into the numpy
array (``v.data[:] = 0``) are caught only inside ``detect_anomaly()``, which compares copies.
"""
from __future__ import annotations

import itertools
import weakref

from .saved import saved_names

__all__ = ["mark_changed", "check", "clock"]

clock = 0  # the tick of the most recent change (0: none yet)
_ticks = itertools.count(1)
_changed_at: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # Value -> its last tick


def mark_changed(value) -> None:
    """Record that ``value``'s data changed: a backward through an op that saved it raises."""
    global clock
    tick = next(_ticks)
    _changed_at[value] = tick
    clock = tick


def check(ctx, node) -> None:
    """Raise if an input of ``ctx``'s op, or its output ``node``, changed after the op ran.

    An op whose backward reads no input data (``saves_data = False``), or an elementwise op
    that saved only its output (tanh, sigmoid, exp, sqrt, relu), does not mind a changed
    input, as in PyTorch."""
    if not ctx.saves_data:
        return
    if saved_names(ctx) != ["out"]:
        for i, p in enumerate(ctx.parents):
            if _changed_at.get(p, 0) > ctx.stamp:
                name = f" {p.label!r}" if p.label is not None else ""
                raise RuntimeError(
                    f"{ctx.op}: input {i}{name} of shape {p.shape} was changed after the op "
                    f"saved it for backward (its data was replaced, or an optimizer stepped), "
                    f"so the gradient would be computed from the wrong numbers; run the "
                    f"forward pass again after changing data")
    if _changed_at.get(node, 0) > ctx.stamp:
        raise RuntimeError(f"{ctx.op}: its output of shape {node.shape} was changed after the "
                           f"op saved it for backward")
