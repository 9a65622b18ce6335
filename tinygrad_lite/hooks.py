"""Gradient hooks: ``v.register_hook(fn)`` calls ``fn(grad)`` when ``v``'s gradient is complete
in a backward pass; an array ``fn`` returns replaces the gradient (what ``.grad`` accumulates
and what flows on to the inputs), as in PyTorch. The hooks live here, in a table beside the
Values; the backward loop looks at it only while some hook is registered."""
from __future__ import annotations

import itertools
import weakref

import numpy as np

__all__ = ["RemovableHandle", "register", "run", "registered"]

# id(Value) -> (a weak reference to it, {key: fn}); the entry goes when the Value does
registered: dict[int, tuple[weakref.ref, dict]] = {}
_keys = itertools.count()


class RemovableHandle:
    """What ``Value.register_hook`` returns: ``handle.remove()`` unregisters the hook."""

    def __init__(self, value, key):
        self._id, self._key = id(value), key

    def remove(self):
        entry = registered.get(self._id)
        if entry is not None and entry[1].pop(self._key, None) is not None and not entry[1]:
            del registered[self._id]


def register(value, fn) -> RemovableHandle:
    if not callable(fn):
        raise TypeError(f"register_hook: expected a callable, got {type(fn).__name__}")
    if not value.requires_grad:
        raise RuntimeError("register_hook: this Value does not require grad, so no gradient "
                           "will ever reach it")
    key = next(_keys)
    entry = registered.get(id(value))
    if entry is None:
        i = id(value)
        entry = registered[i] = (weakref.ref(value, lambda _: registered.pop(i, None)), {})
    entry[1][key] = fn
    return RemovableHandle(value, key)


def has_hooks(value) -> bool:
    entry = registered.get(id(value))
    return entry is not None and entry[0]() is value


def run(node, g):
    """Call ``node``'s hooks on its complete gradient ``g``; a returned array replaces it."""
    if not has_hooks(node):
        return g
    for fn in list(registered[id(node)][1].values()):
        out = fn(np.array(g) if type(g) is float else g)
        if out is None:
            continue
        out = np.asarray(getattr(out, "data", out), dtype=node.dtype)
        if out.shape != node.shape:
            raise ValueError(f"hook {getattr(fn, '__name__', fn)!r} returned a gradient of "
                             f"shape {out.shape} for a Value of shape {node.shape}")
        g = float(out) if type(node._data) is float else out
    return g
