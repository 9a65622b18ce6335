"""The Function base class, the context it saves into, grad mode, and unbroadcast.

Every op (built-in or a user's) is a subclass of :class:`Function` with two static methods:

    forward(ctx, *arrays, **kw) -> ndarray         the numbers
    backward(ctx, grad_out)     -> one gradient per input (None where there is none)

``Op.apply(*values, **kw)`` runs ``forward`` on the inputs' arrays and wraps the result in a
:class:`~tinygrad_lite.engine.Value` whose ``_ctx`` is the Function instance: the context
holding the parents and whatever ``forward`` saved. The context never references its output,
so a graph holds no reference cycles and is freed by reference counting alone.

``unbroadcast`` is the one place where a gradient is summed back to its input's shape.
"""
from __future__ import annotations

import threading

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
        raise ValueError(f"{op}: gradient of shape {gshape} cannot be summed to input shape {shape}")
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


class Function:
    """Base class of every op. Subclass it; the instance is the backward context (``ctx``).

    Write ``forward(ctx, *arrays, **kw)`` and ``backward(ctx, grad_out)`` as static methods.
    Non-Value arguments are keyword-only. In ``forward`` save what ``backward`` needs with
    ``ctx.save(name=array)`` (or plain attribute assignment) and read it back as ``ctx.name``.
    ``backward`` returns one gradient per input, in order (a bare array for a one-input op);
    each may have the broadcast shape: the engine sums it back to the input's shape.

    Optional, for drawings: ``local_grad(ctx, i)`` returns the local derivative of the output
    with respect to input ``i``: an array for elementwise ops, otherwise a short description of
    the vector-Jacobian product (``vjp``, a tuple of strings, one per input). Computed only when
    someone asks, from what ``forward`` saved.

    Optional, for speed on scalar graphs (the built-in elementwise ops have them):
    ``sforward(*floats, **kw) -> (out, s0, s1)`` computes on Python floats and returns up to
    two numbers to keep, and ``sbackward(node, grad) -> grads`` reads them back as
    ``node._s0``/``node._s1``. The engine uses them when every input is a float64 scalar and
    keeps the inputs and the two numbers in the output Value itself (one object per op, like
    micrograd, with no reference cycle). ``ssave`` names the two numbers, so that the context
    can be rebuilt when a drawing asks for it; ``skwargs`` lists those that were keywords.
    ``aforward``/``abackward`` are the same protocol on arrays, for elementwise ops whose
    inputs are arrays and Python numbers (their gradients may have the broadcast shape).

    Context attributes set by the engine: ``parents`` (input Values, in order), ``kwargs``
    (the keyword arguments), ``needs_input_grad`` (tuple of bools, computed on request).
    """

    # parents and kwargs live in slots; what forward saves goes to __dict__, or to slots that
    # an op declares itself (the built-in ops do, so a context costs one object, not two)
    __slots__ = ("parents", "kwargs", "__dict__", "__weakref__")

    op: str = ""  # short name shown in reprs and drawings; defaults to the lowercase class name
    vjp: tuple = ()
    sforward = None
    sbackward = None
    aforward = None
    abackward = None
    ssave: tuple = ()
    skwargs: tuple = ()
    scalar_ok = False  # forward/backward accept a Python float input beside arrays
    creation_site = None  # "file:line" of user code, recorded in anomaly mode only

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("op"):
            cls.op = cls.__name__.lower()

    # -- what ops call -------------------------------------------------------------------
    def save(self, **arrays):
        """Keep arrays for backward under names: ``ctx.save(x=x)`` then ``ctx.x``."""
        for name, value in arrays.items():
            setattr(self, name, value)

    @property
    def scalar(self) -> bool:
        """True when this op can run on Python floats (it has ``sforward``/``sbackward``)."""
        return self.sbackward is not None

    @property
    def needs_input_grad(self) -> tuple:
        return tuple(p.requires_grad for p in self.parents)

    @staticmethod
    def forward(ctx, *arrays, **kwargs):
        raise NotImplementedError("Function subclasses define forward(ctx, *arrays, **kw)")

    @staticmethod
    def backward(ctx, grad_out):
        raise NotImplementedError("Function subclasses define backward(ctx, grad_out)")

    # -- what drawings call ----------------------------------------------------------------
    def local_grad(self, i: int):
        """Local gradient of the output with respect to input ``i`` (array or description)."""
        if self.vjp:
            return self.vjp[min(i, len(self.vjp) - 1)]
        return f"vjp of {self.op} (see {type(self).__name__}.backward)"

    def input_grads(self, grad_out):
        """Recompute what backward sends to each input for ``grad_out``, in the inputs' shapes."""
        grads = self.backward(self, np.asarray(grad_out))
        if not isinstance(grads, tuple):
            grads = (grads,)
        out = []
        for p, g in zip(self.parents, grads):
            if g is None:
                out.append(None)
                continue
            g = np.asarray(g)
            out.append(unbroadcast(g, p.shape, self.op) if g.shape != p.shape else g)
        return tuple(out)

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run the op on Values (or arrays and numbers) and return the output Value.

        (Replaced by the engine's implementation when tinygrad_lite.engine is imported.)"""
        raise RuntimeError("import tinygrad_lite before calling Function.apply")

    def __repr__(self):
        return f"<{type(self).__name__} op={self.op!r}>"
