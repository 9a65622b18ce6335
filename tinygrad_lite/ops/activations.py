"""Activation functions: sigmoid, tanh, ReLU, leaky ReLU, ELU, PReLU, maxout.

Derivatives at the kink follow PyTorch (libraries disagree, so we say it):
relu'(0) = 0, leaky_relu'(0) = slope, prelu'(0) = alpha, elu'(0) = alpha (1 for the default
alpha = 1). Sigmoid and tanh are computed without overflow for any |x|.
"""
import math

import numpy as np

from ..function import Function


def _sigmoid(x):
    """1 / (1 + exp(-x)) without overflow: exp is only ever taken of -|x|."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


class Sigmoid(Function):
    """s = 1 / (1 + exp(-x)). ds/dx = s (1 - s): at most 0.25, vanishing for large |x|."""

    __slots__ = ("out",)

    op = "sigmoid"

    @staticmethod
    def forward(ctx, x):
        out = _sigmoid(x)
        ctx.out = out
        return out

    @staticmethod
    def backward(ctx, g):
        s = ctx.out
        return g * (s * (1.0 - s))

    ssave = ("out",)

    @staticmethod
    def sforward(x):
        if x >= 0:
            out = 1.0 / (1.0 + math.exp(-x))
        else:
            e = math.exp(x)
            out = e / (1.0 + e)
        return out, out, None

    @staticmethod
    def sbackward(node, g):
        s = node._s0
        return (g * s * (1.0 - s),)

    @staticmethod
    def aforward(x):
        out = _sigmoid(x)
        return out, out, None

    @staticmethod
    def abackward(node, g):
        s = node._s0
        return (g * (s * (1.0 - s)),)

    def local_grad(self, i):
        s = np.asarray(self.out)
        return s * (1.0 - s)


class Tanh(Function):
    """t = tanh(x). dt/dx = 1 - t**2: 1 at 0, vanishing for large |x|."""

    __slots__ = ("out",)

    op = "tanh"

    @staticmethod
    def forward(ctx, x):
        out = np.tanh(x)
        ctx.out = out
        return out

    @staticmethod
    def backward(ctx, g):
        t = ctx.out
        return g * (1.0 - t * t)

    ssave = ("out",)

    @staticmethod
    def sforward(x):
        out = math.tanh(x)
        return out, out, None

    @staticmethod
    def sbackward(node, g):
        t = node._s0
        return (g * (1.0 - t * t),)

    @staticmethod
    def aforward(x):
        out = np.tanh(x)
        return out, out, None

    @staticmethod
    def abackward(node, g):
        t = node._s0
        return (g * (1.0 - t * t),)

    def local_grad(self, i):
        t = np.asarray(self.out)
        return 1.0 - t * t


class ReLU(Function):
    """max(0, x). Derivative 1 for x > 0 and 0 for x <= 0 (relu'(0) = 0)."""

    __slots__ = ("out",)

    op = "relu"

    @staticmethod
    def forward(ctx, x):
        out = np.maximum(x, 0)
        ctx.out = out
        return out

    @staticmethod
    def backward(ctx, g):
        return g * (ctx.out > 0)

    ssave = ("out",)

    @staticmethod
    def sforward(x):
        out = x if x > 0 else 0.0
        if x != x:  # NaN propagates, as np.maximum
            out = x
        return out, out, None

    @staticmethod
    def sbackward(node, g):
        return (g if node._s0 > 0 else 0.0,)

    @staticmethod
    def aforward(x):
        out = np.maximum(x, 0)
        return out, out, None

    @staticmethod
    def abackward(node, g):
        return (g * (node._s0 > 0),)

    def local_grad(self, i):
        return (np.asarray(self.out) > 0).astype(np.float64)


class LeakyReLU(Function):
    """x for x > 0, slope * x otherwise. Derivative 1 or slope (slope at 0)."""

    __slots__ = ("pos", "slope")

    op = "leaky_relu"

    @staticmethod
    def forward(ctx, x, *, slope=0.01):
        pos = x > 0
        ctx.pos, ctx.slope = pos, slope
        return np.where(pos, x, x * slope)

    @staticmethod
    def backward(ctx, g):
        return np.where(ctx.pos, g, g * ctx.slope)

    def local_grad(self, i):
        return np.where(self.pos, 1.0, self.slope)


class ELU(Function):
    """x for x > 0, alpha (exp(x) - 1) otherwise. Derivative 1 for x > 0, alpha exp(x) for
    x <= 0 (so alpha at 0, PyTorch's choice; 1 for the default alpha = 1)."""

    __slots__ = ("pos", "neg", "alpha")

    op = "elu"

    @staticmethod
    def forward(ctx, x, *, alpha=1.0):
        pos = x > 0
        neg = alpha * np.expm1(np.minimum(x, 0))  # exp only of x <= 0: no overflow
        ctx.pos, ctx.neg, ctx.alpha = pos, neg, alpha
        return np.where(pos, x, neg)

    @staticmethod
    def backward(ctx, g):
        return g * ELU._deriv(ctx)

    @staticmethod
    def _deriv(ctx):
        return np.where(ctx.pos, 1.0, ctx.neg + ctx.alpha).astype(ctx.neg.dtype, copy=False)

    def local_grad(self, i):
        return ELU._deriv(self)


def _prelu_alpha_shape(x_shape, a_shape):
    """Shape to which PReLU's alpha broadcasts against x: () stays; (C,) sits on axis 1."""
    if a_shape == ():
        return ()
    if len(x_shape) >= 2 and a_shape == (x_shape[1],):
        return (x_shape[1],) + (1,) * (len(x_shape) - 2)
    if len(x_shape) == 1 and a_shape == x_shape:
        return a_shape
    expect = "()" if len(x_shape) < 2 else f"() or ({x_shape[1]},)"
    raise ValueError(
        f"prelu: alpha of shape {a_shape} does not fit x of shape {x_shape}: expected {expect} "
        f"(one slope, or one per channel on axis 1)")


class PReLU(Function):
    """x for x > 0, alpha * x otherwise, with alpha learned.

    Shapes: alpha () (one slope), (D,) for x (N, D), (C,) on axis 1 for x (N, C, H, W).
    d/dx = 1 or alpha (alpha at 0); d/dalpha = x where x <= 0, summed over the shared axes.
    """

    __slots__ = ("x", "a", "pos", "alpha_shape")

    op = "prelu"
    vjp = ("grad * where(x > 0, 1, alpha)", "sum(grad * min(x, 0)) per slope")

    @staticmethod
    def forward(ctx, x, alpha):
        a = alpha.reshape(_prelu_alpha_shape(x.shape, alpha.shape))
        pos = x > 0
        ctx.x, ctx.a, ctx.pos, ctx.alpha_shape = x, a, pos, alpha.shape
        return np.where(pos, x, a * x)

    @staticmethod
    def backward(ctx, g):
        gx = np.where(ctx.pos, g, g * ctx.a)
        ga = np.where(ctx.pos, 0, g * ctx.x)
        if ctx.alpha_shape == ():
            ga = ga.sum()
        elif ga.ndim > 1:
            ga = ga.sum(axis=tuple(i for i in range(ga.ndim) if i != 1))
        return gx, ga

    def local_grad(self, i):
        if i == 0:
            return np.where(self.pos, 1.0, np.broadcast_to(self.a, self.x.shape))
        return self.vjp[1]


class Maxout(Function):
    """max over k pieces: the last axis (units * k) splits into (units, k); max over each k.

    Shapes: z (..., units * k) -> (..., units). The gradient goes to the first maximum of each
    unit's k pieces (ties: the lowest index wins).
    """

    __slots__ = ("idx", "pshape", "zshape")

    op = "maxout"
    vjp = ("grad routed to each unit's winning piece",)

    @staticmethod
    def forward(ctx, z, *, k):
        k = int(k)
        if k < 1 or z.ndim == 0 or z.shape[-1] % k:
            raise ValueError(
                f"maxout: the last axis of z (shape {z.shape}) must split into pieces of k={k}")
        pieces = z.reshape(*z.shape[:-1], z.shape[-1] // k, k)  # (..., units, k)
        idx = pieces.argmax(axis=-1)[..., None]  # (..., units, 1)
        ctx.idx, ctx.pshape, ctx.zshape = idx, pieces.shape, z.shape
        return np.take_along_axis(pieces, idx, axis=-1)[..., 0]

    @staticmethod
    def backward(ctx, g):
        gp = np.zeros(ctx.pshape, dtype=g.dtype)
        np.put_along_axis(gp, ctx.idx, g[..., None], axis=-1)
        return gp.reshape(ctx.zshape)
