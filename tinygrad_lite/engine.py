"""Value: one class for scalars and tensors, and the iterative backward pass.

A Value holds ``.data`` (an ndarray; 0-d for a scalar), ``.grad`` (None until a backward pass
reaches it) and, when an op made it, ``_ctx``: the op's context, which holds the parents.

Scalars of dtype float64 are kept internally as Python floats and ops on them run on Python
floats; ``.data`` and ``.grad`` turn them into 0-d arrays when read, so the difference never
shows. A scalar op's output Value keeps the op, its inputs and two saved numbers in its own
slots, and its context is built only when someone reads ``_ctx`` (a drawing, anomaly mode):
one object per op and no reference cycle, so a graph is freed by reference counting alone
and the garbage collector has little to scan (micrograd's closures make it spend most of its
time there).

Every graph walk is iterative: a chain a million ops deep backpropagates without recursion.
"""
from __future__ import annotations

import itertools
from operator import attrgetter

import numpy as np

from .function import Function, _mode, no_grad, unbroadcast

__all__ = ["Value", "no_grad", "backward_order"]

_float = float
_next_id = itertools.count(1).__next__
_ndarray = np.ndarray
_f64 = np.dtype(np.float64)


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


class Value:
    """A node of the graph: a scalar or a tensor, with its gradient.

    Value(data, requires_grad=True, label=None, dtype=None)

    * ``data``: a number, nested list or ndarray. Python numbers, integer and bool arrays
      become float64 unless ``dtype`` says otherwise; float arrays keep their dtype (copied).
    * ``.grad``: None until a backward pass reaches this Value; then an array of ``.data``'s
      shape and dtype. Gradients accumulate across backward calls until ``zero_grad()``.
      An all-zero array means "reached, and the gradient is zero" (a dead unit).
    * ``.op``: the op that made it ("" for a leaf); ``.parents``: its inputs, in order.
    """

    # _c: the op's context (None for a leaf, and for a scalar node until someone asks);
    # _op, _p0, _p1, _s0, _s1: a scalar node's op class, inputs and two saved floats, kept in
    # the Value itself so that a scalar op allocates one object, not three;
    # _id: creation order, so sorting by it is a topological order of any graph
    __slots__ = ("_data", "_grad", "requires_grad", "label", "_c", "_op", "_p0", "_p1", "_s0",
                 "_s1", "_pass", "_id", "__weakref__")
    __array_ufunc__ = None  # ndarray (op) Value defers to Value's reflected operators

    def __init__(self, data, requires_grad=True, label=None, dtype=None):
        if isinstance(data, Value):
            data = data.data
        if dtype is None and type(data) in (float, int) or isinstance(data, np.float64):
            data = _float(data)
        else:
            data = _to_array(data, dtype)
            if data.ndim == 0 and data.dtype == _f64:
                data = _float(data)
        self._data = data
        self._grad = None
        self.requires_grad = bool(requires_grad)
        self.label = label
        self._c = None
        self._op = None
        self._pass = None
        self._id = _next_id()

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
        if value.ndim == 0 and value.dtype == _f64:
            # as in __init__: reading .data materialized an array, but ``p.data -= lr * p.grad``
            # must not leave the scalar off the fast float path for every later op
            value = _float(value)
        self._data = value

    @property
    def grad(self):
        g = self._grad
        if type(g) is _float:
            g = self._grad = np.array(g)
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

    @property
    def op(self) -> str:
        if self._op is not None:
            return self._op.op
        ctx = self._c
        return "" if ctx is None else ctx.op

    @property
    def parents(self) -> tuple:
        if self._op is not None:
            return _scalar_parents(self)
        ctx = self._c
        return () if ctx is None else ctx.parents

    @property
    def is_leaf(self) -> bool:
        return self._c is None and self._op is None

    @property
    def ctx(self):
        """The op's context (a Function instance), None for a leaf. A scalar node keeps its
        inputs and saved numbers in its own slots; its context is built on first request."""
        ctx = self._c
        if ctx is None and self._op is not None:
            ctx = self._c = _scalar_context(self)
        return ctx

    grad_fn = ctx  # PyTorch's name
    _ctx = ctx  # the name viz used before ``ctx`` was public

    def named(self, label: str) -> "Value":
        """Set the label shown in reprs and drawings and return this same Value:
        ``h = (x @ W).named("h1")``."""
        self.label = label
        return self

    def item(self) -> float:
        d = self._data
        if type(d) is _float:
            return d
        if d.size != 1:
            raise ValueError(f"item: only a one-element Value converts to a number, not shape {d.shape}")
        return d.item()

    def numpy(self) -> np.ndarray:
        """The data as an ndarray (shared, not copied)."""
        return self.data

    def detach(self) -> "Value":
        """A new leaf sharing this Value's data, cut from the graph (requires_grad=False)."""
        v = Value.__new__(Value)
        v._data, v._grad, v.requires_grad, v.label, v._c, v._op, v._pass, v._id = (
            self._data, None, False, self.label, None, None, None, _next_id())
        return v

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

    # -- backward --------------------------------------------------------------------------
    def backward(self, grad=None):
        """Backpropagate from this Value into every Value it depends on.

        A one-element output is seeded with 1.0; any other needs ``grad`` of its shape.
        Gradients are added to ``.grad`` (interior nodes included), so two calls accumulate.
        """
        _backward(self, grad)

    # -- operators -------------------------------------------------------------------------
    def __add__(self, other):
        return _scalar2(_Add, self, other, False)

    def __radd__(self, other):
        return _scalar2(_Add, self, other, True)

    def __sub__(self, other):
        return _scalar2(_Sub, self, other, False)

    def __rsub__(self, other):
        return _scalar2(_Sub, self, other, True)

    def __mul__(self, other):
        return _scalar2(_Mul, self, other, False)

    def __rmul__(self, other):
        return _scalar2(_Mul, self, other, True)

    def __truediv__(self, other):
        return _scalar2(_Div, self, other, False)

    def __rtruediv__(self, other):
        return _scalar2(_Div, self, other, True)

    def __pow__(self, p):
        if isinstance(p, Value):
            if not p.requires_grad:
                p = p.data
            else:
                return (_ops.Log.apply(self) * p).exp()
        if isinstance(p, np.ndarray) and p.ndim == 0:
            p = p.item()
        if not isinstance(p, (int, float, np.integer, np.floating)):
            raise TypeError(f"pow: the exponent must be a number, got {type(p).__name__}")
        return _ops.Pow.apply(self, p=p)

    def __rpow__(self, base):
        """``c ** x`` for a constant positive base c: exp(x * ln c)."""
        b = np.asarray(base.data if isinstance(base, Value) else base, dtype=self.dtype)
        if np.any(b <= 0):
            raise ValueError(f"pow: base {base} must be positive for a Value exponent")
        return (self * np.log(b)).exp()

    def __neg__(self):
        return _scalar1(_Neg, self)

    def __matmul__(self, other):
        return _ops.MatMul.apply(self, other)

    def __rmatmul__(self, other):
        return _ops.MatMul.apply(other, self)

    def __getitem__(self, idx):
        return _ops.GetItem.apply(self, idx=_plain_index(idx))

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
        return _ops.Reshape.apply(self, shape=shape)

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _ops.Transpose.apply(self, axes=axes or None)

    @property
    def T(self):
        return _ops.Transpose.apply(self, axes=None)

    def flatten(self, start_dim=0):
        """Collapse the axes from ``start_dim`` on into one."""
        shape = self.shape
        return self.reshape(*shape[:start_dim], -1)

    def sum(self, axis=None, keepdims=False):
        return _ops.Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return _ops.Mean.apply(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        """Maximum over ``axis``; tied maxima share the gradient equally (like torch.amax)."""
        return _ops.Max.apply(self, axis=axis, keepdims=keepdims)

    def exp(self):
        return _scalar1(_Exp, self)

    def log(self):
        return _scalar1(_Log, self)

    def sqrt(self):
        return _ops.Sqrt.apply(self)

    def abs(self):
        return _ops.Abs.apply(self)

    def clip(self, lo=None, hi=None):
        return _ops.Clip.apply(self, lo=lo, hi=hi)

    def sigmoid(self):
        return _scalar1(_Sigmoid, self)

    def tanh(self):
        return _scalar1(_Tanh, self)

    def relu(self):
        return _scalar1(_ReLU, self)

    def leaky_relu(self, slope=0.01):
        return _ops.LeakyReLU.apply(self, slope=slope)

    def elu(self, alpha=1.0):
        return _ops.ELU.apply(self, alpha=alpha)


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


_new = object.__new__


def _leaf(data) -> Value:
    """A constant leaf (no grad) around data that is already a float or an ndarray."""
    v = _new(Value)
    v._data, v._grad, v.requires_grad, v.label, v._c, v._op, v._pass, v._id = (
        data, None, False, None, None, None, None, 0)
    return v


def _lift(x, like, cls=None) -> Value:
    """Turn an op's non-Value argument into a constant Value.

    A Python number takes the dtype of the op's Value ``like`` (float32 stays float32); arrays
    keep their own dtype, and numpy's promotion rules decide between arrays.
    """
    if isinstance(x, Value):
        return x
    if isinstance(x, (int, float, np.number)) and not isinstance(x, bool):
        # a Python float: numpy treats it as a weak scalar, so float32 stays float32
        return _leaf(_float(x))
    if type(x) is _ndarray and x.dtype.kind == "f" and x.ndim:
        return _leaf(x)  # a float array operand is used as it is, as numpy code would: no copy
    try:
        return Value(x, requires_grad=False)
    except TypeError as e:  # name the op, not Value: "+: operand ... must be numeric"
        if cls is None:
            raise
        msg = str(e).replace("Value: data must be numeric", "operand must be numeric", 1)
        raise TypeError(f"{cls.op}: {msg}") from None


def _apply(cls, *args, **kwargs):
    """Run ``cls.forward`` on the arguments and wrap the output in a Value (Function.apply)."""
    n = len(args)
    if n == 2:
        a0, a1 = args
        t1 = type(a1)
        if t1 is not Value:
            a1 = _leaf(_float(a1)) if t1 is _float or t1 is int else _lift(a1, a0, cls)
        if type(a0) is not Value:
            a0 = _lift(a0, a1, cls)
        vals = (a0, a1)
        needs = a0.requires_grad or a1.requires_grad
        d0 = a0._data
        d1 = a1._data
        if type(d0) is _float and type(d1) is _float and cls.sforward is not None:
            try:
                out, s0, s1 = cls.sforward(d0, d1, **kwargs) if kwargs else cls.sforward(d0, d1)
            except (OverflowError, ZeroDivisionError, ValueError):
                pass  # edge cases (inf, nan, poles) take the array path's numpy semantics
            else:
                return _scalar_node(cls, out, s0, s1, a0, a1, needs)
    elif n == 1:
        a0 = args[0]
        if type(a0) is not Value:
            a0 = _lift(a0, None, cls)
        vals = (a0,)
        needs = a0.requires_grad
        d0 = a0._data
        if type(d0) is _float and cls.sforward is not None:
            try:
                out, s0, s1 = cls.sforward(d0, **kwargs) if kwargs else cls.sforward(d0)
            except (OverflowError, ZeroDivisionError, ValueError):
                pass
            else:
                return _scalar_node(cls, out, s0, s1, a0, None, needs)
    else:
        like = next((a for a in args if isinstance(a, Value)), None)
        vals = tuple(a if type(a) is Value else _lift(a, like, cls) for a in args)
        needs = any(v.requires_grad for v in vals)
    ctx = cls()
    if n == 2 and type(d0) is not _float and (type(d1) is not _float or cls.scalar_ok):
        arrays = (d0, d1)  # the common case: arrays (and a float constant beside + - * /)
    elif n == 1 and type(d0) is not _float:
        arrays = (d0,)
    else:
        arrays = _arrays(cls, vals)
    try:
        out = cls.forward(ctx, *arrays, **kwargs) if kwargs else cls.forward(ctx, *arrays)
    except (ValueError, TypeError, IndexError) as e:
        raise _op_error(cls, e, arrays) from None
    if type(out) is not _ndarray:
        out = np.asarray(out)
    if out.ndim == 0 and out.dtype == _f64:
        out = _float(out)
    v = _new(Value)
    v._data = out
    v._grad = None
    v.label = None
    v._pass = None
    v._op = None
    v._id = _next_id()
    if needs and (_mode.special == 0 or _mode.enabled):
        v.requires_grad = True
        ctx.parents = vals
        ctx.kwargs = kwargs
        v._c = ctx
        if _mode.special and _mode.anomaly:
            from .anomaly import _check_forward

            _check_forward(ctx, v)
    else:
        v.requires_grad = False
        v._c = None
    return v


Function.apply = classmethod(_apply)


def _scalar_node(cls, out, s0, s1, a, b, needs):
    """The output Value of a scalar op: op class, inputs and saved numbers in its own slots."""
    v = _new(Value)
    v._data = out
    v._grad = None
    v.label = None
    v._pass = None
    v._c = None
    v._id = _next_id()
    if needs and (_mode.special == 0 or _mode.enabled):
        v.requires_grad = True
        v._op = cls
        v._p0 = a
        v._p1 = b
        v._s0 = s0
        v._s1 = s1
        if _mode.special and _mode.anomaly:
            from .anomaly import _check_forward

            _check_forward(v._ctx, v)
    else:
        v.requires_grad = False
        v._op = None
    return v


def _scalar_parents(v) -> tuple:
    """A scalar node's inputs, in order. A number constant, kept as a bare float by the
    scalar path, becomes a constant leaf Value here (once: the same Value every time)."""
    p0, p1 = v._p0, v._p1
    if type(p0) is _float:
        p0 = v._p0 = _leaf(p0)
    if p1 is None:
        return (p0,)
    if type(p1) is _float:
        p1 = v._p1 = _leaf(p1)
    return (p0, p1)


def _scalar_context(v):
    """Build the context of a scalar node on request (drawings, anomaly mode, input_grads).

    The saved numbers become numpy float64 scalars, so the op's array backward and
    local_grad give numpy's answers (inf rather than ZeroDivisionError at a pole).
    """
    cls = v._op
    ctx = cls()
    ctx.parents = _scalar_parents(v)
    for name, value in zip(cls.ssave, (v._s0, v._s1)):
        setattr(ctx, name, np.float64(value) if type(value) is _float else value)
    ctx.kwargs = {name: np.asarray(getattr(ctx, name)).item() for name in cls.skwargs}
    return ctx


def _arrays(cls, vals):
    """The inputs' data for ``forward``: ndarrays, and Python floats where that is safe.

    Ops marked ``scalar_ok`` (+ - * /) take a float next to an array as it is: numpy treats a
    Python float as a weak scalar (float32 stays float32) and it is the fastest operand. Other
    ops get 0-d arrays: a constant takes the dtype of the op's first float array input.
    """
    datas = [v._data for v in vals]
    floats = [type(d) is _float for d in datas]
    if not any(floats):
        return datas
    if cls.scalar_ok and not all(floats):
        return datas
    like = next((d.dtype for d in datas if type(d) is _ndarray and d.dtype.kind == "f"), _f64)
    return [np.array(d, dtype=_f64 if v.requires_grad else like) if f else d
            for d, v, f in zip(datas, vals, floats)]


def _scalar1(cls, a):
    """The fast path of a unary op, called by Value's methods: a float64 scalar runs on a
    Python float, an array on numpy; either way the output Value holds the op's state."""
    da = a._data
    if type(da) is _float:
        try:
            out, s0, s1 = cls.sforward(da)
        except (OverflowError, ZeroDivisionError, ValueError):
            return _apply(cls, a)
        return _scalar_node(cls, out, s0, s1, a, None, a.requires_grad)
    if type(da) is _ndarray and da.ndim:
        out, s0, s1 = cls.aforward(da)
        return _scalar_node(cls, out, s0, s1, a, None, a.requires_grad)
    return _apply(cls, a)


def _scalar2(cls, a, b, swap):
    """The fast path of a binary op on float64 scalars, called by Value's operators.

    ``a`` is the Value whose operator was called, ``b`` the other operand; ``swap`` for the
    reflected operators (``2 * x``). Anything else goes through the general ``_apply``.
    The hottest path of scalar graphs, so ``_scalar_node``'s few lines are written out here.
    """
    da = a._data
    if type(da) is _float:
        tb = type(b)
        if tb is Value:
            db = b._data
            needs = a.requires_grad or b.requires_grad
        elif tb is _float:
            db = b  # a constant stays a bare float until someone asks for parents
            needs = a.requires_grad
        elif tb is int:
            db = b = _float(b)
            needs = a.requires_grad
        else:
            db = None
        if type(db) is _float:
            if swap:
                a, b, da, db = b, a, db, da
            try:
                out, s0, s1 = cls.sforward(da, db)
            except (OverflowError, ZeroDivisionError, ValueError):
                return _apply(cls, a, b)
            v = _new(Value)
            v._data = out
            v._grad = None
            v.label = None
            v._pass = None
            v._c = None
            v._id = _next_id()
            if needs and (_mode.special == 0 or _mode.enabled):
                v.requires_grad = True
                v._op = cls
                v._p0 = a
                v._p1 = b
                v._s0 = s0
                v._s1 = s1
                if _mode.special and _mode.anomaly:
                    from .anomaly import _check_forward

                    _check_forward(v._ctx, v)
            else:
                v.requires_grad = False
                v._op = None
            return v
    elif type(da) is _ndarray and da.ndim:
        out = _array2(cls, a, b, swap)
        if out is not None:
            return out
    return _apply(cls, b, a) if swap else _apply(cls, a, b)


def _array2(cls, a, b, swap):
    """The fast path of a binary elementwise op whose Value ``a`` holds an array (not 0-d).

    The other operand is a Value holding an array or a Python number (kept as a bare float,
    numpy's weak scalar: float32 stays float32). Returns None where the general path must
    decide (other operands, errors: the general path names the op and the shapes).
    """
    tb = type(b)
    if tb is Value:
        db = b._data
        if type(db) is not _ndarray or not db.ndim:
            return None
    elif tb is _float or tb is int:
        db = b = _float(b)
    else:
        return None
    if swap:
        a, b, da, db = b, a, db, a._data
    else:
        da = a._data
    try:
        out, s0, s1 = cls.aforward(da, db)
    except (ValueError, TypeError):  # shapes that do not broadcast: the general path says so
        return None
    if type(out) is not _ndarray:
        return None
    needs = (type(a) is Value and a.requires_grad) or (type(b) is Value and b.requires_grad)
    return _scalar_node(cls, out, s0, s1, a, b, needs)


def _op_error(cls, e, arrays):
    msg = str(e)
    if msg.startswith(f"{cls.op}:"):
        return e
    shapes = ", ".join(str(a.shape) for a in arrays)
    msg = f"{cls.op}: {msg} (input shapes {shapes})"
    try:
        return type(e)(msg)
    except Exception:  # noqa: BLE001 - a subclass with another signature (numpy's UFuncTypeError)
        base = next(b for b in (IndexError, TypeError, ValueError) if isinstance(e, b))
        return base(msg)


_by_id = attrgetter("_id")


def backward_order(root: Value) -> list:
    """Every Value that requires grad and that ``root`` depends on, inputs before outputs.

    An iterative walk (explicit stack, any depth) collects them; sorting by creation order
    then gives a topological order, since a Value is always created after its inputs.
    """
    if not root.requires_grad:
        return []
    seen = {root}
    nodes = [root]
    stack = [root]
    pop = stack.pop
    push = stack.append
    keep = nodes.append
    add = seen.add
    while stack:
        node = pop()
        if node._op is not None:  # a scalar node: inputs in slots (a bare float is a constant)
            p = node._p0
            if type(p) is Value and p.requires_grad and p not in seen:
                add(p)
                keep(p)
                push(p)
            p = node._p1
            if type(p) is Value and p.requires_grad and p not in seen:
                add(p)
                keep(p)
                push(p)
        else:
            ctx = node._c
            if ctx is not None:
                for p in ctx.parents:
                    if p.requires_grad and p not in seen:
                        add(p)
                        keep(p)
                        push(p)
    nodes.sort(key=_by_id)
    return nodes


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
        raise ValueError(f"backward: grad of shape {g.shape} does not match the output's shape {root.shape}")
    return _float(g) if type(d) is _float else g


def _backward(root: Value, grad):
    if not root.requires_grad:
        raise RuntimeError(
            "backward: this Value does not require grad (it was made under no_grad, from "
            "constants only, or by detach())")
    seed = _seed(root, grad)
    order = backward_order(root)
    anomaly = _mode.special and _mode.anomaly
    root._pass = seed
    for node in reversed(order):
        g = node._pass
        node._pass = None
        if g is None:
            continue
        old = node._grad
        op = node._op
        if op is not None and type(node._data) is _ndarray:  # an array node with slots
            if old is None:
                if not g.flags.writeable:
                    g = g.copy()  # a broadcast view: .grad must be an array users can change
                node._grad = g
            else:
                node._grad = np.asarray(old + g, dtype=node.dtype)
            grads = op.abackward(node, g)
            if anomaly:
                _check_backward(node._ctx, node, grads)
            p = node._p0
            pg = grads[0]
            if pg is not None and type(p) is Value and p.requires_grad:
                pd = p._data
                # the common case inline: the input's shape and dtype, first arrival
                if (p._pass is None and type(pd) is _ndarray and pg.shape == pd.shape
                        and pg.dtype == pd.dtype):
                    p._pass = pg
                else:
                    _send(p, pg, op)
            p = node._p1
            if p is not None:
                pg = grads[1]
                if pg is not None and type(p) is Value and p.requires_grad:
                    pd = p._data
                    if (p._pass is None and type(pd) is _ndarray and pg.shape == pd.shape
                            and pg.dtype == pd.dtype):
                        p._pass = pg
                    else:
                        _send(p, pg, op)
            continue
        if op is not None:  # a scalar node: Python floats all the way
            if type(g) is not _float:
                g = _float(g)
            node._grad = g if old is None else (old + g if type(old) is _float
                                                else np.asarray(old + g, dtype=node.dtype))
            grads = op.sbackward(node, g)
            if anomaly:
                _check_backward(node._ctx, node, grads)
            p = node._p0
            if type(p) is Value and p.requires_grad:
                pg = grads[0]
                if type(pg) is _float and type(p._data) is _float:
                    prev = p._pass
                    p._pass = pg if prev is None else prev + pg
                else:
                    _send(p, pg, op)
            p = node._p1
            if type(p) is Value and p.requires_grad:
                pg = grads[1]
                if type(pg) is _float and type(p._data) is _float:
                    prev = p._pass
                    p._pass = pg if prev is None else prev + pg
                else:
                    _send(p, pg, op)
            continue
        ctx = node._c
        if type(g) is _float:
            node._grad = g if old is None else (old + g if type(old) is _float
                                                else np.asarray(old + g, dtype=node.dtype))
            if ctx is None:
                continue
            g = np.array(g)
        else:
            if old is None:
                if not g.flags.writeable:
                    g = g.copy()  # a broadcast view: .grad must be an array users can change
                node._grad = g
            else:
                node._grad = np.asarray(old + g, dtype=node.dtype)
            if ctx is None:
                continue
        grads = ctx.backward(ctx, g)
        if type(grads) is not tuple:
            grads = (grads,)
        if anomaly:
            _check_backward(ctx, node, grads)
        for p, pg in zip(ctx.parents, grads):
            if pg is not None and p.requires_grad:
                pd = p._data
                # the common case inline: an array of the input's shape and dtype, first arrival
                if (p._pass is None and type(pg) is _ndarray and type(pd) is _ndarray
                        and pg.shape == pd.shape and pg.dtype == pd.dtype):
                    p._pass = pg
                else:
                    _send(p, pg, ctx)


def _send(p, pg, ctx):
    """Add gradient pg to p's pending gradient, summed back to p's shape and dtype.

    ``ctx`` (a context or an op class) only names the op in errors."""
    pd = p._data
    if type(pd) is _float:
        if type(pg) is not _float:
            pg = np.asarray(pg)
            pg = _float(pg.sum() if pg.ndim else pg)
    else:
        if type(pg) is not _ndarray:
            pg = np.asarray(pg, dtype=pd.dtype)
        if pg.shape != pd.shape:
            pg = unbroadcast(pg, pd.shape, ctx.op)
        if pg.dtype != pd.dtype:
            pg = pg.astype(pd.dtype)
    prev = p._pass
    if prev is None:
        p._pass = pg
    elif type(prev) is _float and type(pg) is not _float:
        p._pass = pg + prev
    else:
        p._pass = prev + pg


def _check_backward(ctx, node, grads):
    from .anomaly import _check_backward as check

    check(ctx, node, grads)


from . import ops as _ops  # noqa: E402  (the ops need Value defined first)
from .ops import (  # noqa: E402  (module globals: one lookup on the hot path)
    Add as _Add, Div as _Div, Exp as _Exp, Log as _Log, Mul as _Mul, Neg as _Neg,
    ReLU as _ReLU, Sigmoid as _Sigmoid, Sub as _Sub, Tanh as _Tanh)
