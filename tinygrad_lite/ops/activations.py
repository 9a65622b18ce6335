"""Activation functions: sigmoid, tanh, ReLU, leaky ReLU, ELU, PReLU, maxout.

Derivatives at the kink follow PyTorch (libraries disagree, so we say it):
relu'(0) = 0, leaky_relu'(0) = slope, prelu'(0) = alpha, elu'(0) = alpha (1 for the default
alpha = 1). Sigmoid and tanh are computed without overflow for any |x|.
"""
import numpy as np

from ..function import Function


class Sigmoid(Function):
    """s = 1 / (1 + exp(-x)). ds/dx = s (1 - s): at most 0.25, vanishing for large |x|.

    Computed without overflow: exp is only ever taken of -|x|."""

    __slots__ = ("out",)
    op = "sigmoid"
    elementwise = True

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        e = xp.exp(-xp.abs(x))  # in (0, 1]
        out = xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        ctx.out = out
        return out

    @staticmethod
    def backward(ctx, g):
        s = ctx.out
        return g * (s * (1.0 - s))


class Tanh(Function):
    """t = tanh(x). dt/dx = 1 - t**2: 1 at 0, vanishing for large |x|."""

    __slots__ = ("out",)
    op = "tanh"
    elementwise = True

    @staticmethod
    def forward(ctx, x):
        out = ctx.xp.tanh(x)
        ctx.out = out
        return out

    @staticmethod
    def backward(ctx, g):
        t = ctx.out
        return g * (1.0 - t * t)


class ReLU(Function):
    """max(0, x). Derivative 1 for x > 0 and 0 for x <= 0 (relu'(0) = 0)."""

    __slots__ = ("out",)
    op = "relu"
    elementwise = True

    @staticmethod
    def forward(ctx, x):
        out = ctx.xp.maximum(x, 0.0)
        ctx.out = out
        return out

    @staticmethod
    def backward(ctx, g):
        return g * (ctx.out > 0)


class LeakyReLU(Function):
    """x for x > 0, slope * x otherwise. Derivative 1 or slope (slope at 0)."""

    __slots__ = ("x", "slope")
    op = "leaky_relu"
    elementwise = True

    @staticmethod
    def forward(ctx, x, *, slope=0.01):
        ctx.x, ctx.slope = x, slope
        return ctx.xp.where(x > 0, x, x * slope)

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.where(ctx.x > 0, g, g * ctx.slope)


class ELU(Function):
    """x for x > 0, alpha (exp(x) - 1) otherwise. Derivative 1 for x > 0, alpha exp(x) for
    x <= 0 (so alpha at 0, PyTorch's choice; 1 for the default alpha = 1).

    The derivative is computed as alpha * exp(x), not as out + alpha: that sum cancels to
    exactly 0 once exp(x) is below half an ulp of alpha (x < -17 in float32, x < -37 in
    float64), where alpha * exp(x) is still a tiny positive number (2.06e-9 at x = -20)."""

    __slots__ = ("x", "out", "alpha")
    op = "elu"
    elementwise = True

    @staticmethod
    def forward(ctx, x, *, alpha=1.0):
        xp = ctx.xp
        out = xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0.0)))  # exp only of x <= 0
        ctx.x, ctx.out, ctx.alpha = x, out, alpha
        return out

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        return g * xp.where(ctx.x > 0, 1.0, ctx.alpha * xp.exp(xp.minimum(ctx.x, 0.0)))


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
    pointwise_inputs = (0,)  # d out / d x is elementwise: drawings show it as an array
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
