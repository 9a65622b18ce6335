"""Repeated index pairs and layer norm on every path the engine takes: float64 and float32,
0-d and array results, 1-D to 3-D inputs, Value methods, F and nn. Hand-computed values, the
hypothesis gradcheck and PyTorch (where importable) agree.

The op table in test_ops.py runs the same ops through its forward, gradcheck, random-upstream
and float32 tests; this file adds the known values and the paths the table does not take.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_lite.functional as F
from tinygrad_lite import Value, gradcheck, nn
from tinygrad_lite.testing import arrays

DTYPES = [np.float64, np.float32]


# ---------------------------------------------------------------- indexing with repeated pairs

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("form", ["tuple", "lists", "values"])
def test_repeated_pairs_accumulate_known_values(dtype, form):
    x = Value(np.arange(12.0, dtype=dtype).reshape(3, 4))
    rows, cols = [0, 0, 1, 0], [1, 1, 2, 1]  # (0, 1) three times, (1, 2) once
    if form == "tuple":
        idx = (np.array(rows), np.array(cols))
    elif form == "lists":
        idx = (rows, cols)
    else:
        idx = (Value(np.array(rows), requires_grad=False),
               Value(np.array(cols), requires_grad=False))
    y = x[idx]
    np.testing.assert_array_equal(y.data, [1.0, 1.0, 6.0, 1.0])
    y.backward(np.array([1.0, 2.0, 3.0, 4.0], dtype=dtype))
    want = np.zeros((3, 4))
    want[0, 1] = 1.0 + 2.0 + 4.0
    want[1, 2] = 3.0
    assert x.grad.dtype == dtype
    np.testing.assert_array_equal(x.grad, want)


@pytest.mark.parametrize("dtype", DTYPES)
def test_repeated_pairs_into_a_scalar_result(dtype):
    """Each 0-d result is a scalar (a Python float for float64); used twice, it sums."""
    x = Value(np.arange(6.0, dtype=dtype).reshape(2, 3))
    a = x[np.array(1), np.array(2)]  # 0-d
    b = x[(np.array(1), np.array(2))]  # the same element again
    assert a.shape == () and b.shape == ()
    (a * b + a).backward()
    want = np.zeros((2, 3))
    want[1, 2] = 2 * 5.0 + 1.0
    assert x.grad.dtype == dtype
    np.testing.assert_array_equal(x.grad, want)


@pytest.mark.parametrize("dtype", DTYPES)
def test_repeated_pairs_broadcast_and_around_slices(dtype):
    x = Value(np.arange(24.0, dtype=dtype).reshape(2, 3, 4))
    y = x[np.array([[0], [0]]), :, np.array([3, 3, 1])]  # index (2, 3) broadcast, then (3,)
    assert y.shape == (2, 3, 3)
    y.backward(np.ones((2, 3, 3), dtype=dtype))
    want = np.zeros((2, 3, 4))
    want[0, :, 3] = 4.0  # two rows x two repeats of column 3
    want[0, :, 1] = 2.0
    np.testing.assert_array_equal(x.grad, want)


@st.composite
def repeated_pairs(draw):
    """A 2-D or 3-D array and a tuple of integer arrays over its first two axes, drawn from
    few positions so that pairs repeat; sometimes a scalar result, sometimes broadcasting."""
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=2, max_size=3)))
    x = draw(arrays(shape, -2, 2))
    kind = draw(st.sampled_from(["flat", "broadcast", "scalar"]))
    ints0 = st.integers(0, shape[0] - 1)
    ints1 = st.integers(0, shape[1] - 1)
    if kind == "scalar":
        return x, (np.array(draw(ints0)), np.array(draw(ints1)))
    n = draw(st.integers(1, 6))
    rows = np.array(draw(st.lists(ints0, min_size=n, max_size=n)))
    cols = np.array(draw(st.lists(ints1, min_size=n, max_size=n)))
    if kind == "broadcast":
        return x, (rows[:, None], cols[None, :])
    return x, (rows, cols)


def _scatter(shape, idx, g):
    """The reference gradient, one position at a time (no add.at)."""
    out = np.zeros(shape)
    rows, cols = np.broadcast_arrays(*idx)
    g = np.asarray(g).reshape(rows.shape + tuple(shape[2:]))
    for k in np.ndindex(rows.shape):
        out[rows[k], cols[k]] += g[k]
    return out


@given(repeated_pairs())
def test_repeated_pairs_gradcheck(case):
    x, idx = case
    assert gradcheck(lambda v: v[idx], x)


@given(repeated_pairs(), st.sampled_from(DTYPES))
def test_repeated_pairs_match_a_one_at_a_time_scatter(case, dtype):
    x, idx = case
    v = Value(x.astype(dtype))
    y = v[idx]
    g = np.random.default_rng(0).standard_normal(y.shape).astype(dtype)
    y.backward(g)
    assert v.grad.dtype == dtype
    np.testing.assert_allclose(v.grad, _scatter(x.shape, idx, g), rtol=1e-6)


# ---------------------------------------------------------------- layer norm on any input

def _ln_ref(x, g, b, eps=1e-5):
    xc = x - x.mean(-1, keepdims=True)
    return xc / np.sqrt((xc ** 2).mean(-1, keepdims=True) + eps) * g + b


@pytest.mark.parametrize("dtype", DTYPES)
def test_layer_norm_1d_known_values(dtype):
    """x = [1, 3]: mean 2, std 1, x_hat = [-1, 1]. y = gamma x_hat + beta."""
    x = Value(np.array([1.0, 3.0], dtype=dtype))
    g = Value(np.array([1.0, 2.0], dtype=dtype))
    b = Value(np.array([0.5, 0.0], dtype=dtype))
    y = F.layer_norm(x, g, b, eps=0.0)
    np.testing.assert_allclose(y.data, [-0.5, 2.0])
    y.backward(np.array([1.0, 1.0], dtype=dtype))
    np.testing.assert_allclose(g.grad, [-1.0, 1.0])  # sum over no leading axes: x_hat itself
    np.testing.assert_allclose(b.grad, [1.0, 1.0])
    # g_hat = [1, 2]; dx = (g_hat - mean(g_hat) - x_hat mean(g_hat x_hat)) / std = 0
    np.testing.assert_allclose(x.grad, [0.0, 0.0], atol=1e-6)
    for v in (x, g, b):
        assert v.grad.dtype == dtype and v.grad.shape == (2,)


@st.composite
def ln_any(draw):
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=3)))  # () included: a 1-D input
    d = draw(st.integers(1, 4))
    x = draw(arrays(lead + (d,), -0.3, 0.3)) + np.arange(d) * 0.7
    return x, draw(arrays((d,), -2, 2)), draw(arrays((d,), -2, 2))


@given(ln_any())
def test_layer_norm_gradcheck_any_number_of_leading_axes(case):
    assert gradcheck(lambda a, g, b: F.layer_norm(a, g, b), *case)


@given(ln_any(), st.sampled_from(DTYPES))
def test_layer_norm_gamma_and_beta_gradients_sum_every_leading_axis(case, dtype):
    x, gamma, beta = (a.astype(dtype) for a in case)
    vs = [Value(a) for a in (x, gamma, beta)]
    y = F.layer_norm(*vs)
    r = np.random.default_rng(0).standard_normal(y.shape).astype(dtype)
    y.backward(r)
    x64 = x.astype(np.float64)
    x_hat = _ln_ref(x64, 1.0, 0.0)
    lead = tuple(range(x.ndim - 1))
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(vs[1].grad, (r * x_hat).sum(axis=lead), rtol=tol, atol=tol)
    np.testing.assert_allclose(vs[2].grad, r.sum(axis=lead), rtol=tol, atol=tol)
    for v in vs:
        assert v.grad.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5,), (2, 5), (2, 3, 5)])
def test_layer_norm_module_on_any_input(shape, dtype):
    m = nn.LayerNorm(5)
    if dtype == np.float32:
        m.float()
    rng = np.random.default_rng(1)
    x = Value(rng.standard_normal(shape).astype(dtype))
    y = m(x)
    assert y.shape == shape and y.dtype == dtype
    y.backward(np.ones(shape, dtype=dtype))
    for name, p in m.named_parameters():
        assert p.grad is not None and p.grad.shape == (5,) and p.grad.dtype == dtype, name


@pytest.mark.parametrize("shape", [(4,), (3, 4), (2, 3, 4)])
def test_layer_norm_matches_pytorch(shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x, g, b, r = (rng.standard_normal(s) for s in (shape, 4, 4, shape))
    vs = [Value(a) for a in (x, g, b)]
    F.layer_norm(*vs).backward(r)
    ts = [torch.tensor(a, requires_grad=True) for a in (x, g, b)]
    torch.nn.functional.layer_norm(ts[0], (4,), ts[1], ts[2], eps=1e-5).backward(
        torch.tensor(r))
    for v, t in zip(vs, ts, strict=True):
        np.testing.assert_allclose(v.grad, t.grad.numpy(), rtol=1e-7, atol=1e-10)


def test_layer_norm_refuses_a_0d_input():
    with pytest.raises(ValueError, match="at least one axis"):
        F.layer_norm(Value(1.0), None, None)
