"""How a Value meets numpy and Python's number protocols: ``np.asarray(v)``, ``ndarray * v``,
``np.exp(v)``, ``np.sum(v)``, ``float(v)``, ``int(v)``, ``format(v, ".3f")``. Value's methods
of those names are the functions here, so the engine's files stay about the graph."""
from __future__ import annotations

import operator

import numpy as np

from . import ops

_UFUNCS = {
    "add": ops.Add, "subtract": ops.Sub, "multiply": ops.Mul, "true_divide": ops.Div,
    "divide": ops.Div, "matmul": ops.MatMul, "negative": ops.Neg, "exp": ops.Exp,
    "log": ops.Log, "sqrt": ops.Sqrt, "absolute": ops.Abs, "tanh": ops.Tanh,
}
_METHOD_HINT = {"maximum": "v.relu() or v.clip(lo=...)", "minimum": "v.clip(hi=...)",
                "power": "v ** p", "sign": "v.data for the signs (no gradient)"}
_FUNCTIONS = {"sum": "sum", "mean": "mean", "max": "max", "amax": "max", "exp": "exp",
              "log": "log", "sqrt": "sqrt", "abs": "abs", "tanh": "tanh",
              "reshape": "reshape", "transpose": "transpose", "clip": "clip"}


def array(v, dtype=None, copy=None):
    """``np.asarray(v)``: the data of a Value that needs no gradient; for one that does, a
    TypeError (as PyTorch), since numpy would silently cut the graph."""
    if v.requires_grad:
        raise TypeError(
            "np.asarray() of a Value that requires grad would cut it from the graph; use "
            "v.data (or v.numpy()) for the numbers, v.detach() for a constant Value, or "
            "the Value's own methods (v.exp(), v.sum(), ...) to keep the gradient")
    d = v.data
    if dtype is not None and d.dtype != dtype:
        return d.astype(dtype)
    return d.copy() if copy else d


def array_ufunc(v, ufunc, method, *inputs, **kwargs):
    """``ndarray * v`` and ``np.exp(v)``: run the matching op, keeping the graph."""
    op = _UFUNCS.get(ufunc.__name__) if method == "__call__" and not kwargs else None
    if op is None:
        name = _METHOD_HINT.get(ufunc.__name__)
        hint = f"use {name}" if name else "use v.data for the numbers (no gradient)"
        raise TypeError(f"np.{ufunc.__name__} on a Value is not supported: {hint}")
    return op.apply(*inputs)


def array_function(v, func, types, args, kwargs):
    """``np.mean(v)``, ``np.sum(v)`` ...: the Value's method where one exists."""
    name = func.__name__
    method = _FUNCTIONS.get(name)
    if method is not None and args and args[0] is v and len(args) == 1:
        return getattr(v, method)(**kwargs)
    hint = f"v.{method}()" if method else "v.data for the numbers (no gradient)"
    raise TypeError(f"np.{name} on a Value is not supported: use {hint}")


def item(v) -> float:
    """The one number of a one-element Value, as a Python number."""
    d = v._data
    if type(d) is float:
        return d
    if d.size != 1:
        raise ValueError(f"item: only a one-element Value converts to a number, not shape "
                         f"{d.shape}")
    return d.item()


def one(v, who):
    if v.size != 1:
        raise TypeError(f"{who}(): only a one-element Value converts to a number, not shape "
                        f"{v.shape}; use .data for the array")
    return item(v)


def to_float(v) -> float:
    return float(one(v, "float"))


def to_int(v) -> int:
    return int(one(v, "int"))


def to_format(v, spec) -> str:
    return repr(v) if not spec else format(one(v, "format"), spec)


def plain_index(idx):
    """Indices made of Values become their arrays; lists become integer or bool arrays."""
    if hasattr(idx, "requires_grad"):  # a Value
        return idx.data.astype(np.int64) if idx.dtype.kind == "f" else idx.data
    if isinstance(idx, list):
        return np.asarray(idx)
    if isinstance(idx, tuple):
        return tuple(plain_index(i) for i in idx)
    return idx


def describe(v) -> str:
    """``repr(v)``: label, op, value or shape and mean, and gradient."""
    parts = []
    if v.label is not None:
        parts.append(f"label={v.label!r}")
    if v.ctx is not None:
        parts.append(f"op={v.op!r}")
    d, g = v._data, v._grad
    if v.ndim == 0:
        parts.append(f"data={float(d):.6g}")
        parts.append("grad=None" if g is None else f"grad={float(g):.6g}")
    else:
        parts.append(f"shape={v.shape}")
        parts.append(f"dtype={v.dtype}")
        if d.size:
            parts.append(f"mean={float(d.mean()):.4g}")
        parts.append("grad=None" if g is None else f"grad_norm={float(np.linalg.norm(g)):.4g}")
    if not v.requires_grad:
        parts.append("requires_grad=False")
    return f"Value({', '.join(parts)})"


# -- conversions ------------------------------------------------------------------------------
def storage(data, dtype=None, copy=True):
    """How a Value keeps ``data``: a Python float for a float64 scalar, else an ndarray.
    Python numbers and integer or bool arrays become float64 unless ``dtype`` says otherwise."""
    if type(data) is float and dtype is None:
        return data
    if type(data) is np.ndarray and dtype is None and not copy and data.ndim and (
            data.dtype.kind == "f"):
        return data  # an op's float array result: kept as it is
    if hasattr(data, "requires_grad"):
        data = data.data
    try:
        arr = np.array(data, dtype=dtype, copy=copy or None)
    except (TypeError, ValueError) as e:
        raise TypeError(f"Value: data must be numeric, got {type(data).__name__} ({e})") from None
    if dtype is None and arr.dtype.kind in "iub":
        arr = arr.astype(np.float64)
    elif arr.dtype.kind not in "fiub":
        raise TypeError(f"Value: data must be numeric, got dtype {arr.dtype} from "
                        f"{type(data).__name__}")
    return float(arr) if arr.ndim == 0 and arr.dtype == np.float64 else arr


def lift(x, op, value_class):
    """An op's argument that is not a Value (a number or an array), as a constant leaf of
    ``value_class`` (Value; passed in, since value.py imports this module). A float array is
    used as it is, not copied, as numpy code would."""
    try:
        return value_class(x, requires_grad=False, copy=False)
    except TypeError as e:
        raise TypeError(f"{op.op}: {e}".replace("Value: data", "operand", 1)) from None


def as_arrays(inputs, parents):
    """A non-elementwise op's inputs as arrays: a float64 scalar kept as a Python float becomes a
    0-d array, float64 for a Value that requires grad, and of the arrays' float dtype for a
    constant (so that a number beside float32 arrays keeps them float32)."""
    like = next((x.dtype for x in inputs if type(x) is np.ndarray and x.dtype.kind == "f"),
                np.float64)
    return [np.array(x, dtype=np.float64 if p.requires_grad else like) if type(x) is float
            else x for x, p in zip(inputs, parents, strict=True)]



def _compare(op):
    def compare(v, other):
        return op(v.data, getattr(other, "data", other))

    compare.__name__ = op.__name__
    return compare


lt, le, gt, ge = (_compare(f) for f in (operator.lt, operator.le, operator.gt, operator.ge))
