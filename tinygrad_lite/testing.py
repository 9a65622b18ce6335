"""Hypothesis strategies for property tests of backward passes: yours and ours.

    from hypothesis import given
    from tinygrad_lite import Value, gradcheck
    from tinygrad_lite.testing import arrays, shapes

    @given(arrays(shapes(max_dims=3), low=-2, high=2, avoid=[0.0]))
    def test_my_op(x):
        assert gradcheck(MyOp.apply, Value(x))

``avoid`` keeps every element at least ``margin`` away from the given points (ReLU's kink at
0, log's pole at 0), where finite differences straddle a kink and disagree with any
one-sided derivative. Needs the ``hypothesis`` package (the ``dev`` extra).
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

__all__ = ["shapes", "broadcastable_shapes", "arrays", "away_from", "labels", "matmul_shapes"]


def shapes(min_dims=0, max_dims=3, min_side=1, max_side=4):
    """Array shapes, 0-d included by default."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(shape=None, num_shapes=2, min_dims=0, max_dims=3, min_side=1,
                         max_side=4):
    """Shapes that broadcast together.

    With ``shape`` given: one shape that broadcasts against it. Without: a tuple of
    ``num_shapes`` shapes that broadcast together (a base shape, with axes dropped from the
    front and sizes set to 1 at random).
    """
    if shape is not None:
        return hnp.broadcastable_shapes(shape, min_dims=min_dims,
                                        max_dims=max(max_dims, len(shape)),
                                        min_side=min_side, max_side=max_side)
    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, min_dims=min_dims,
                                             max_dims=max_dims, min_side=min_side,
                                             max_side=max_side).map(lambda s: s.input_shapes)


def away_from(x: np.ndarray, points=(0.0,), margin=0.05) -> np.ndarray:
    """Push every element of x at least ``margin`` away from each of ``points``."""
    x = np.array(x, dtype=float if np.asarray(x).dtype.kind != "f" else None)
    for p in points:
        close = np.abs(x - p) < margin
        x = np.where(close, np.where(x >= p, p + margin, p - margin), x)
    return x


def arrays(shape, low=-3.0, high=3.0, dtype=np.float64, avoid=(), margin=0.05):
    """Float arrays of ``shape`` (a tuple or a strategy of shapes) with finite elements in
    [low, high], optionally kept ``margin`` away from the ``avoid`` points."""
    elements = st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False,
                         width=32 if np.dtype(dtype) == np.float32 else 64)
    strat = hnp.arrays(dtype=dtype, shape=shape, elements=elements)
    if avoid:
        strat = strat.map(lambda a: away_from(a, avoid, margin).astype(dtype))
    return strat


def labels(n, num_classes):
    """Integer class labels: an int64 array of shape (n,) with values in [0, num_classes)."""
    return hnp.arrays(np.int64, (n,), elements=st.integers(0, num_classes - 1))


@st.composite
def matmul_shapes(draw, max_side=4):
    """Pairs of shapes that numpy's matmul accepts: 1-D, 2-D and broadcast batches."""
    n, k, m = (draw(st.integers(1, max_side)) for _ in range(3))
    kind = draw(st.sampled_from(["mm", "vm", "mv", "vv", "batch"]))
    if kind == "mm":
        return (n, k), (k, m)
    if kind == "vm":
        return (k,), (k, m)
    if kind == "mv":
        return (n, k), (k,)
    if kind == "vv":
        return (k,), (k,)
    b = draw(st.integers(1, 3))
    a_batch, b_batch = draw(st.sampled_from([((b,), (b,)), ((b,), ()), ((), (b,)), ((1,), (b,))]))
    return a_batch + (n, k), b_batch + (k, m)
