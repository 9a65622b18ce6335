"""Gradient hooks: ``v.register_hook(fn)`` calls ``fn(grad)`` when ``v``'s gradient is complete
in a backward pass; an array ``fn`` returns replaces the gradient (what ``.grad`` accumulates
and what flows on to the inputs), as in PyTorch. The hooks live here, in a table beside the
Values; the backward loop looks at it only while some hook is registered."""
from __future__ import annotations

import itertools
import weakref

import numpy as np

__all__ = ["RemovableHandle", "register", "run", "registered", "table"]

# Value -> {key: fn}; a Value's entry goes when the Value does
table: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
registered = 0  # how many hooks were registered and not removed (backward looks only if > 0)
_keys = itertools.count()


class RemovableHandle:
    """What ``Value.register_hook`` returns: ``handle.remove()`` unregisters the hook."""

    def __init__(self, value, key):
        self._value, self._key = weakref.ref(value), key

    def remove(self):
        global registered
        value = self._value()
        fns = table.get(value) if value is not None else None
        if fns and self._key in fns:
            del fns[self._key]
            registered -= 1
            if not fns:
                del table[value]


def register(value, fn) -> RemovableHandle:
    if not callable(fn):
        raise TypeError(f"register_hook: expected a callable, got {type(fn).__name__}")
    if not value.requires_grad:
        raise RuntimeError("register_hook: this Value does not require grad, so no gradient "
                           "will ever reach it")
    global registered
    key = next(_keys)
    table.setdefault(value, {})[key] = fn
    registered += 1
    return RemovableHandle(value, key)


def run(node, g):
    """Call ``node``'s hooks on its complete gradient ``g``; a returned array replaces it."""
    for fn in list(table.get(node, {}).values()):
        out = fn(np.array(g) if type(g) is float else g)
        if out is None:
            continue
        out = np.asarray(getattr(out, "data", out), dtype=node.dtype)
        if out.shape != node.shape:
            raise ValueError(f"hook {getattr(fn, '__name__', fn)!r} returned a gradient of "
                             f"shape {out.shape} for a Value of shape {node.shape}")
        g = float(out) if type(node._data) is float else out
    return g
