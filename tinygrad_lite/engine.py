"""Value: one class for scalars and tensors; building a node; the iterative backward pass.

A Value holds ``.data`` (an ndarray; 0-d for a scalar), ``.grad`` (None until a backward pass
reaches it) and, when an op made it, ``.ctx``: the op's context (an instance of the op's
:class:`~tinygrad_lite.function.Function` class), which holds the inputs and what the op saved.

How the engine stays fast without a second copy of any formula:

* Scalars of dtype float64 are kept as Python floats, and elementwise ops run their one
  ``forward``/``backward`` on them with ``ctx.xp = floatmath`` (Python's math), as micrograd
  does; ``.data`` and ``.grad`` turn them into 0-d arrays when read, so this never shows.
* An elementwise op's output Value is the op's ``ctx``: it keeps the op class, its inputs and
  what forward saved in its own slots (three of them, under the names the ops use, see
  ``_SAVED_AT``). One object per op and no reference cycle, so a graph is freed by reference
  counting alone and the garbage collector has little to scan. The op's own ``forward`` and
  ``backward`` run on it; ``value.ctx`` builds a context object only when a drawing or a
  debugger asks for one.
* Each elementwise op gets its own copy of the one node builder (:func:`_elementwise_builder`,
  a closure with the op's ``forward`` bound), so building a node looks nothing up.
* Every other op keeps its context object in the output Value.
* The backward loop handles an elementwise node's two inputs written out, not in a loop, and
  a gradient that ``+`` passes on unchanged is marked as shared (``_Shared``) instead of
  copied: each Value's ``.grad`` is still its own array, copied only if someone reads it.

Every graph walk is iterative: a chain a million ops deep backpropagates without recursion.

Data changed through the library (``v.data = ...``, an optimizer step) after an op saved it
for backward is caught at backward: each change takes a stamp from the same counter as node
creation, so "changed after this node was made" is one comparison (PyTorch's version counter).
Changes written straight into the numpy array (``v.data[:] = 0``) are caught only inside
``detect_anomaly()``, which keeps a copy of every saved array and compares it at backward.
"""
from __future__ import annotations

import itertools
from operator import attrgetter
from typing import Any

import numpy as np

from . import ops as _ops
from .function import NO_KWARGS, Function, _declared_slots, _mode, floatmath, no_grad, unbroadcast

__all__ = ["Value", "no_grad", "backward_order", "apply", "RemovableHandle"]

_float = float
_next_id = itertools.count(1).__next__  # creation order of nodes, and stamps of data changes
_ndarray = np.ndarray
_f64 = np.dtype(np.float64)
_new = object.__new__


class _State:
    """Engine-wide facts the hot paths read as plain class attributes."""

    last = 0  # the stamp of the most recent data change made through the library (0: none)
    hooks = 0  # how many hooks are registered on any Value (backward looks only if some are)
    # whether a subclass of Value exists: until one does, ``type(p) is Value`` tells a Value
    # from a constant, and graph walks skip the slower isinstance()
    subclassed = False


def _to_array(data, dtype=None, who="Value"):
    """Convert user data to an ndarray following the dtype rules (ints and bools -> float64)."""
    try:
        arr = np.array(data, dtype=dtype)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{who}: data must be numeric, got {type(data).__name__} ({e})") from None
    kind = arr.dtype.kind
    if dtype is None and kind in "iub":
        arr = arr.astype(np.float64)
    elif kind not in "fiub":
        raise TypeError(
            f"{who}: data must be numeric, got dtype {arr.dtype} from {type(data).__name__}")
    return arr


def _storage(arr):
    """How a Value stores an array: a 0-d float64 array as a Python float (the fast path)."""
    return _float(arr) if arr.ndim == 0 and arr.dtype == _f64 else arr


# An elementwise op's output Value is the op's ctx. What the built-in elementwise ops save
# (the names in their __slots__) lives in three slots of Value, _s0 to _s2: each name is
# another name for one of them (the same slot descriptor, so ``ctx.out`` costs what a slot
# read costs), chosen so that no op saves two names that share a slot.
_SAVED_AT = {"x": "_s0", "a": "_s0", "out": "_s1", "p": "_s1", "slope": "_s1", "lo": "_s1",
             "b": "_s2", "alpha": "_s2", "hi": "_s2"}
_CONTEXT_SLOTS = ("_s0", "_s1", "_s2", "xp", "needs_input_grad")  # and the engine's two


class _Shared:
    """A gradient array that two Values hold: backward passed it on unchanged (as ``+``
    does) or as a view (as ``reshape`` does), so it is both the op's output gradient and
    its input's. It stands in their ``_grad`` until read: the ``grad`` property then copies
    it, so each Value's ``.grad`` is its own array, and no copy is made for gradients nobody
    reads. ``_SHARED_NEXT`` (no array) in an input's ``_grad`` marks the gradient it is about
    to store as shared."""

    __slots__ = ("array",)
    array: np.ndarray | None


def _shared(array) -> _Shared:
    mark = _new(_Shared)
    mark.array = array
    return mark


_SHARED_NEXT = _shared(None)


class RemovableHandle:
    """What ``Value.register_hook`` returns: ``handle.remove()`` unregisters the hook."""

    __slots__ = ("_value", "_key")

    def __init__(self, value, key):
        self._value, self._key = value, key

    def remove(self):
        hooks = _extra(self._value, "hooks")
        if hooks and self._key in hooks:
            del hooks[self._key]
            _State.hooks -= 1


# -- building a node ---------------------------------------------------------------------------
def _leaf(data, label=None) -> Value:
    """A constant leaf (no grad) around data that is already a float or an ndarray."""
    v = _new(Value)
    v._data, v._grad, v.requires_grad, v._op, v._c = data, None, False, None, None
    v._id, v._pass, v._extra = _next_id(), None, None if label is None else {"label": label}
    return v


def _extra(v, key, default=None):
    """What few Values have, kept in ``v._extra`` (a dict; None or unset when there is
    nothing, as in the nodes the builders make, which skip the store): "label", "kwargs" (of
    an elementwise node's op), "version" (stamp of the last change to the data made through
    the library) and "hooks" ({key: fn} from register_hook)."""
    extra = getattr(v, "_extra", None)
    return default if extra is None else extra.get(key, default)


def _set_extra(v, key, value):
    extra = getattr(v, "_extra", None)
    if extra is None:
        if value is None:
            return
        extra = v._extra = {}
    extra[key] = value


def _constant(x, cls):
    """An op's non-Value argument as data: a Python float, or an ndarray (dtype rules)."""
    t = type(x)
    if t is _float or t is int:
        return _float(x)
    if t is _ndarray and x.dtype.kind == "f":
        return _storage(x)  # a float array operand is used as it is, as numpy code would
    if isinstance(x, (int, float, np.number)):
        return _float(x) if not isinstance(x, np.floating) or x.dtype == _f64 else np.asarray(x)
    try:
        return _storage(_to_array(x))
    except TypeError as e:  # name the op, not Value: "+: operand ... must be numeric"
        msg = str(e).replace("Value: data must be numeric", "operand must be numeric", 1)
        raise TypeError(f"{cls.op}: {msg}") from None


class _NoInput:
    """The default of a builder's second input: "unary op" (None is a (bad) operand)."""

    def __repr__(self):
        return "<unary>"


_UNARY = _NoInput()
_NEEDS = ((False,), (True,))
_NEEDS2 = (((False, False), (False, True)), ((True, False), (True, True)))


def apply(cls, args, kwargs=None):
    """Run op ``cls`` on ``args`` (Values, arrays, numbers) and return the output Value.

    This is ``Function.apply``: elementwise ops with one or two inputs take their builder
    (:func:`_elementwise_builder`), every other op :func:`_context_node`.
    """
    if cls.elementwise and 1 <= len(args) <= 2:
        build = _builder(cls)
        if build:
            return build(args[0], args[1] if len(args) == 2 else _UNARY, kwargs)
    return _context_node(cls, args, kwargs)


def _builder(cls):
    """Elementwise op ``cls``'s builder (made on first use, kept as ``cls._build``), or
    False if the op cannot use its output Value as ``ctx``."""
    build = cls.__dict__.get("_build")
    if build is None:
        build = cls._build = _elementwise_builder(cls) if _fits_in_value(cls) else False
    return build


def _fits_in_value(cls) -> bool:
    """True if elementwise op ``cls`` can use its output Value as ``ctx``: everything its
    forward saves has a slot in Value, no two names sharing one (``_SAVED_AT``)."""
    names = cls.saved_names = _declared_slots(cls)
    plain = all("__slots__" in c.__dict__ for c in cls.__mro__[:cls.__mro__.index(Function)])
    return (plain and set(names) <= set(_SAVED_AT)
            and len({_SAVED_AT[n] for n in names}) == len(names))


def _elementwise_builder(cls):
    """The function that builds the output Value of elementwise op ``cls``: ``build(a)`` for
    a unary op, ``build(a, b)`` for a binary one (``Value.__mul__`` is ``_mul``, Mul's
    builder). One definition for every elementwise op; each op gets its own copy of the
    function, with its ``forward`` bound, so that calling it costs no lookup."""
    forward = cls.forward

    def build(a, b=_UNARY, kwargs=None):
        """The output Value of ``cls`` on ``a`` (and ``b``, for a binary op).

        The output Value is made first and passed to the op's ``forward`` as its ``ctx``:
        what forward saves goes straight into the Value's slots (``_SAVED_AT``). The op runs
        on Python floats when every input is one (``ctx.xp = floatmath``), on numpy
        otherwise. A constant input stays a bare number or array.
        """
        if _mode.special:  # no_grad or anomaly mode: the general path
            return _context_node(cls, (a,) if b is _UNARY else (a, b), kwargs)
        if type(a) is Value or _State.subclassed and isinstance(a, Value):
            da = a._data
            ra = a.requires_grad
        else:
            a = da = _constant(a, cls)
            ra = False
        if b is _UNARY:
            b = db = None
            rb = False
        elif type(b) is Value or _State.subclassed and isinstance(b, Value):
            db = b._data
            rb = b.requires_grad
        else:
            b = db = b if type(b) is _float else _constant(b, cls)
            rb = False
        v = _new(Value)
        try:
            if b is None:
                v.needs_input_grad = _NEEDS[ra]
                v.xp = floatmath if type(da) is _float else np
                out = forward(v, da, **kwargs) if kwargs else forward(v, da)
            else:
                v.needs_input_grad = _NEEDS2[ra][rb]
                v.xp = floatmath if type(da) is _float and type(db) is _float else np
                out = forward(v, da, db, **kwargs) if kwargs else forward(v, da, db)
        except (ArithmeticError, ValueError, TypeError, IndexError) as e:
            out = _forward_after_error(cls, v, (da,) if b is None else (da, db), kwargs, e)
        except AttributeError:  # forward wants more of ctx than a Value has: give it a context
            cls._build = False
            return _context_node(cls, (a,) if b is None else (a, b), kwargs)
        if type(out) is not _float and type(out) is not _ndarray:
            out = _output(out)  # a numpy scalar (the result of 0-d arrays), or a number
        v._data = out
        v._grad = v._c = v._pass = None  # (_extra stays unset: see _extra)
        v._id = _next_id()
        if ra or rb:
            v.requires_grad = True
            v._op = cls
            v._p0 = a
            v._p1 = b
            if kwargs:
                v._extra = {"kwargs": kwargs}
        else:
            v.requires_grad = False
            v._op = None
        return v

    build.__qualname__ = f"_elementwise_builder.<{cls.__name__}>.build"
    summary = (cls.__doc__ or "").strip().split("\n")[0]
    build.__doc__ = (f"{cls.__name__}: {summary}\n\nThe op's node builder (see "
                     f"tinygrad_lite.engine._elementwise_builder).")
    return build


def _forward_after_error(cls, ctx, inputs, kwargs, error):
    """Python raised on floats (exp overflow, log(0), 1/0): rerun on numpy, which answers inf
    or NaN with a warning. On arrays: raise, naming the op and the input shapes."""
    if ctx.xp is floatmath:
        return _forward_on_arrays(cls, ctx, tuple(np.array(d) for d in inputs), kwargs)
    if isinstance(error, (ValueError, TypeError, IndexError)):
        raise _op_error(cls, error, inputs) from None
    raise error


def _forward_on_arrays(cls, ctx, inputs, kwargs):
    """``cls.forward`` with numpy; errors name the op and the shapes. A Python float beside
    an array stays a float: numpy's weak scalar, so float32 stays float32."""
    ctx.xp = np
    try:
        out = cls.forward(ctx, *inputs, **kwargs) if kwargs else cls.forward(ctx, *inputs)
    except (ValueError, TypeError, IndexError) as e:
        raise _op_error(cls, e, inputs) from None
    return _output(out)


def _output(out):
    """An op's result as a Value stores it: an ndarray, or a Python float for float64 0-d."""
    if type(out) is not _ndarray:
        out = np.asarray(out)
    return _storage(out) if out.ndim == 0 else out


def _context_node(cls, args, kwargs):
    """The output Value of any op, keeping its context (``value.ctx``): the general path."""
    like = None
    vals = []
    for x in args:
        if not isinstance(x, Value):
            x = _leaf(_constant(x, cls))
        vals.append(x)
        if like is None and type(x._data) is _ndarray and x.dtype.kind == "f":
            like = x.dtype
    ctx = cls()
    ctx.parents = vals = tuple(vals)
    ctx.kwargs = kwargs = kwargs or {}
    ctx.needs_input_grad = tuple(v.requires_grad for v in vals)
    if cls.elementwise and all(type(v._data) is _float for v in vals):  # anomaly mode
        ctx.xp = floatmath
        try:
            out = _output(cls.forward(ctx, *(v._data for v in vals), **kwargs))
        except (ArithmeticError, ValueError, TypeError, IndexError) as e:
            out = _forward_after_error(cls, ctx, tuple(v._data for v in vals), kwargs, e)
    else:  # a float64 scalar input is a 0-d array here; a constant takes the arrays' dtype
        arrays = [np.array(v._data, dtype=_f64 if v.requires_grad else (like or _f64))
                  if type(v._data) is _float and not cls.elementwise else v._data for v in vals]
        out = _forward_on_arrays(cls, ctx, arrays, kwargs)
    v = _leaf(out)
    if any(ctx.needs_input_grad) and (_mode.special == 0 or _mode.enabled):
        v.requires_grad = True
        v._op, v._c = cls, ctx
        if _mode.special and _mode.anomaly:
            _anomaly.check_forward(ctx, v)
    return v


def _slot_parents(v) -> tuple:
    """An elementwise node's inputs, in order. A constant, kept bare by the fast path,
    becomes a constant leaf Value here (once: the same Value every time)."""
    p0, p1 = v._p0, v._p1
    if not isinstance(p0, Value):
        p0 = v._p0 = _leaf(p0)
    if p1 is None:
        return (p0,)
    if not isinstance(p1, Value):
        p1 = v._p1 = _leaf(p1)
    return (p0, p1)


def _drawing_context(v):
    """An elementwise node's context as an object of the op's class, for drawings and
    debuggers (``v.ctx``): constants as leaf Values and saved numbers as numpy values, so
    that ``local_grad`` gives arrays."""
    cls = v._op
    ctx = _new(cls)
    for name in cls.saved_names:
        value = getattr(v, name)
        setattr(ctx, name, np.float64(value) if type(value) is _float else value)
    ctx.parents = _slot_parents(v)
    ctx.kwargs = _extra(v, "kwargs") or NO_KWARGS
    ctx.needs_input_grad = v.needs_input_grad
    ctx.xp = np
    return ctx


def _op_error(cls, e, arrays):
    msg = str(e)
    if msg.startswith(f"{cls.op}:"):
        return e
    shapes = ", ".join(str(np.shape(a)) for a in arrays)
    msg = f"{cls.op}: {msg} (input shapes {shapes})"
    try:
        return type(e)(msg)
    except Exception:  # noqa: BLE001 - a subclass with another signature (numpy's UFuncTypeError)
        base = next(b for b in (IndexError, TypeError, ValueError) if isinstance(e, b))
        return base(msg)


# The builders of the elementwise ops: Value's operators and methods are these functions
# (``Value.__mul__`` is ``_mul``), and ``Mul.apply`` uses the same one.
(_add, _sub, _mul, _div, _pow, _neg, _exp, _log, _sqrt, _abs, _clip, _sigmoid, _tanh, _relu,
 _leaky_relu, _elu) = (_builder(op) for op in (
    _ops.Add, _ops.Sub, _ops.Mul, _ops.Div, _ops.Pow, _ops.Neg, _ops.Exp, _ops.Log, _ops.Sqrt,
    _ops.Abs, _ops.Clip, _ops.Sigmoid, _ops.Tanh, _ops.ReLU, _ops.LeakyReLU, _ops.ELU))


class Value:
    """A node of the graph: a scalar or a tensor, with its gradient.

    Value(data, requires_grad=True, label=None, dtype=None)

    * ``data``: a number, nested list or ndarray. Python numbers, integer and bool arrays
      become float64 unless ``dtype`` says otherwise; float arrays keep their dtype (copied).
    * ``.grad``: None until a backward pass reaches this Value; then an array of ``.data``'s
      shape and dtype. Gradients accumulate across backward calls until ``zero_grad()``.
      An all-zero array means "reached, and the gradient is zero" (a dead unit).
    * ``.op``: the op that made it ("" for a leaf); ``.parents``: its inputs, in order;
      ``.ctx``: the op's context (None for a leaf).
    """

    # _data: a Python float (float64 scalar) or an ndarray; _grad: likewise, or None.
    # _op: the op class (None for a leaf). _c: the kept context, or None.
    # An elementwise node is its own op's ctx: its inputs in _p0, _p1 (a number or array
    # constant stays bare), _s0 to _s2 what forward saved (under the names of _SAVED_AT) and
    # the context attributes xp and needs_input_grad.
    # _id: creation order, so sorting by it is a topological order of any graph.
    # _pass: the gradient pending during a backward pass.
    # _extra: None, or a dict of what few Values have (see _extra): a label, an op's keyword
    # arguments, a data-change stamp, hooks. (Fewer slots: a smaller object for the garbage
    # collector to visit and for every op to allocate.)
    __slots__ = ("_data", "_grad", "requires_grad", "_op", "_c", "_p0", "_p1", "_id", "_pass",
                 "_extra", "__weakref__",
                 # = _CONTEXT_SLOTS (written out for type checkers)
                 "_s0", "_s1", "_s2", "xp", "needs_input_grad")
    _extra: dict[str, Any] | None
    _p0: Any  # an input: a Value, or a bare number or array for a constant
    _p1: Any

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _State.subclassed = True

    def __init__(self, data, requires_grad=True, label=None, dtype=None):
        if isinstance(data, Value):
            data = data.data
        if dtype is None and (type(data) in (float, int) or isinstance(data, np.float64)):
            data = _float(data)
        else:
            data = _storage(_to_array(data, dtype))
        self._data = data
        self._grad = None
        self.requires_grad = bool(requires_grad)
        self._extra = None if label is None else {"label": label}
        self._op = None
        self._c = None
        self._id = _next_id()
        self._pass = None

    # -- data and grad ---------------------------------------------------------------------
    @property
    def data(self) -> np.ndarray:
        d = self._data
        if type(d) is _float:
            d = self._data = np.array(d)
        return d

    @data.setter
    def data(self, value):
        if isinstance(value, Value):
            value = value.data
        if not (type(value) is _ndarray and value.dtype.kind == "f"):  # float arrays: no copy
            value = _to_array(value, None if isinstance(value, np.ndarray) else self.dtype)
        # as in __init__: ``p.data -= lr * p.grad`` keeps a scalar on the fast float path
        self._data = _storage(value)
        self._mark_changed()

    def _mark_changed(self):
        """Record that this Value's data changed (the data setter and optimizers call it), so
        that a backward through an op that saved the old data raises instead of being wrong."""
        _State.last = stamp = _next_id()
        _set_extra(self, "version", stamp)

    @property
    def grad(self):
        g = self._grad
        if type(g) is _float:
            g = self._grad = np.array(g)
        elif type(g) is _Shared:  # .grad must be an array of its own (see _Shared)
            g = self._grad = None if g.array is None else g.array.copy()
        elif g is not None and not g.flags.writeable:  # a broadcast view, as backward left it
            g = self._grad = g.copy()  # .grad must be an array users can change
        return g

    @grad.setter
    def grad(self, value):
        if value is not None:
            value = np.asarray(value, dtype=self.dtype)
            if value.shape != self.shape:
                raise ValueError(f"grad of shape {value.shape} for a Value of shape {self.shape}")
        self._grad = value

    def zero_grad(self, set_to_none=True):
        """Forget the gradient: None (PyTorch's default), or zeros with set_to_none=False."""
        self._grad = None if set_to_none else np.zeros(self.shape, self.dtype)

    @property
    def shape(self) -> tuple:
        d = self._data
        return () if type(d) is _float else d.shape

    @property
    def ndim(self) -> int:
        d = self._data
        return 0 if type(d) is _float else d.ndim

    @property
    def size(self) -> int:
        d = self._data
        return 1 if type(d) is _float else d.size

    @property
    def dtype(self) -> np.dtype:
        d = self._data
        return _f64 if type(d) is _float else d.dtype

    # -- the graph -------------------------------------------------------------------------
    @property
    def op(self) -> str:
        return "" if self._op is None else self._op.op

    @property
    def parents(self) -> tuple:
        if self._c is not None:
            return self._c.parents
        if self._op is not None:
            return _slot_parents(self)
        return ()

    @property
    def is_leaf(self) -> bool:
        return self._op is None

    @property
    def ctx(self):
        """The op's context (an instance of the op's Function class), None for a leaf.

        Its repr shows the op, the inputs and what forward saved; ``ctx.local_grad(i)`` and
        ``ctx.input_grads(g)`` recompute the op's gradients for drawings. An elementwise
        node keeps its state in its own slots; its context is built on first request."""
        ctx = self._c
        if ctx is None and self._op is not None:
            ctx = self._c = _drawing_context(self)
        return ctx

    grad_fn = ctx  # PyTorch's name
    _ctx = ctx  # the name used before ``ctx`` was public

    @property
    def label(self) -> str | None:
        """The name shown in reprs and drawings (None: unnamed)."""
        return _extra(self, "label")

    @label.setter
    def label(self, name):
        _set_extra(self, "label", name)

    def named(self, label: str) -> Value:
        """Set the label shown in reprs and drawings and return this same Value:
        ``h = (x @ W).named("h1")``."""
        self.label = label
        return self

    def register_hook(self, fn) -> RemovableHandle:
        """Call ``fn(grad)`` when this Value's gradient is complete in a backward pass.

        As in PyTorch: on leaves and interior nodes alike; an array ``fn`` returns replaces
        the gradient (it is what ``.grad`` accumulates and what flows on to the inputs);
        None leaves it unchanged. Returns a handle whose ``remove()`` unregisters ``fn``."""
        if not callable(fn):
            raise TypeError(f"register_hook: expected a callable, got {type(fn).__name__}")
        if not self.requires_grad:
            raise RuntimeError("register_hook: this Value does not require grad, so no "
                               "gradient will ever reach it")
        hooks = _extra(self, "hooks")
        if hooks is None:
            hooks = {}
            _set_extra(self, "hooks", hooks)
        key = _next_id()
        hooks[key] = fn
        _State.hooks += 1
        return RemovableHandle(self, key)

    # -- conversions -----------------------------------------------------------------------
    def item(self) -> float:
        d = self._data
        if type(d) is _float:
            return d
        if d.size != 1:
            raise ValueError(f"item: only a one-element Value converts to a number, not shape "
                             f"{d.shape}")
        return d.item()

    def __float__(self):
        return _float(self._one("float"))

    def __int__(self):
        return int(self._one("int"))

    def __format__(self, spec):
        if not spec:
            return repr(self)
        return format(self._one("format"), spec)

    def _one(self, who):
        if self.size != 1:
            raise TypeError(f"{who}(): only a one-element Value converts to a number, not shape "
                            f"{self.shape}; use .data for the array")
        return self.item()

    def numpy(self) -> np.ndarray:
        """The data as an ndarray (shared, not copied)."""
        return self.data

    def detach(self) -> Value:
        """A new leaf sharing this Value's data, cut from the graph (requires_grad=False)."""
        return _leaf(self._data, self.label)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d Value")
        return self.shape[0]

    def __repr__(self):
        parts = []
        if self.label is not None:
            parts.append(f"label={self.label!r}")
        if not self.is_leaf:
            parts.append(f"op={self.op!r}")
        d, g = self._data, self._grad
        if type(g) is _Shared:
            g = g.array
        if self.size == 1 and self.ndim == 0:
            parts.append(f"data={float(d):.6g}")
            parts.append("grad=None" if g is None else f"grad={float(g):.6g}")
        else:
            parts.append(f"shape={self.shape}")
            parts.append(f"dtype={self.dtype}")
            if d.size:
                parts.append(f"mean={float(d.mean()):.4g}")
            parts.append("grad=None" if g is None else f"grad_norm={float(np.linalg.norm(g)):.4g}")
        if not self.requires_grad:
            parts.append("requires_grad=False")
        return f"Value({', '.join(parts)})"

    # -- numpy interoperability --------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        """``np.asarray(v)``: the data of a Value that needs no gradient; for one that does, a
        TypeError (as PyTorch), since numpy would silently cut the graph."""
        if self.requires_grad:
            raise TypeError(
                "np.asarray() of a Value that requires grad would cut it from the graph; use "
                "v.data (or v.numpy()) for the numbers, v.detach() for a constant Value, or "
                "the Value's own methods (v.exp(), v.sum(), ...) to keep the gradient")
        d = self.data
        if dtype is not None and d.dtype != dtype:
            return d.astype(dtype)
        return d.copy() if copy else d

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """``ndarray * Value`` and ``np.exp(v)``: run the matching op, keeping the graph."""
        fn = _UFUNCS.get(ufunc.__name__) if method == "__call__" and not kwargs else None
        if fn is None:
            name = _METHOD_HINT.get(ufunc.__name__)
            hint = f"use {name}" if name else "use v.data for the numbers (no gradient)"
            raise TypeError(f"np.{ufunc.__name__} on a Value is not supported: {hint}")
        return fn(*inputs)

    def __array_function__(self, func, types, args, kwargs):
        """``np.mean(v)``, ``np.sum(v)`` ...: the Value's method where one exists."""
        name = func.__name__
        method = _FUNCTIONS.get(name)
        if method is not None and args and args[0] is self and len(args) == 1:
            return getattr(self, method)(**kwargs)
        hint = f"v.{method}()" if method else "v.data for the numbers (no gradient)"
        raise TypeError(f"np.{name} on a Value is not supported: use {hint}")

    # -- backward --------------------------------------------------------------------------
    def backward(self, grad=None):
        """Backpropagate from this Value into every Value it depends on.

        A one-element output is seeded with 1.0; any other needs ``grad`` of its shape.
        Gradients are added to ``.grad`` (interior nodes included), so two calls accumulate.
        """
        _backward(self, grad)

    # -- operators -------------------------------------------------------------------------
    # An elementwise operator or method is its op's builder (see _elementwise_builder), so
    # stepping into ``x * y`` lands in the code that makes the output Value and runs
    # ``Mul.forward`` on it; the reflected ones (``2 * x``) swap the operands first.
    __add__ = _add

    def __radd__(self, other):
        return _add(other, self)

    __sub__ = _sub

    def __rsub__(self, other):
        return _sub(other, self)

    __mul__ = _mul

    def __rmul__(self, other):
        return _mul(other, self)

    __truediv__ = _div

    def __rtruediv__(self, other):
        return _div(other, self)

    def __pow__(self, p):
        if isinstance(p, Value):
            if not p.requires_grad:
                p = p.data
            else:
                return (self.log() * p).exp()
        if isinstance(p, np.ndarray) and p.ndim == 0:
            p = p.item()
        if not isinstance(p, (int, float, np.integer, np.floating)):
            raise TypeError(f"pow: the exponent must be a number, got {type(p).__name__}")
        return _pow(self, kwargs={"p": p})

    def __rpow__(self, base):
        """``c ** x`` for a constant positive base c: exp(x * ln c)."""
        b = np.asarray(base.data if isinstance(base, Value) else base, dtype=self.dtype)
        if np.any(b <= 0):
            raise ValueError(f"pow: base {base} must be positive for a Value exponent")
        return (self * np.log(b)).exp()

    __neg__ = _neg

    def __matmul__(self, other):
        return apply(_ops.MatMul, (self, other))

    def __rmatmul__(self, other):
        return apply(_ops.MatMul, (other, self))

    def __getitem__(self, idx):
        return apply(_ops.GetItem, (self,), {"idx": _plain_index(idx)})

    # comparisons give boolean arrays (no gradient); == keeps identity, so Values hash
    def __lt__(self, other):
        return self.data < _raw(other)

    def __le__(self, other):
        return self.data <= _raw(other)

    def __gt__(self, other):
        return self.data > _raw(other)

    def __ge__(self, other):
        return self.data >= _raw(other)

    __hash__ = object.__hash__

    # -- methods ---------------------------------------------------------------------------
    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return apply(_ops.Reshape, (self,), {"shape": shape})

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return apply(_ops.Transpose, (self,), {"axes": axes or None})

    @property
    def T(self):
        return apply(_ops.Transpose, (self,), {"axes": None})

    def flatten(self, start_dim=0):
        """Collapse the axes from ``start_dim`` on into one."""
        return self.reshape(*self.shape[:start_dim], -1)

    def sum(self, axis=None, keepdims=False):
        return apply(_ops.Sum, (self,), {"axis": axis, "keepdims": keepdims})

    def mean(self, axis=None, keepdims=False):
        return apply(_ops.Mean, (self,), {"axis": axis, "keepdims": keepdims})

    def max(self, axis=None, keepdims=False):
        """Maximum over ``axis``; tied maxima share the gradient equally (like torch.amax)."""
        return apply(_ops.Max, (self,), {"axis": axis, "keepdims": keepdims})

    exp = _exp

    log = _log

    sqrt = _sqrt

    abs = _abs

    def clip(self, lo=None, hi=None):
        return _clip(self, kwargs={"lo": lo, "hi": hi})

    sigmoid = _sigmoid

    tanh = _tanh

    relu = _relu

    def leaky_relu(self, slope=0.01):
        return _leaky_relu(self, kwargs={"slope": slope})

    def elu(self, alpha=1.0):
        return _elu(self, kwargs={"alpha": alpha})


def _raw(x):
    return x.data if isinstance(x, Value) else x


def _plain_index(idx):
    """Indices made of Values become their arrays; lists become integer or bool arrays."""
    if isinstance(idx, Value):
        return idx.data.astype(np.int64) if idx.dtype.kind == "f" else idx.data
    if isinstance(idx, list):
        return np.asarray(idx)
    if isinstance(idx, tuple):
        return tuple(_plain_index(i) for i in idx)
    return idx


# numpy calls on Values: the ufuncs and functions that map to an op, and hints for the rest
_UFUNCS = {
    "add": lambda a, b: apply(_ops.Add, (a, b)), "subtract": lambda a, b: apply(_ops.Sub, (a, b)),
    "multiply": lambda a, b: apply(_ops.Mul, (a, b)),
    "true_divide": lambda a, b: apply(_ops.Div, (a, b)),
    "divide": lambda a, b: apply(_ops.Div, (a, b)),
    "matmul": lambda a, b: apply(_ops.MatMul, (a, b)),
    "negative": lambda a: apply(_ops.Neg, (a,)),
    "exp": lambda a: apply(_ops.Exp, (a,)), "log": lambda a: apply(_ops.Log, (a,)),
    "sqrt": lambda a: apply(_ops.Sqrt, (a,)), "absolute": lambda a: apply(_ops.Abs, (a,)),
    "tanh": lambda a: apply(_ops.Tanh, (a,)),
}
_METHOD_HINT = {"maximum": "v.relu() or v.clip(lo=...)", "minimum": "v.clip(hi=...)",
                "power": "v ** p", "sign": "v.data for the signs (no gradient)"}
_FUNCTIONS = {"sum": "sum", "mean": "mean", "max": "max", "amax": "max", "exp": "exp",
              "log": "log", "sqrt": "sqrt", "abs": "abs", "tanh": "tanh",
              "reshape": "reshape", "transpose": "transpose", "clip": "clip"}


# -- backward ----------------------------------------------------------------------------------
_by_id = attrgetter("_id")


def backward_order(root: Value) -> list:
    """Every Value that requires grad and that ``root`` depends on, inputs before outputs.

    An iterative walk (explicit stack, any depth) collects them; sorting by creation order
    then gives a topological order, since a Value is always created after its inputs. (The
    order in which the walk leaves nodes is close to reversed creation order, which keeps
    the sort short.)
    """
    if not root.requires_grad:
        return []
    seen = {root}
    nodes: list = []
    stack = [root]
    see, keep, push, pop = seen.add, nodes.append, stack.append, stack.pop
    sub = _State.subclassed
    while stack:
        node = pop()
        keep(node)
        if node._op is None:
            continue
        if node._c is None:  # an elementwise node: inputs _p0 and _p1, written out (speed)
            p, p1 = node._p0, node._p1
            if (type(p) is Value or sub and isinstance(p, Value)) and p.requires_grad and (
                    p not in seen):
                see(p)
                push(p)
            if (type(p1) is Value or sub and isinstance(p1, Value)) and p1.requires_grad and (
                    p1 not in seen):
                see(p1)
                push(p1)
            continue
        for p in node._c.parents:
            if p.requires_grad and p not in seen:
                see(p)
                push(p)
    nodes.sort(key=_by_id)
    return nodes


def _backward(root: Value, grad):
    """The backward pass: each node, outputs first, runs its op's backward on its complete
    gradient and passes the results on to its inputs."""
    if not root.requires_grad:
        raise RuntimeError(
            "backward: this Value does not require grad (it was made under no_grad, from "
            "constants only, or by detach())")
    root._pass = _seed(root, grad)
    last_change, any_hooks, sub = _State.last, _State.hooks, _State.subclassed
    anomaly = _mode.special and _mode.anomaly
    for node in reversed(backward_order(root)):
        g = node._pass  # complete: every consumer of node came later and has passed its part
        if g is None:
            continue
        node._pass = None
        if any_hooks and _extra(node, "hooks"):
            g = _run_hooks(node, g)
        old = node._grad
        node._grad = g if old is None else _sum_grads(node, old, g)
        cls = node._op
        if cls is None:  # a leaf
            continue
        if last_change > node._id and cls.saves_data:
            _check_versions(node)
        if node._c is not None:  # an op that keeps a context object: any number of inputs
            _context_backward(node, cls, g, anomaly)
            continue
        # An elementwise node is its own ctx. Its inputs, _p0 and _p1 (None for a unary op),
        # are written out below: on a scalar graph a loop over them costs more than the rest.
        if node.xp is not floatmath:  # numpy: g is an array, or a float if forward fell
            grads = cls.backward(node, g)  # back to numpy at a pole; numpy takes either
        else:
            try:
                grads = cls.backward(node, g)
            except (ArithmeticError, ValueError):  # a pole, such as 0 ** -0.5
                grads = cls.backward(_on_numpy(node), np.array(g))
        if anomaly:
            _anomaly.check_backward(node.ctx, node, grads if type(grads) is tuple else (grads,))
        p, p1 = node._p0, node._p1
        if p1 is None:
            pg = grads if type(grads) is not tuple else _only_gradient(grads, node)
        else:
            if type(grads) is not tuple:  # (unpacking an array would give its rows)
                raise _wrong_count(node, grads)
            try:
                pg, pg1 = grads
            except ValueError:
                raise _wrong_count(node, grads) from None
            if (type(p1) is Value or sub and isinstance(p1, Value)) and p1.requires_grad:
                d = p1._data
                if type(pg1) is _float and type(d) is _float:  # Python floats: add up
                    prev = p1._pass
                    p1._pass = pg1 if prev is None else prev + pg1
                elif (p1._pass is None and type(pg1) is _ndarray and pg1.base is None
                        and type(d) is _ndarray and pg1.shape == d.shape
                        and pg1.dtype is d.dtype):
                    # an array in p1's shape and dtype, the first to come; g itself (from
                    # +, -) is shared with this node's .grad (see _Shared)
                    p1._pass = pg1
                    if pg1 is g:
                        _share(node, g, p1)
                else:
                    _send(p1, pg1, node, g)  # (the general case)
        if (type(p) is Value or sub and isinstance(p, Value)) and p.requires_grad:
            d = p._data
            if type(pg) is _float and type(d) is _float:
                prev = p._pass
                p._pass = pg if prev is None else prev + pg
            elif (p._pass is None and type(pg) is _ndarray and pg.base is None
                    and type(d) is _ndarray and pg.shape == d.shape and pg.dtype is d.dtype):
                p._pass = pg
                if pg is g:
                    _share(node, g, p)
            else:
                _send(p, pg, node, g)


def _only_gradient(grads, node):
    """A unary op's gradient, returned as a 1-tuple rather than bare."""
    if len(grads) != 1:
        raise _wrong_count(node, grads)
    return grads[0]


def _context_backward(node, cls, g, anomaly):
    """Backward through an op that keeps a context object, and on to each of its inputs."""
    ctx = node._c
    on_floats = ctx.xp is floatmath  # (an elementwise op on Python floats, in anomaly mode)
    try:
        grads = cls.backward(ctx, g if on_floats or type(g) is not _float else np.array(g))
    except (ArithmeticError, ValueError):
        if not on_floats:
            raise
        grads = cls.backward(_on_numpy(ctx), np.array(g))  # at a pole: numpy's inf or NaN
    if type(grads) is not tuple:
        grads = (grads,)
    if anomaly:
        _anomaly.check_backward(ctx, node, grads)
    inputs = ctx.parents
    if len(grads) != len(inputs):
        raise _wrong_count(node, grads)
    for p, pg in zip(inputs, grads, strict=True):
        if p.requires_grad:
            _send(p, pg, node, g)


def _sum_grads(node, old, g):
    """``.grad`` of a node reached again by a later backward call: old + new, in its dtype
    (or g marked as shared, if an op passed it on unchanged: see _Shared)."""
    if old is _SHARED_NEXT:
        return _shared(g)
    total = (old.array if type(old) is _Shared else old) + g
    return total if type(total) is _float else np.asarray(total, dtype=node.dtype)


def _wrong_count(node, grads):
    cls = node._op
    n = len(grads) if type(grads) is tuple else 1
    return RuntimeError(f"{cls.op}: backward returned {n} gradients for {len(node.parents)} "
                        f"inputs ({cls.__name__}.backward must return one per input, None "
                        f"where an input needs none)")


def _on_numpy(ctx):
    """A float-path context switched to numpy, after Python raised at a pole (0 ** -0.5):
    its saved floats become 0-d arrays, so the rerun gives numpy's inf or NaN."""
    names = ctx._op.saved_names if type(ctx) is Value else _declared_slots(type(ctx))
    for name in names:
        value = getattr(ctx, name)
        if type(value) is _float:
            setattr(ctx, name, np.array(value))
    ctx.xp = np
    return ctx


def _seed(root: Value, grad):
    d = root._data
    if grad is None:
        if root.size != 1:
            raise ValueError(
                f"backward: grad can be implied only for a one-element output, but this Value has "
                f"shape {root.shape}; pass grad= an array of shape {root.shape}")
        return 1.0 if type(d) is _float else np.ones(d.shape, d.dtype)
    g = np.asarray(grad.data if isinstance(grad, Value) else grad, dtype=root.dtype)
    if g.shape != root.shape:
        raise ValueError(f"backward: grad of shape {g.shape} does not match the output's shape "
                         f"{root.shape}")
    return _float(g) if type(d) is _float else g


def _send(p, pg, node, g):
    """Add gradient ``pg`` (from ``node``, whose own gradient is ``g``) to input ``p``'s
    pending gradient, summed back to p's shape and cast to its dtype."""
    pd = p._data
    if type(pd) is _float:
        if type(pg) is not _float:
            if pg is None:
                _missing_gradient(node, p)
            pg = np.asarray(pg)
            pg = _float(pg.sum() if pg.ndim else pg)
    elif type(pg) is not _ndarray or pg.shape != pd.shape or (
            pg.dtype is not pd.dtype and pg.dtype != pd.dtype):
        if pg is None:
            _missing_gradient(node, p)
        if type(pg) is not _ndarray:
            pg = np.asarray(pg, dtype=pd.dtype)
        if pg.shape != pd.shape:
            pg = unbroadcast(pg, pd.shape, node._op.op)
        if pg.dtype != pd.dtype:
            pg = pg.astype(pd.dtype)
    elif pg is g or (pg.base is not None and type(g) is _ndarray and (
            pg.base is g or pg.base is g.base)):  # g itself (+, -) or a view of it (reshape)
        _share(node, g, p)
    prev = p._pass
    p._pass = pg if prev is None else prev + pg


def _share(node, g, p):
    """Input ``p`` gets ``node``'s own gradient ``g`` (``+`` passes it on) or a view of it:
    node's .grad and the one p is about to store are marked as shared (see _Shared)."""
    if node._grad is g:
        node._grad = _shared(g)
    if p._grad is None:
        p._grad = _SHARED_NEXT


def _run_hooks(node, g):
    """Call the node's hooks on its complete gradient; a returned array replaces it."""
    for fn in list(_extra(node, "hooks").values()):
        out = fn(np.array(g) if type(g) is _float else g)
        if out is not None:
            out = np.asarray(out.data if isinstance(out, Value) else out, dtype=node.dtype)
            if out.shape != node.shape:
                raise ValueError(f"hook {getattr(fn, '__name__', fn)!r} returned a gradient of "
                                 f"shape {out.shape} for a Value of shape {node.shape}")
            g = _float(out) if type(node._data) is _float else out
    return g


def _missing_gradient(node, p):
    cls = node._op
    i = next(i for i, q in enumerate(node.parents) if q is p)
    name = f" {p.label!r}" if p.label is not None else ""
    raise RuntimeError(f"{cls.op}: backward returned None for input {i}{name} of shape "
                       f"{p.shape}, which requires grad ({cls.__name__}.backward must return "
                       f"a gradient wherever ctx.needs_input_grad is True)")


def _check_versions(node):
    """Raise if an input (or the output) of ``node`` changed after ``node`` was made.

    An elementwise op whose forward saved only ``out`` (tanh, sigmoid, exp, sqrt, relu) does
    not read its input in backward, so a changed input is fine there, as in PyTorch."""
    names = getattr(node._op, "saved_names", None) if node._c is None else None
    for i, p in enumerate(node.parents if names != ("out",) else ()):
        if isinstance(p, Value) and _extra(p, "version", 0) > node._id:
            name = f" {p.label!r}" if p.label is not None else ""
            raise RuntimeError(
                f"{node._op.op}: input {i}{name} of shape {p.shape} was changed after the op "
                f"saved it for backward (its data was replaced, or an optimizer stepped), so "
                f"the gradient would be computed from the wrong numbers; run the forward pass "
                f"again after changing data")
    if _extra(node, "version", 0) > node._id:
        raise RuntimeError(f"{node._op.op}: its output of shape {node.shape} was changed after "
                           f"the op saved it for backward")


from . import anomaly as _anomaly  # noqa: E402  (it names Values in its messages)

assert Value.__slots__[-len(_CONTEXT_SLOTS):] == _CONTEXT_SLOTS
for _name, _slot in _SAVED_AT.items():
    setattr(Value, _name, Value.__dict__[_slot])
