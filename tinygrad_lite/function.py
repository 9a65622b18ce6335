"""The Function base class, the context it saves into, grad mode, and unbroadcast.

Every op (built-in or a user's) is a subclass of :class:`Function` with two static methods,
written once and used for every kind of input (Python floats, arrays of any dtype):

    forward(ctx, *inputs, **kw) -> output           the numbers
    backward(ctx, grad_out)     -> one gradient per input (None where there is none)

``Op.apply(*values, **kw)`` runs ``forward`` and wraps the result in a
:class:`~tinygrad_lite.engine.Value`; ``value.ctx`` is then the context (an instance of the
op's class) holding the inputs and whatever ``forward`` saved. The context never references
its output, so a graph holds no reference cycles and is freed by reference counting alone.

Elementwise ops (``elementwise = True``) write their formulas against ``ctx.xp``: the
:data:`floatmath` namespace when every input is a Python float (a scalar graph runs on Python
floats, like micrograd), numpy otherwise. For them the engine passes the output Value itself
as ``ctx`` (Value has slots for the names the built-in ops save), so the op costs one object
and its own ``forward`` and ``backward`` are what run, for floats and arrays alike.
``value.ctx`` still gives a context object (built on request) for drawings.

``unbroadcast`` is the one place where a gradient is summed back to its input's shape.
"""
from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from types import MappingProxyType

import numpy as np


class _Modes:
    """Per-thread switches: recording the graph (``no_grad``) and anomaly detection.

    ``enabled`` and ``anomaly`` read and write this thread's setting. ``special`` counts the
    threads whose settings differ from the defaults, so the hot path of every op only reads
    one plain attribute (``special == 0``) while no thread is inside no_grad or anomaly mode.
    """

    def __init__(self):
        self._local = threading.local()
        self._lock = threading.Lock()
        self.special = 0

    def _set(self, name, value, default):
        value = bool(value)
        old = getattr(self._local, name, default)
        setattr(self._local, name, value)
        if old != value:
            with self._lock:
                self.special += 1 if value != default else -1

    @property
    def enabled(self) -> bool:
        return getattr(self._local, "enabled", True)

    @enabled.setter
    def enabled(self, value):
        self._set("enabled", value, True)

    @property
    def anomaly(self) -> bool:
        return getattr(self._local, "anomaly", False)

    @anomaly.setter
    def anomaly(self, value):
        self._set("anomaly", value, False)


_mode = _Modes()


def is_grad_enabled() -> bool:
    """True when ops record the graph in this thread (False inside ``no_grad``)."""
    return _mode.enabled


class no_grad:
    """Context manager (and decorator) under which ops build no graph.

    Results are plain values with ``requires_grad=False``; nothing is saved for backward.
    The switch is per thread, like PyTorch's: another thread keeps recording.
    """

    def __init__(self):
        self._prev = []

    def __enter__(self):
        self._prev.append(_mode.enabled)
        _mode.enabled = False
        return self

    def __exit__(self, *exc):
        _mode.enabled = self._prev.pop()
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with no_grad():
                return fn(*args, **kwargs)

        return wrapper


def unbroadcast(grad: np.ndarray, shape: tuple, op: str = "op") -> np.ndarray:
    """Sum ``grad`` back to ``shape``: the backward of numpy broadcasting.

    Leading axes that broadcasting added are summed away, and so are axes where ``shape`` has
    size 1 and ``grad`` does not. Raises ValueError naming the op and both shapes when ``grad``
    cannot have come from broadcasting an array of ``shape``.
    """
    gshape = grad.shape
    if gshape == shape:
        return grad
    extra = len(gshape) - len(shape)
    if extra < 0:
        raise ValueError(
            f"{op}: gradient of shape {gshape} cannot be summed to input shape {shape}")
    axes = list(range(extra))
    for i, n in enumerate(shape):
        gn = gshape[extra + i]
        if n == 1 and gn != 1:
            axes.append(extra + i)
        elif n != gn:
            raise ValueError(
                f"{op}: gradient of shape {gshape} cannot be summed to input shape {shape}")
    out = grad.sum(axis=tuple(axes), keepdims=True) if axes else grad
    return out.reshape(shape)


class _FloatMath:
    """The numpy functions elementwise ops use, on Python floats (``ctx.xp`` for scalars).

    Each follows numpy's meaning; where Python raises instead of returning inf or NaN
    (``math.exp(1000)``, ``math.log(0)``, ``1 / 0``) the engine reruns the op with numpy.
    """

    exp = staticmethod(math.exp)
    expm1 = staticmethod(math.expm1)
    log = staticmethod(math.log)
    sqrt = staticmethod(math.sqrt)
    tanh = staticmethod(math.tanh)
    abs = staticmethod(abs)

    @staticmethod
    def maximum(a, b):
        return a if a >= b or a != a else b  # NaN propagates, as np.maximum

    @staticmethod
    def minimum(a, b):
        return a if a <= b or a != a else b

    @staticmethod
    def where(cond, a, b):
        return a if cond else b

    @staticmethod
    def sign(x):
        return 1.0 if x > 0 else -1.0 if x < 0 else 0.0 * x  # sign(NaN) is NaN

    @staticmethod
    def zeros_like(x):
        return 0.0

    @staticmethod
    def any(x):
        return bool(x)

    def __repr__(self):
        return "floatmath"


floatmath = _FloatMath()
NO_KWARGS: Mapping = MappingProxyType({})  # ctx.kwargs of an op called without any


class Function:
    """Base class of every op. Subclass it; the instance is the backward context (``ctx``).

    Write ``forward(ctx, *inputs, **kw)`` and ``backward(ctx, grad_out)`` as static methods.
    Non-Value arguments are keyword-only. In ``forward`` save what ``backward`` needs with
    ``ctx.save(name=array)`` (or plain attribute assignment) and read it back as ``ctx.name``.
    ``backward`` returns one gradient per input, in order (a bare array for a one-input op);
    each may have the broadcast shape: the engine sums it back to the input's shape.
    ``ctx.needs_input_grad[i]`` says whether input ``i`` wants a gradient (return None for it
    otherwise, to skip the work).

    Elementwise ops (one or two inputs, output of their broadcast shape, a pointwise
    derivative) declare ``elementwise = True`` and the names they save in ``__slots__``; their
    formulas use ``ctx.xp`` (numpy, or :data:`floatmath` on Python floats) so that one
    definition serves scalars and arrays. The engine then passes the output Value as ``ctx``
    (its class has those slots; in backward read ``ctx.needs_input_grad``, not ``parents``),
    and drawings derive the local gradient from ``backward`` itself.

    Optional, for drawings: ``vjp``, one short description per input of what backward does
    (``"grad @ b.T"``), shown where the local gradient is not an elementwise array.

    Context attributes set by the engine: ``parents`` (input Values, in order), ``kwargs``
    (the keyword arguments), ``needs_input_grad`` (a tuple of bools) and ``xp``.
    """

    # the engine's attributes live in slots; what forward saves goes to __dict__, or to slots
    # that an op declares itself (the built-in ops do, so a context costs one object, not two)
    __slots__ = ("parents", "kwargs", "needs_input_grad", "xp", "_site", "saved_copies",
                 "__weakref__")

    parents: tuple
    kwargs: Mapping
    needs_input_grad: tuple
    op: str = ""  # short name shown in reprs and drawings; defaults to the lowercase class name
    vjp: tuple = ()
    elementwise = False  # True: d out / d input is pointwise; saved values fit in the node
    pointwise_inputs: tuple = ()  # inputs (of a non-elementwise op) with a pointwise derivative
    saves_data = True  # False for ops whose backward reads no input data (in-place checks)
    # for an elementwise op, the engine's function that builds its output Value (which is
    # also its ctx); None until first used, False if the op cannot use its output Value as
    # ctx (it saves names Value has no slot for)
    _build = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("op"):
            cls.op = cls.__name__.lower()
        cls._build = None  # made by the engine on first use (see engine._builder)
        if cls.elementwise and "saves_data" not in cls.__dict__:
            cls.saves_data = bool(_declared_slots(cls))

    @property
    def creation_site(self):
        """Where user code created this node ("file:line in function: source"); recorded
        only inside ``detect_anomaly()``, else None."""
        return getattr(self, "_site", None)

    @creation_site.setter
    def creation_site(self, site):
        self._site = site

    # -- what ops call -------------------------------------------------------------------
    def save(self, **arrays):
        """Keep arrays for backward under names: ``ctx.save(x=x)`` then ``ctx.x``."""
        for name, value in arrays.items():
            setattr(self, name, value)

    @staticmethod
    def forward(ctx, *inputs, **kwargs):
        raise NotImplementedError("Function subclasses define forward(ctx, *inputs, **kw)")

    @staticmethod
    def backward(ctx, grad_out):
        raise NotImplementedError("Function subclasses define backward(ctx, grad_out)")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run the op on Values (or arrays and numbers) and return the output Value.

        The engine lifts numbers and arrays to constants, calls ``cls.forward`` on the data
        and records the op, its inputs and what it saved in the output (see
        :func:`tinygrad_lite.engine.apply`).
        """
        return _engine.apply(cls, args, kwargs)

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
        """backward's gradients for every input (as if all required grad), as a tuple."""
        needs = self.needs_input_grad
        self.needs_input_grad = (True,) * len(self.parents)
        try:
            grads = type(self).backward(self, grad_out)
        finally:
            self.needs_input_grad = needs
        return grads if isinstance(grads, tuple) else (grads,)

    def __repr__(self):
        parts = []
        for p in getattr(self, "parents", ()):
            if p.label is not None:
                name = repr(p.label)
            elif p.op:
                name = f"({p.op})"
            else:
                name = "leaf" if p.requires_grad else "const"
            parts.append(f"{name} {_describe(p.data)}")
        saved = [f"{n}={_describe(getattr(self, n))}" for n in _saved_names(self)]
        text = f"<{type(self).__name__} op={self.op!r} inputs=({', '.join(parts)})"
        if saved:
            text += f" saved=({', '.join(saved)})"
        kwargs = getattr(self, "kwargs", None)
        if kwargs:
            text += " " + ", ".join(f"{k}={v!r}" for k, v in kwargs.items()
                                    if not isinstance(v, np.ndarray))
        return text + ">"


def _saved_names(ctx) -> list:
    """What forward saved on ``ctx``: its op's slots and its __dict__ (set names only)."""
    names = [n for c in type(ctx).__mro__ if c is not Function and c is not object
             for n in c.__dict__.get("__slots__", ()) if n not in ("__dict__", "__weakref__")]
    names += list(getattr(ctx, "__dict__", {}))
    return [n for n in dict.fromkeys(names) if hasattr(ctx, n)]


def _describe(x) -> str:
    """A short description of a saved value: shape and dtype for arrays, the value otherwise."""
    if isinstance(x, np.ndarray) and x.ndim:
        return f"{x.dtype}{list(x.shape)}"
    if isinstance(x, (float, np.floating, np.ndarray)):
        return f"{float(x):.4g}"
    text = repr(x)
    return text if len(text) <= 40 else text[:37] + "..."


def _declared_slots(cls) -> tuple:
    """The names an op's classes declare in ``__slots__`` (what its forward saves)."""
    return tuple(n for c in reversed(cls.__mro__) if c is not object and c is not Function
                 for n in c.__dict__.get("__slots__", ()) if n not in ("__dict__", "__weakref__"))


from . import engine as _engine  # noqa: E402  (Function.apply calls into the engine at run time)
