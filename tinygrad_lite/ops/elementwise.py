"""Elementwise arithmetic: + - * / neg, pow by a constant, exp, log, sqrt, abs, clip.

Each op's ``local_grad(ctx, i)`` is the elementwise derivative d out / d input_i (an array of
the broadcast shape), so a drawing can show downstream = upstream x local. ``sforward`` and
``sbackward`` are the same formulas on Python floats, for scalar graphs.

Conventions at the edges (as PyTorch): abs'(0) = 0; sqrt'(0) = inf; log(0) = -inf with
gradient inf; clip passes the gradient where lo <= x <= hi (bounds included).
"""
import math

import numpy as np

from ..function import Function


class Add(Function):
    """a + b (broadcasting)."""

    __slots__ = ()

    op = "+"
    scalar_ok = True

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, g):
        return g, g

    @staticmethod
    def sforward(a, b):
        return a + b, None, None

    @staticmethod
    def sbackward(node, g):
        return g, g

    @staticmethod
    def aforward(a, b):
        return a + b, None, None

    @staticmethod
    def abackward(node, g):
        return g, g

    def local_grad(self, i):
        return np.ones(np.broadcast_shapes(*(p.shape for p in self.parents)))


class Sub(Function):
    """a - b (broadcasting)."""

    __slots__ = ()

    op = "-"
    scalar_ok = True

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.parents[1].requires_grad else None)

    @staticmethod
    def sforward(a, b):
        return a - b, None, None

    @staticmethod
    def sbackward(node, g):
        return g, -g

    @staticmethod
    def aforward(a, b):
        return a - b, None, None

    @staticmethod
    def abackward(node, g):
        p = node._p1
        return g, (-g if type(p) is not float and p.requires_grad else None)

    def local_grad(self, i):
        shape = np.broadcast_shapes(*(p.shape for p in self.parents))
        return np.full(shape, 1.0 if i == 0 else -1.0)


class Mul(Function):
    """a * b (broadcasting). d/da = b, d/db = a."""

    __slots__ = ("a", "b")

    op = "*"
    scalar_ok = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.a = a
        ctx.b = b
        return a * b

    @staticmethod
    def backward(ctx, g):
        pa, pb = ctx.parents  # skip the product nobody needs (a constant factor's gradient)
        return (g * ctx.b if pa.requires_grad else None), (g * ctx.a if pb.requires_grad else None)

    ssave = ("a", "b")

    @staticmethod
    def sforward(a, b):
        return a * b, a, b

    @staticmethod
    def sbackward(node, g):
        return g * node._s1, g * node._s0

    @staticmethod
    def aforward(a, b):
        return a * b, a, b

    @staticmethod
    def abackward(node, g):
        pa, pb = node._p0, node._p1  # skip the product nobody needs: a constant (a bare float)
        return ((g * node._s1 if type(pa) is not float and pa.requires_grad else None),
                (g * node._s0 if type(pb) is not float and pb.requires_grad else None))

    def local_grad(self, i):
        shape = np.broadcast_shapes(np.shape(self.a), np.shape(self.b))
        return np.broadcast_to(self.b if i == 0 else self.a, shape)


class Div(Function):
    """a / b (broadcasting). d/da = 1/b, d/db = -a/b**2."""

    __slots__ = ("b", "out")

    op = "/"
    scalar_ok = True

    @staticmethod
    def forward(ctx, a, b):
        out = a / b
        ctx.b = b
        ctx.out = out
        return out

    @staticmethod
    def backward(ctx, g):
        gb = g / ctx.b
        return gb, (-gb * ctx.out if ctx.parents[1].requires_grad else None)

    ssave = ("b", "out")

    @staticmethod
    def sforward(a, b):
        out = a / b
        return out, b, out

    @staticmethod
    def sbackward(node, g):
        gb = g / node._s0
        return gb, -gb * node._s1

    @staticmethod
    def aforward(a, b):
        out = a / b
        return out, b, out

    @staticmethod
    def abackward(node, g):
        gb = g / node._s0
        p = node._p1
        return gb, (-gb * node._s1 if type(p) is not float and p.requires_grad else None)

    def local_grad(self, i):
        shape = np.shape(self.out)
        b = np.asarray(self.b)
        return np.broadcast_to(1.0 / b if i == 0 else -np.asarray(self.out) / b, shape)


class Neg(Function):
    """-x."""

    __slots__ = ()

    op = "neg"

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, g):
        return -g

    @staticmethod
    def sforward(x):
        return -x, None, None

    @staticmethod
    def sbackward(node, g):
        return (-g,)

    @staticmethod
    def aforward(x):
        return -x, None, None

    @staticmethod
    def abackward(node, g):
        return (-g,)

    def local_grad(self, i):
        return np.full(self.parents[0].shape, -1.0)


class Pow(Function):
    """x ** p for a constant p. d/dx = p * x**(p-1).

    A fractional p with a negative base raises ValueError (no silent NaN or complex numbers).
    At x = 0: 0**p is 0 for p > 0, 1 for p == 0 and inf for p < 0 (numpy's divide warning);
    the gradient there follows the formula (0 for p > 1, p for p == 1, inf for 0 < p < 1,
    -inf for p < 0), except p == 0, whose gradient is 0 everywhere, 0 included (as PyTorch).
    """

    __slots__ = ("x", "p")

    op = "pow"

    @staticmethod
    def forward(ctx, x, *, p):
        if not float(p).is_integer() and np.any(x < 0):
            raise ValueError(
                f"pow: fractional power {p} of a negative base (min {np.min(x):.4g}) is not real; "
                f"use abs() or clip() first")
        ctx.x = x
        ctx.p = p
        if p == 2:
            return x * x
        return x ** p

    @staticmethod
    def backward(ctx, g):
        p = ctx.p
        if p == 2:
            return g * (2.0 * ctx.x)
        if p == 0:  # x**0 = 1 is constant: not 0 * 0**-1 = NaN at x = 0
            return np.zeros_like(g)
        return g * (p * ctx.x ** (p - 1))

    ssave = ("x", "p")
    skwargs = ("p",)

    @staticmethod
    def sforward(x, *, p):
        if x < 0 and not float(p).is_integer():
            raise ValueError  # the array path raises the message
        return x ** p, x, p

    @staticmethod
    def sbackward(node, g):
        x, p = node._s0, node._s1
        if p == 0:
            return (0.0,)
        try:
            return (g * p * x ** (p - 1),)
        except ZeroDivisionError:  # x = 0 with p < 1: numpy's inf, as the array path
            return (float(g * p * np.float64(x) ** (p - 1)),)

    def local_grad(self, i):
        p = self.p
        if p == 0:
            return np.zeros(np.shape(self.x))
        return p * np.asarray(self.x, dtype=float) ** (p - 1)


class Exp(Function):
    """exp(x). d/dx = exp(x)."""

    __slots__ = ("out",)

    op = "exp"

    @staticmethod
    def forward(ctx, x):
        out = np.exp(x)
        ctx.out = out
        return out

    @staticmethod
    def backward(ctx, g):
        return g * ctx.out

    ssave = ("out",)

    @staticmethod
    def sforward(x):
        out = math.exp(x)
        return out, out, None

    @staticmethod
    def sbackward(node, g):
        return (g * node._s0,)

    @staticmethod
    def aforward(x):
        out = np.exp(x)
        return out, out, None

    @staticmethod
    def abackward(node, g):
        return (g * node._s0,)

    def local_grad(self, i):
        return np.asarray(self.out)


class Log(Function):
    """Natural log. d/dx = 1/x.

    At the edges (as PyTorch, plus numpy's RuntimeWarning): log(0) = -inf with gradient +inf
    ("divide by zero"); log of a negative is NaN with gradient 1/x ("invalid value").
    Use detect_anomaly() to find the op, or clip(lo=eps) to keep x positive.
    """

    __slots__ = ("x",)

    op = "log"

    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return np.log(x)

    @staticmethod
    def backward(ctx, g):
        return g / ctx.x

    ssave = ("x",)

    @staticmethod
    def sforward(x):
        return math.log(x), x, None

    @staticmethod
    def sbackward(node, g):
        return (g / node._s0,)

    @staticmethod
    def aforward(x):
        return np.log(x), x, None

    @staticmethod
    def abackward(node, g):
        return (g / node._s0,)

    def local_grad(self, i):
        return 1.0 / np.asarray(self.x)


class Sqrt(Function):
    """sqrt(x). d/dx = 1 / (2 sqrt(x)).

    At the edges (as PyTorch): sqrt(0) = 0 with gradient +inf, silently; sqrt of a negative is
    NaN, with numpy's "invalid value" RuntimeWarning, and so is its gradient.
    """

    __slots__ = ("out",)

    op = "sqrt"

    @staticmethod
    def forward(ctx, x):
        out = np.sqrt(x)
        ctx.out = out
        return out

    @staticmethod
    def backward(ctx, g):
        with np.errstate(divide="ignore"):
            return g * (0.5 / ctx.out)

    def local_grad(self, i):
        with np.errstate(divide="ignore"):
            return 0.5 / np.asarray(self.out)


class Abs(Function):
    """|x|. d/dx = sign(x), 0 at 0."""

    __slots__ = ("x",)

    op = "abs"

    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return np.abs(x)

    @staticmethod
    def backward(ctx, g):
        return g * np.sign(ctx.x)

    def local_grad(self, i):
        return np.sign(self.x)


class Clip(Function):
    """Clamp to [lo, hi] (either may be None). Gradient 1 where lo <= x <= hi, else 0."""

    __slots__ = ("x", "lo", "hi")

    op = "clip"

    @staticmethod
    def forward(ctx, x, *, lo=None, hi=None):
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"clip: lo={lo} is greater than hi={hi}")
        ctx.x, ctx.lo, ctx.hi = x, lo, hi
        if lo is None and hi is None:
            return x.copy()
        return np.clip(x, lo, hi)

    @staticmethod
    def backward(ctx, g):
        return g * Clip._mask(ctx)

    @staticmethod
    def _mask(ctx):
        x, lo, hi = ctx.x, ctx.lo, ctx.hi
        mask = np.ones(x.shape, dtype=bool)
        if lo is not None:
            mask &= x >= lo
        if hi is not None:
            mask &= x <= hi
        return mask

    def local_grad(self, i):
        return Clip._mask(self).astype(np.asarray(self.x).dtype)
