"""Reductions: sum, mean, max over an axis (an int, a tuple, or None for all)."""
import numpy as np

from ..function import Function


def _norm_axis(axis, ndim, op):
    """Axis as a sorted tuple of non-negative ints (None: every axis)."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < max(ndim, 1) or (ndim == 0 and a not in (0, -1)):
            raise ValueError(f"{op}: axis {a} is out of range for an array of {ndim} dimensions")
        out.append(int(a) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in {axis}")
    return tuple(sorted(out)) if ndim else ()


def _expand(g, in_shape, axes, keepdims):
    """Give the reduced gradient back its reduced axes (size 1) so it broadcasts to in_shape."""
    if not keepdims and axes:
        g = np.expand_dims(g, axes)
    return g


class Sum(Function):
    """Sum over axis. Backward: the upstream gradient copied to every summed element."""

    __slots__ = ("shape", "axes", "keepdims")

    op = "sum"
    vjp = ("broadcast grad back over the summed axes",)

    @staticmethod
    def forward(ctx, x, *, axis=None, keepdims=False):
        axes = _norm_axis(axis, x.ndim, "sum")
        ctx.shape, ctx.axes, ctx.keepdims = x.shape, axes, keepdims
        return x.sum(axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, g):
        return np.broadcast_to(_expand(g, ctx.shape, ctx.axes, ctx.keepdims), ctx.shape)


class Mean(Function):
    """Mean over axis. Backward: grad / n copied to every averaged element."""

    __slots__ = ("shape", "axes", "keepdims", "n")

    op = "mean"
    vjp = ("broadcast grad / n back over the averaged axes",)

    @staticmethod
    def forward(ctx, x, *, axis=None, keepdims=False):
        axes = _norm_axis(axis, x.ndim, "mean")
        n = 1
        for a in axes:
            n *= x.shape[a]
        if n == 0:
            raise ValueError(f"mean: empty reduction over axis {axis} of shape {x.shape}")
        ctx.shape, ctx.axes, ctx.keepdims, ctx.n = x.shape, axes, keepdims, n
        return x.mean(axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, g):
        g = _expand(g, ctx.shape, ctx.axes, ctx.keepdims) * (1.0 / ctx.n)
        return np.broadcast_to(g, ctx.shape)


class Max(Function):
    """Maximum over axis. Backward: the gradient goes to the maximal elements; tied maxima
    share it equally (like torch.amax), so the gradient still sums to the upstream one."""

    __slots__ = ("x", "out_k", "axes", "keepdims")

    op = "max"
    vjp = ("grad routed to the argmax (ties share it equally)",)

    @staticmethod
    def forward(ctx, x, *, axis=None, keepdims=False):
        axes = _norm_axis(axis, x.ndim, "max")
        if x.size == 0:
            raise ValueError(f"max: empty array of shape {x.shape}")
        out = x.max(axis=axes, keepdims=True)
        ctx.x, ctx.out_k, ctx.axes, ctx.keepdims = x, out, axes, keepdims
        return out if keepdims or not axes else out.squeeze(axis=axes)

    @staticmethod
    def backward(ctx, g):
        mask = ctx.x == ctx.out_k
        count = mask.sum(axis=ctx.axes, keepdims=True)
        g = _expand(g, ctx.x.shape, ctx.axes, ctx.keepdims)
        return mask * (g / count)
