"""``floatmath``: the numpy functions elementwise ops use, for Python floats.

An elementwise op whose inputs are all Python floats gets ``ctx.xp = floatmath``, not numpy:
one formula (``ctx.xp.exp(x)``) serves scalars and arrays, and a scalar graph runs at Python's
speed, as micrograd does. Each function means what numpy's does; where Python raises instead
(``math.exp(1000)``, ``math.log(0)``, ``1 / 0``), the engine reruns the op on numpy.
"""
import math

__all__ = ["floatmath"]


class _FloatMath:
    exp = staticmethod(math.exp)
    expm1 = staticmethod(math.expm1)
    log = staticmethod(math.log)
    sqrt = staticmethod(math.sqrt)
    tanh = staticmethod(math.tanh)
    abs = staticmethod(abs)

    @staticmethod
    def maximum(a, b):
        return a if a >= b or a != a else b  # NaN propagates, as in np.maximum

    @staticmethod
    def minimum(a, b):
        return a if a <= b or a != a else b

    @staticmethod
    def where(cond, a, b):
        return a if cond else b

    @staticmethod
    def sign(x):
        return 1.0 if x > 0 else -1.0 if x < 0 else 0.0 * x  # sign(NaN) is NaN

    @staticmethod
    def zeros_like(x):
        return 0.0

    @staticmethod
    def any(x):
        return bool(x)

    def __repr__(self):
        return "floatmath"


floatmath = _FloatMath()
