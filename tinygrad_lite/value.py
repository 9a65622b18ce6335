"""Value, one class for scalars and tensors, and ``apply``, which runs an op and records it.

    x = Value(2.0, label="x")
    y = x * 3        # Value.__mul__ -> apply(Mul, x, 3) -> Mul.forward(ctx, 2.0, 3.0)
    y.backward()     # tinygrad_lite/backward.py
    x.grad           # array(3.)

A Value's attributes:
    data           an ndarray (0-d for a scalar)
    grad           None until a backward pass reaches the Value, then an array like data
    requires_grad  whether gradients flow into it
    label          a name for reprs and drawings, or None
    ctx            the op that made it (an instance of the op's Function class, holding the
                   inputs in ``ctx.parents`` and what forward saved); None for a leaf

One speed-up stays: a float64 scalar is kept as a Python float, and an elementwise op whose
inputs are all floats runs with ``ctx.xp = floatmath`` (Python's math), as micrograd does;
``data`` and ``grad`` give a 0-d array when read, so it never shows.
"""
from __future__ import annotations

import numpy as np

from . import anomaly, backward, errors, hooks, interop, ops, versions
from .floatmath import floatmath
from .grad_mode import mode

__all__ = ["Value", "apply"]


class Value:
    """A node of the graph: a number or an array, with its gradient.

    Value(data, requires_grad=True, label=None, dtype=None, *, copy=True)

    ``data``: a number, nested list or ndarray. Python numbers, integer and bool arrays become
    float64 unless ``dtype`` says otherwise; float arrays keep their dtype, and are copied
    unless ``copy=False`` (as ops do with their results).
    """

    __slots__ = ("_data", "_grad", "requires_grad", "label", "ctx", "__weakref__")

    def __init__(self, data, requires_grad=True, label=None, dtype=None, *, copy=True):
        if type(data) is not float or dtype is not None:  # (a Python float is kept as it is)
            data = interop.storage(data, dtype, copy)  # an ndarray, or a float for float64 0-d
        self._data = data  # a Python float (a float64 scalar) or an ndarray
        self._grad = None  # likewise, or None
        self.requires_grad = bool(requires_grad)
        self.label = label
        self.ctx = None  # set by apply() on an op's output

    # -- data and grad ---------------------------------------------------------------------
    @property
    def data(self) -> np.ndarray:
        if type(self._data) is float:
            self._data = np.array(self._data)
        return self._data

    @data.setter
    def data(self, value):
        if isinstance(value, Value):
            value = value.data
        keep = isinstance(value, np.ndarray) and value.dtype.kind == "f"  # no copy, any dtype
        self._data = interop.storage(value, None if keep else self.dtype, copy=False)
        versions.mark_changed(self)  # a backward through ops that saved the old data raises

    @property
    def grad(self):
        if self._grad is not None and type(self._grad) is not np.ndarray:
            self._grad = np.array(self._grad)  # a Python float, from the scalar path
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            value = np.array(value, dtype=self.dtype)
            if value.shape != self.shape:
                raise ValueError(f"grad of shape {value.shape} for a Value of shape {self.shape}")
        self._grad = value
        if mode.tape is not None:
            mode.tape.grad_reset(self)

    def zero_grad(self, set_to_none=True):
        """Forget the gradient: None (PyTorch's default), or zeros with set_to_none=False."""
        self.grad = None if set_to_none else np.zeros(self.shape, self.dtype)

    @property
    def shape(self) -> tuple:
        return () if type(self._data) is float else self._data.shape

    @property
    def ndim(self) -> int:
        return 0 if type(self._data) is float else self._data.ndim

    @property
    def size(self) -> int:
        return 1 if type(self._data) is float else self._data.size

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.float64) if type(self._data) is float else self._data.dtype

    # -- the graph -------------------------------------------------------------------------
    @property
    def op(self) -> str:
        """The op that made this Value ("tanh", "+", ...), "" for a leaf."""
        return "" if self.ctx is None else self.ctx.op

    @property
    def parents(self) -> tuple:
        """The input Values of the op that made this Value, in order (() for a leaf)."""
        return () if self.ctx is None else self.ctx.parents

    @property
    def is_leaf(self) -> bool:
        return self.ctx is None

    @property
    def grad_fn(self):
        """PyTorch's name for ``ctx``."""
        return self.ctx

    def named(self, label: str) -> Value:
        """Set the label shown in reprs and drawings and return this same Value."""
        self.label = label
        return self

    def register_hook(self, fn) -> hooks.RemovableHandle:
        """Call ``fn(grad)`` when this Value's gradient is complete in a backward pass; an
        array it returns replaces the gradient. Returns a handle with ``remove()``."""
        return hooks.register(self, fn)

    def backward(self, grad=None, retain_graph=False):
        """Backpropagate from this Value into every Value it depends on.

        A one-element output is seeded with 1.0; any other needs ``grad`` of its shape.
        Gradients are added to ``.grad`` (interior nodes included). Each op's backward runs
        once: pass ``retain_graph=True`` to backpropagate through the same graph again.
        """
        backward.backward(self, grad, retain_graph)

    def detach(self) -> Value:
        """A new leaf sharing this Value's data, cut from the graph (requires_grad=False)."""
        return Value(self._data, requires_grad=False, label=self.label, copy=False)

    def numpy(self) -> np.ndarray:
        """The data as an ndarray (shared, not copied)."""
        return self.data

    item = interop.item
    __float__ = interop.to_float
    __int__ = interop.to_int
    __format__ = interop.to_format
    __repr__ = interop.describe
    __array__ = interop.array
    __array_ufunc__ = interop.array_ufunc
    __array_function__ = interop.array_function
    __hash__ = object.__hash__  # == keeps identity, so Values can key dicts and sets

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d Value")
        return self.shape[0]

    # -- operators: each runs one op -------------------------------------------------------
    def __add__(self, other):
        return apply(ops.Add, self, other)

    def __radd__(self, other):
        return apply(ops.Add, other, self)

    def __sub__(self, other):
        return apply(ops.Sub, self, other)

    def __rsub__(self, other):
        return apply(ops.Sub, other, self)

    def __mul__(self, other):
        return apply(ops.Mul, self, other)

    def __rmul__(self, other):
        return apply(ops.Mul, other, self)

    def __truediv__(self, other):
        return apply(ops.Div, self, other)

    def __rtruediv__(self, other):
        return apply(ops.Div, other, self)

    def __neg__(self):
        return apply(ops.Neg, self)

    def __abs__(self):
        return apply(ops.Abs, self)

    def __matmul__(self, other):
        return apply(ops.MatMul, self, other)

    def __rmatmul__(self, other):
        return apply(ops.MatMul, other, self)

    def __pow__(self, p):
        if isinstance(p, Value) and p.requires_grad:
            return (self.log() * p).exp()  # x ** p = exp(p ln x): a gradient for p too
        p = p.data if isinstance(p, Value) else p
        if isinstance(p, np.ndarray) and p.ndim == 0:
            p = p.item()
        if not isinstance(p, (int, float, np.integer, np.floating)):
            raise TypeError(f"pow: the exponent must be a number, got {type(p).__name__}")
        return apply(ops.Pow, self, p=p)

    def __rpow__(self, base):
        """``c ** x`` for a constant positive base c: exp(x * ln c)."""
        b = np.asarray(base.data if isinstance(base, Value) else base, dtype=self.dtype)
        if np.any(b <= 0):
            raise ValueError(f"pow: base {base} must be positive for a Value exponent")
        return (self * np.log(b)).exp()

    def __getitem__(self, idx):
        return apply(ops.GetItem, self, idx=interop.plain_index(idx))

    # comparisons give boolean arrays (no gradient)
    __lt__, __le__, __gt__, __ge__ = interop.lt, interop.le, interop.gt, interop.ge

    # -- methods: each runs one op ---------------------------------------------------------
    def exp(self):
        return apply(ops.Exp, self)

    def log(self):
        return apply(ops.Log, self)

    def sqrt(self):
        return apply(ops.Sqrt, self)

    def abs(self):
        return apply(ops.Abs, self)

    def clip(self, lo=None, hi=None):
        return apply(ops.Clip, self, lo=lo, hi=hi)

    def sigmoid(self):
        return apply(ops.Sigmoid, self)

    def tanh(self):
        return apply(ops.Tanh, self)

    def relu(self):
        return apply(ops.ReLU, self)

    def leaky_relu(self, slope=0.01):
        return apply(ops.LeakyReLU, self, slope=slope)

    def elu(self, alpha=1.0):
        return apply(ops.ELU, self, alpha=alpha)

    def sum(self, axis=None, keepdims=False):
        return apply(ops.Sum, self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return apply(ops.Mean, self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        """Maximum over ``axis``; tied maxima share the gradient equally (like torch.amax)."""
        return apply(ops.Max, self, axis=axis, keepdims=keepdims)

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return apply(ops.Reshape, self, shape=shape)

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return apply(ops.Transpose, self, axes=axes or None)

    @property
    def T(self):
        return apply(ops.Transpose, self, axes=None)

    def flatten(self, start_dim=0):
        """Collapse the axes from ``start_dim`` on into one."""
        return self.reshape(*self.shape[:start_dim], -1)


def apply(op, *args, **kwargs):
    """Run ``op`` (a Function subclass) on ``args`` and return its output Value.

    Makes ``ctx``, an instance of ``op``, runs ``op.forward(ctx, *data of the inputs)`` and
    keeps ``ctx`` on the output, so that backward can call ``op.backward(ctx, grad)``.
    Arguments that are not Values (numbers, arrays) become constant leaves.
    """
    ctx = op()
    ctx.parents = tuple([a if isinstance(a, Value) else interop.lift(a, op, Value) for a in args])
    ctx.kwargs = kwargs
    ctx.needs_input_grad = tuple([p.requires_grad for p in ctx.parents])
    ctx.stamp, ctx.released = versions.clock, False
    inputs = [p._data for p in ctx.parents]
    if op.elementwise and all([type(x) is float for x in inputs]):
        ctx.xp = floatmath  # Python floats: Python's math, as micrograd
    else:
        ctx.xp = np
        inputs = inputs if op.elementwise else interop.as_arrays(inputs, ctx.parents)
    try:
        result = op.forward(ctx, *inputs, **kwargs)
    except (ArithmeticError, ValueError, TypeError, IndexError) as e:
        result = errors.forward_failed(op, ctx, inputs, kwargs, e)
    out = Value(result, any(ctx.needs_input_grad) and mode.grad_enabled, copy=False)
    if out.requires_grad:
        out.ctx = ctx
    if mode.anomaly:
        anomaly.check_forward(ctx, out)
    if mode.tape is not None:  # tinygrad_lite.jit is recording
        mode.tape.op(ctx, out)
    return out
