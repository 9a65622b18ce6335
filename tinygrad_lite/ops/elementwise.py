"""Elementwise arithmetic: + - * / neg, pow by a constant, exp, log, sqrt, abs, clip.

Each op is written once: ``forward`` and ``backward`` use ``ctx.xp`` (numpy for arrays, the
engine's ``floatmath`` on Python floats), so scalar and tensor graphs run the same lines.
A drawing's local gradient d out / d input_i is ``backward`` applied to a gradient of ones.

Conventions at the edges (as PyTorch): abs'(0) = 0; sqrt'(0) = inf; log(0) = -inf with
gradient inf; clip passes the gradient where lo <= x <= hi (bounds included).
"""
import numpy as np

from ..function import Function


class Add(Function):
    """a + b (broadcasting). d/da = d/db = 1."""

    __slots__ = ()
    op = "+"
    elementwise = True

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    """a - b (broadcasting). d/da = 1, d/db = -1."""

    __slots__ = ()
    op = "-"
    elementwise = True

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """a * b (broadcasting). d/da = b, d/db = a."""

    __slots__ = ("a", "b")
    op = "*"
    elementwise = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.a = a
        ctx.b = b
        return a * b

    @staticmethod
    def backward(ctx, g):
        need_a, need_b = ctx.needs_input_grad  # skip the product nobody needs (a constant's)
        return (g * ctx.b if need_a else None), (g * ctx.a if need_b else None)


class Div(Function):
    """a / b (broadcasting). d/da = 1/b, d/db = -a/b**2 = -(a/b) / b."""

    __slots__ = ("b", "out")
    op = "/"
    elementwise = True

    @staticmethod
    def forward(ctx, a, b):
        out = a / b
        ctx.b = b
        ctx.out = out
        return out

    @staticmethod
    def backward(ctx, g):
        g_over_b = g / ctx.b
        return g_over_b, (-g_over_b * ctx.out if ctx.needs_input_grad[1] else None)


class Neg(Function):
    """-x. d/dx = -1."""

    __slots__ = ()
    op = "neg"
    elementwise = True

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, g):
        return -g


class Pow(Function):
    """x ** p for a constant p. d/dx = p * x**(p-1).

    A fractional p with a negative base raises ValueError (no silent NaN or complex numbers).
    At x = 0: 0**p is 0 for p > 0, 1 for p == 0 and inf for p < 0 (numpy's divide warning);
    the gradient there follows the formula (0 for p > 1, p for p == 1, inf for 0 < p < 1,
    -inf for p < 0), except p == 0, whose gradient is 0 everywhere, 0 included (as PyTorch).
    """

    __slots__ = ("x", "p")
    op = "pow"
    elementwise = True

    @staticmethod
    def forward(ctx, x, *, p):
        if not float(p).is_integer() and ctx.xp.any(x < 0):
            raise ValueError(
                f"pow: fractional power {p} of a negative base (min {np.min(x):.4g}) is not real; "
                f"use abs() or clip() first")
        ctx.x = x
        ctx.p = p
        return x ** p

    @staticmethod
    def backward(ctx, g):
        p = ctx.p
        if p == 0:  # x**0 = 1 is constant: not 0 * 0**-1 = NaN at x = 0
            return ctx.xp.zeros_like(g)
        return g * (p * ctx.x ** (p - 1))


class Exp(Function):
    """exp(x). d/dx = exp(x)."""

    __slots__ = ("out",)
    op = "exp"
    elementwise = True

    @staticmethod
    def forward(ctx, x):
        out = ctx.xp.exp(x)
        ctx.out = out
        return out

    @staticmethod
    def backward(ctx, g):
        return g * ctx.out


class Log(Function):
    """Natural log. d/dx = 1/x.

    At the edges (as PyTorch, plus numpy's RuntimeWarning): log(0) = -inf with gradient +inf
    ("divide by zero"); log of a negative is NaN with gradient 1/x ("invalid value").
    Use detect_anomaly() to find the op, or clip(lo=eps) to keep x positive.
    """

    __slots__ = ("x",)
    op = "log"
    elementwise = True

    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return ctx.xp.log(x)

    @staticmethod
    def backward(ctx, g):
        return g / ctx.x


class Sqrt(Function):
    """sqrt(x). d/dx = 1 / (2 sqrt(x)).

    At the edges (as PyTorch): sqrt(0) = 0 with gradient +inf, silently; sqrt of a negative is
    NaN, with numpy's "invalid value" RuntimeWarning, and so is its gradient.
    """

    __slots__ = ("out",)
    op = "sqrt"
    elementwise = True

    @staticmethod
    def forward(ctx, x):
        out = ctx.xp.sqrt(x)
        ctx.out = out
        return out

    @staticmethod
    def backward(ctx, g):
        with np.errstate(divide="ignore"):
            return g * (0.5 / ctx.out)


class Abs(Function):
    """|x|. d/dx = sign(x), 0 at 0."""

    __slots__ = ("x",)
    op = "abs"
    elementwise = True

    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return ctx.xp.abs(x)

    @staticmethod
    def backward(ctx, g):
        return g * ctx.xp.sign(ctx.x)


class Clip(Function):
    """Clamp to [lo, hi] (either may be None). Gradient 1 where lo <= x <= hi, else 0."""

    __slots__ = ("x", "lo", "hi")
    op = "clip"
    elementwise = True

    @staticmethod
    def forward(ctx, x, *, lo=None, hi=None):
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"clip: lo={lo} is greater than hi={hi}")
        ctx.x, ctx.lo, ctx.hi = x, lo, hi
        out = +x  # a copy, also when no bound is given
        if lo is not None:
            out = ctx.xp.maximum(out, lo)
        if hi is not None:
            out = ctx.xp.minimum(out, hi)
        return out

    @staticmethod
    def backward(ctx, g):
        x, lo, hi = ctx.x, ctx.lo, ctx.hi
        inside = (True if lo is None else x >= lo) & (True if hi is None else x <= hi)
        return g * inside
