"""Weight initialisation: plain numpy arrays with the scale each recipe prescribes.

Weights in tinygrad_lite are stored ``(in_features, out_features)`` and used as ``x @ W``;
conv weights are ``(F, C, kh, kw)``. Every function takes the shape (an int or a tuple), an
optional ``rng`` (a ``numpy.random.Generator``, an int seed, or None for fresh entropy) and a
keyword-only ``dtype`` (float64 by default), and returns a new ndarray.

    xavier  std = 1 / sqrt(fan_in)                the lecture's form (CS231n, lecture 6)
    glorot  std = sqrt(2 / (fan_in + fan_out))    PyTorch's ``xavier_normal_``
    he      std = sqrt(2 / fan_in)                for ReLU networks (``kaiming_normal_``)
    normal  std = 0.01 by default                 the "small random numbers" of the lecture
    zeros                                         for biases

Depends on numpy only; nothing runs at import time.
"""
from __future__ import annotations

import math
import operator

import numpy as np

__all__ = ["fans", "zeros", "normal", "xavier", "glorot", "he", "get", "NAMES"]


def _shape_tuple(shape, fn_name):
    """Normalise an int or a sequence of ints to a tuple of positive ints, or raise naming
    fn_name."""
    try:
        dims = (operator.index(shape),)
    except TypeError:
        try:
            dims = tuple(shape)
        except TypeError:
            raise TypeError(
                f"{fn_name}: shape must be an int or a tuple of ints, got {shape!r}"
            ) from None
    out = []
    for d in dims:
        if isinstance(d, (bool, np.bool_)):
            raise TypeError(f"{fn_name}: shape entries must be ints, got {shape!r}")
        try:
            out.append(operator.index(d))
        except TypeError:
            raise TypeError(
                f"{fn_name}: shape entries must be ints, got {type(d).__name__} in shape {shape!r}"
            ) from None
    out = tuple(out)
    if any(d <= 0 for d in out):
        raise ValueError(
            f"{fn_name}: shape {out} has a zero or negative entry; every dimension must be >= 1"
        )
    return out


def _make_rng(rng, fn_name):
    """A numpy Generator from None (fresh entropy), an int seed, or a Generator."""
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, (bool, np.bool_)):
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"{fn_name}: rng must be a numpy.random.Generator, an int seed or None, "
        f"got {type(rng).__name__}"
    )


def _float_dtype(dtype, fn_name):
    dt = np.dtype(dtype)
    if not np.issubdtype(dt, np.floating):
        raise TypeError(f"{fn_name}: dtype must be a float dtype, got {dt}")
    return dt


def fans(shape):
    """Fan-in and fan-out of a weight of this shape.

    1-D (n,): fan_in = fan_out = n.
    2-D (in, out), used as x @ W: fan_in = in, fan_out = out.
    k-D (F, C, *kernel), a conv weight: fan_in = C * prod(kernel), fan_out = F * prod(kernel).
    Shapes: shape an int or a tuple of positive ints -> (fan_in, fan_out) ints.

    Note the 2-D case follows tinygrad_lite's (in, out) storage, which is the transpose of
    PyTorch's nn.Linear weight (out, in); the conv case matches PyTorch.
    """
    dims = _shape_tuple(shape, "fans")
    if len(dims) == 1:
        return dims[0], dims[0]
    if len(dims) == 2:
        return dims[0], dims[1]
    receptive = math.prod(dims[2:])
    return dims[1] * receptive, dims[0] * receptive


def _gaussian(shape, std, rng, dtype, fn_name):
    dims = _shape_tuple(shape, fn_name)
    dt = _float_dtype(dtype, fn_name)
    gen = _make_rng(rng, fn_name)
    # draw in float64 so a seed gives the same numbers whatever dtype is asked for
    return (gen.standard_normal(dims) * std).astype(dt, copy=False)


def zeros(shape, *, dtype=np.float64):
    """All zeros, for biases.

    W = 0
    Shapes: shape -> ndarray of that shape.
    """
    dims = _shape_tuple(shape, "zeros")
    return np.zeros(dims, dtype=_float_dtype(dtype, "zeros"))


def normal(shape, std=0.01, rng=None, *, dtype=np.float64):
    """Small random numbers: a zero-mean gaussian with a fixed std.

    W ~ N(0, std^2), std = 0.01 by default
    Shapes: shape -> ndarray of that shape.
    """
    std = float(std)
    if not (std >= 0.0 and math.isfinite(std)):
        raise ValueError(f"normal: std must be finite and >= 0, got {std}")
    return _gaussian(shape, std, rng, dtype, "normal")


def xavier(shape, rng=None, *, dtype=np.float64):
    """Xavier initialisation in the lecture's form (keeps activation variance for tanh).

    W ~ N(0, 1/fan_in), i.e. randn(fan_in, fan_out) / sqrt(fan_in)
    Shapes: shape -> ndarray of that shape; fan_in as in fans(shape).
    """
    fan_in, _ = fans(_shape_tuple(shape, "xavier"))
    return _gaussian(shape, 1.0 / math.sqrt(fan_in), rng, dtype, "xavier")


def glorot(shape, rng=None, *, dtype=np.float64):
    """Glorot (Xavier) normal initialisation as in PyTorch's xavier_normal_ (gain 1).

    W ~ N(0, 2/(fan_in + fan_out))
    Shapes: shape -> ndarray of that shape; fans as in fans(shape).
    """
    fan_in, fan_out = fans(_shape_tuple(shape, "glorot"))
    return _gaussian(shape, math.sqrt(2.0 / (fan_in + fan_out)), rng, dtype, "glorot")


def he(shape, rng=None, *, dtype=np.float64):
    """He (Kaiming) normal initialisation for ReLU networks: the ReLU halves the variance.

    W ~ N(0, 2/fan_in)
    Shapes: shape -> ndarray of that shape; fan_in as in fans(shape).
    """
    fan_in, _ = fans(_shape_tuple(shape, "he"))
    return _gaussian(shape, math.sqrt(2.0 / fan_in), rng, dtype, "he")


_BY_NAME = {"xavier": xavier, "glorot": glorot, "he": he, "normal": normal, "zeros": zeros}
NAMES = tuple(_BY_NAME)


def _zeros_with_rng(shape, rng=None, *, dtype=np.float64):
    """All zeros; accepts and ignores rng so every entry of get() is called the same way.

    W = 0
    Shapes: shape -> ndarray of that shape.
    """
    return zeros(shape, dtype=dtype)


def get(name_or_callable):
    """The init function for a name, or a user's callable unchanged.

    "xavier" | "glorot" | "he" | "normal" | "zeros" -> a function called as f(shape, rng=rng);
    a callable is returned as is and will be called as init(shape, rng=rng).
    Names are matched case-insensitively.
    """
    if isinstance(name_or_callable, str):
        key = name_or_callable.strip().lower()
        if key == "zeros":
            return _zeros_with_rng
        if key in _BY_NAME:
            return _BY_NAME[key]
        raise ValueError(
            f"init.get: unknown initialisation {name_or_callable!r}; valid names are "
            + ", ".join(repr(n) for n in NAMES)
            + ", or a callable called as init(shape, rng=rng)"
        )
    if callable(name_or_callable):
        return name_or_callable
    raise ValueError(
        f"init.get: expected a name or a callable, got {type(name_or_callable).__name__}; "
        "valid names are " + ", ".join(repr(n) for n in NAMES)
    )
