"""The engine's fast paths survive ordinary user code (benchmarks depend on them).

These check storage, not timings: a float64 scalar must stay on the Python-float path after
the updates users write, or every later op on it silently takes the slow array path.
"""
import numpy as np

from tinygrad_lite import Value


def test_scalar_stays_a_float_after_micrograd_style_update():
    p = Value(1.5)
    (p * Value(2.0)).backward()
    p.data -= 0.1 * p.grad  # reads .data (a 0-d array), updates it, assigns it back
    assert type(p._data) is float
    assert p.item() == 1.5 - 0.1 * 2.0
    assert isinstance(p.data, np.ndarray) and p.data.shape == ()


def test_assigning_a_0d_float64_array_stores_a_float_and_keeps_values():
    p = Value(np.ones(1))
    p.data = np.array(3.25)
    assert type(p._data) is float and p.shape == () and p.item() == 3.25
    q = Value(np.float32(1.0), dtype=np.float32)
    q.data = np.array(2.0, dtype=np.float32)
    assert q.dtype == np.float32 and q.item() == 2.0  # float32 keeps its array


def test_updated_scalar_ops_match_the_array_path():
    p = Value(0.3)
    p.data = p.data * 2  # through the setter
    y = (p * 3.0 + 1.0).tanh()
    y.backward()
    want = 1.0 - np.tanh(0.6 * 3.0 + 1.0) ** 2
    assert np.isclose(p.grad, 3.0 * want, rtol=1e-12)


def test_a_float_array_operand_is_not_copied():
    import tinygrad_lite.functional as F

    X = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    W = Value(np.ones((3, 2), dtype=np.float32))
    out = F.linear(X, W)
    assert out.parents[0].data is X  # the batch is used in place, as hand-written numpy would
    out.sum().backward()
    assert np.allclose(W.grad, X.sum(axis=0)[:, None] * np.ones((1, 2)))
    assert out.dtype == np.float32


def test_integer_and_0d_operands_still_become_float_values():
    x = Value(np.ones(3))
    y = x * np.array([1, 2, 3])  # integer array: converted to float64
    assert y.parents[1].dtype == np.float64 and y.parents[1].data.tolist() == [1.0, 2.0, 3.0]
    s = Value(2.0) * np.array(3.0)  # a 0-d float64 array keeps the scalar path
    assert type(s._data) is float and s.item() == 6.0
