"""Function: the base class of every op, built-in or a user's.

An op is a subclass with two static methods, written once for every kind of input (Python
floats, arrays of any dtype):

    forward(ctx, *inputs, **kw) -> output                the numbers
    backward(ctx, grad_out)     -> one gradient per input (None where there is none)

``Op.apply(*values, **kw)`` runs it (see :func:`tinygrad_lite.value.apply`): it makes ``ctx``,
an instance of the op's class, runs ``forward`` on the inputs' data, and keeps ``ctx`` on the
output Value as ``value.ctx``. Backward later calls ``Op.backward(ctx, grad)`` with that same
object. ``ctx`` holds:

    parents            the input Values, in order
    kwargs             the keyword arguments
    needs_input_grad   a bool per input: return None for an input that needs no gradient
    xp                 numpy, or ``floatmath`` when every input of an elementwise op is a
                       Python float (tinygrad_lite/floatmath.py)
    stamp, released    for the engine: when the op ran (data changes after it are caught),
                       whether a backward without ``retain_graph`` has run through it

and whatever ``forward`` saved (``ctx.x = x``, or ``ctx.save(x=x)``). Built-in ops declare
those names in ``__slots__``. The context never references its output, so a graph holds no
reference cycles and is freed by reference counting alone.
"""
from __future__ import annotations

import numpy as np

from .backward import unbroadcast
from .floatmath import floatmath
from .grad_mode import is_grad_enabled, no_grad
from .saved import declared_slots, describe, saved_names

__all__ = ["Function", "no_grad", "is_grad_enabled", "unbroadcast", "floatmath"]


class Function:
    """Base class of every op. Subclass it; the instance is the backward context (``ctx``).

    Write ``forward(ctx, *inputs, **kw)`` and ``backward(ctx, grad_out)`` as static methods.
    Non-Value arguments are keyword-only. ``backward`` returns one gradient per input, in order
    (a bare array for a one-input op); each may have the broadcast shape: the engine sums it
    back to the input's shape. Elementwise ops (``elementwise = True``: one or two inputs, a
    pointwise derivative) write their formulas against ``ctx.xp`` so that one definition
    serves Python floats and arrays.

    Optional, for drawings: ``vjp``, one short description per input of what backward does
    (``"grad @ b.T"``), shown where the local gradient is not an elementwise array.
    """

    __slots__ = ("parents", "kwargs", "needs_input_grad", "xp", "stamp", "released",
                 "_site", "saved_copies", "__weakref__")

    parents: tuple
    kwargs: dict
    needs_input_grad: tuple
    op: str = ""  # short name shown in reprs and drawings; defaults to the lowercase class name
    vjp: tuple = ()
    elementwise = False  # True: d out / d input is pointwise, and floats may use floatmath
    pointwise_inputs: tuple = ()  # inputs (of a non-elementwise op) with a pointwise derivative
    saves_data = True  # False for ops whose backward reads no input data (in-place checks)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("op"):
            cls.op = cls.__name__.lower()
        if cls.elementwise and "saves_data" not in cls.__dict__:
            cls.saves_data = bool(declared_slots(cls))

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run the op on Values (or arrays and numbers) and return the output Value."""
        # imported here: value.py imports the ops, which subclass this class
        from .value import apply

        return apply(cls, *args, **kwargs)

    @staticmethod
    def forward(ctx, *inputs, **kwargs):
        raise NotImplementedError("Function subclasses define forward(ctx, *inputs, **kw)")

    @staticmethod
    def backward(ctx, grad_out):
        raise NotImplementedError("Function subclasses define backward(ctx, grad_out)")

    def save(self, **arrays):
        """Keep arrays for backward under names: ``ctx.save(x=x)`` then ``ctx.x``."""
        for name, value in arrays.items():
            setattr(self, name, value)

    @property
    def creation_site(self):
        """Where user code created this node ("file:line in function: source"); recorded
        only inside ``detect_anomaly()``, else None."""
        return getattr(self, "_site", None)

    @creation_site.setter
    def creation_site(self, site):
        self._site = site

    # -- what drawings call ----------------------------------------------------------------
    def local_grad(self, i: int):
        """Local gradient of the output with respect to input ``i``.

        For an elementwise op (or an input in ``pointwise_inputs``), an array: backward's own
        formula applied to an upstream gradient of 1. Otherwise a short description of the
        vector-Jacobian product (``vjp``)."""
        if self.elementwise or i in self.pointwise_inputs:
            g = np.asarray(self._backward_all(np.ones(()))[i], dtype=np.float64)
            if self.elementwise:  # in the output's shape, as the drawing's edges are
                return np.broadcast_to(g, np.broadcast_shapes(*(p.shape for p in self.parents)))
            return g
        if self.vjp:
            return self.vjp[min(i, len(self.vjp) - 1)]
        return f"vjp of {self.op} (see {type(self).__name__}.backward)"

    def input_grads(self, grad_out):
        """Recompute what backward sends to each input for ``grad_out``, in the inputs' shapes."""
        grads = self._backward_all(np.asarray(grad_out))
        out = []
        for p, g in zip(self.parents, grads, strict=True):
            if g is None:
                out.append(None)
                continue
            g = np.asarray(g)
            out.append(unbroadcast(g, p.shape, self.op) if g.shape != p.shape else g)
        return tuple(out)

    def _backward_all(self, grad_out) -> tuple:
        """backward's gradients for every input (as if all required grad), as a tuple, with
        numpy as ``xp`` and the saved numbers as arrays."""
        needs, xp = self.needs_input_grad, self.xp
        saved = {n: getattr(self, n) for n in saved_names(self)}
        self.needs_input_grad = (True,) * len(self.parents)
        self.xp = np
        for name, value in saved.items():
            if type(value) is float:
                setattr(self, name, np.float64(value))
        try:
            grads = type(self).backward(self, grad_out)
        finally:
            self.needs_input_grad, self.xp = needs, xp
            for name, value in saved.items():
                setattr(self, name, value)
        return grads if isinstance(grads, tuple) else (grads,)

    def __repr__(self):
        parts = []
        for p in getattr(self, "parents", ()):
            if p.label is not None:
                name = repr(p.label)
            elif p.ctx is not None:
                name = f"({p.op})"
            else:
                name = "leaf" if p.requires_grad else "const"
            parts.append(f"{name} {describe(p._data)}")
        saved = [f"{n}={describe(getattr(self, n))}" for n in saved_names(self)]
        text = f"<{type(self).__name__} op={self.op!r} inputs=({', '.join(parts)})"
        if saved:
            text += f" saved=({', '.join(saved)})"
        kwargs = getattr(self, "kwargs", None)
        if kwargs:
            text += " " + ", ".join(f"{k}={v!r}" for k, v in kwargs.items()
                                    if not isinstance(v, np.ndarray))
        return text + ">"
