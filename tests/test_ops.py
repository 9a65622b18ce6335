"""One table of ops drives the forward test against numpy and the hypothesis gradcheck.

Each entry: a name, the op on Values, a numpy reference on arrays, and a hypothesis strategy
for its input arrays (domains keep away from kinks and poles, where finite differences and
any one-sided derivative disagree).
"""
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_lite.functional as F
from tinygrad_lite import Value, gradcheck
from tinygrad_lite.testing import arrays, broadcastable_shapes, labels, matmul_shapes, shapes


@dataclass
class Case:
    name: str
    fn: Callable  # Values -> Value
    ref: Callable  # ndarrays -> ndarray
    inputs: st.SearchStrategy  # -> tuple of ndarrays


def unary(low=-3.0, high=3.0, avoid=(), min_dims=0):
    return arrays(shapes(min_dims=min_dims), low, high, avoid=avoid).map(lambda a: (a,))


def binary(low=-3.0, high=3.0, low_b=None, high_b=None):
    @st.composite
    def strat(draw):
        sa, sb = draw(broadcastable_shapes())
        a = draw(arrays(sa, low, high))
        b = draw(arrays(sb, low if low_b is None else low_b, high if high_b is None else high_b))
        return a, b

    return strat()


def distinct(min_dims=0, max_dims=3):
    """Arrays with well separated values (max and maxout have no derivative at ties)."""
    return hnp.arrays(np.int64, shapes(min_dims=min_dims, max_dims=max_dims),
                      elements=st.integers(-60, 60), unique=True).map(lambda a: (a * 0.1,))


def _off_hinge_kinks(xy, margin=1.0, gap=0.05):
    """True when no hinge term s_j - s_y + margin sits within ``gap`` of its kink at 0."""
    x, y = xy
    m = x - x[np.arange(len(y)), y][:, None] + margin
    m[np.arange(len(y)), y] = 1.0
    return bool(np.all(np.abs(m) > gap))


@st.composite
def classification(draw):
    n, c = draw(st.integers(1, 5)), draw(st.integers(2, 5))
    x = draw(arrays((n, c), -3, 3))
    y = draw(labels(n, c))
    return x, y


@st.composite
def prelu_inputs(draw):
    kind = draw(st.sampled_from(["scalar", "features", "channels"]))
    if kind == "channels":
        shape = (draw(st.integers(1, 3)), draw(st.integers(1, 3)), 2, 2)
    else:
        shape = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    x = draw(arrays(shape, -3, 3, avoid=(0.0,)))
    alpha = draw(arrays(() if kind == "scalar" else (shape[1],), 0.05, 0.5))
    return x, alpha


@st.composite
def matmul_inputs(draw):
    sa, sb = draw(matmul_shapes())
    return draw(arrays(sa)), draw(arrays(sb))


@st.composite
def linear_inputs(draw):
    n, i, o = (draw(st.integers(1, 4)) for _ in range(3))
    return draw(arrays((n, i))), draw(arrays((i, o))), draw(arrays((o,)))


@st.composite
def getitem_inputs(draw):
    return (draw(arrays(shapes(min_dims=2, min_side=2), avoid=(0.0,))),)


# integer-array index tuples with repeated pairs: a repeated position must sum its gradients
PAIRS = (np.array([0, 0, 1, 0]), np.array([1, 1, 0, 1]))  # (0, 1) three times
PAIRS_BROADCAST = (np.array([[0], [1], [0]]), np.array([1, 1]))  # (3, 2) positions, repeats
PAIRS_AROUND_ELLIPSIS = (np.array([0, 0, 1]), Ellipsis, np.array([1, 1, 0]))
PAIR_SCALAR = (np.array(1), np.array(0))  # a 0-d result from a 2-D input


@st.composite
def layer_norm_inputs(draw):
    """x (..., D) with 0 to 2 leading axes (1-D included), gamma (D,), beta (D,). The
    values of each row are spread out so that var(x) stays well above eps."""
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    d = draw(st.integers(1, 5))
    x = draw(arrays(lead + (d,), -0.3, 0.3)) + np.arange(d) * 0.7
    return x, draw(arrays((d,), -2, 2)), draw(arrays((d,), -2, 2))


def _layer_norm(x, g, b, eps=1e-5):
    xc = x - x.mean(-1, keepdims=True)
    return xc / np.sqrt((xc ** 2).mean(-1, keepdims=True) + eps) * g + b


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _log_softmax(x, axis=-1):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def _ce(x, y):
    return -_log_softmax(x)[np.arange(len(y)), y].mean()


def _svm(x, y, margin=1.0):
    m = np.maximum(0, x - x[np.arange(len(y)), y][:, None] + margin)
    m[np.arange(len(y)), y] = 0
    return m.sum() / len(y)


def _prelu(x, a):
    a = a.reshape((-1,) + (1,) * (x.ndim - 2)) if a.ndim else a
    return np.where(x > 0, x, a * x)


def _maxout(z, k):
    return z.reshape(*z.shape[:-1], z.shape[-1] // k, k).max(-1)


@st.composite
def maxout_inputs(draw):
    """z of shape (n, units * k) with distinct values, and k (a constant input)."""
    n, units, k = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    z = draw(hnp.arrays(np.int64, (n, units * k), elements=st.integers(-60, 60), unique=True))
    return z * 0.1, np.array(k)


CASES = [
    Case("add", lambda a, b: a + b, np.add, binary()),
    Case("sub", lambda a, b: a - b, np.subtract, binary()),
    Case("mul", lambda a, b: a * b, np.multiply, binary()),
    Case("div", lambda a, b: a / b, np.divide, binary(low_b=0.5, high_b=2.0)),
    Case("rsub_number", lambda a: 2.5 - a, lambda a: 2.5 - a, unary()),
    Case("rdiv_number", lambda a: 2.0 / a, lambda a: 2.0 / a, unary(0.5, 3.0)),
    Case("neg", lambda a: -a, np.negative, unary()),
    Case("pow2", lambda a: a ** 2, lambda a: a ** 2, unary()),
    Case("pow3", lambda a: a ** 3, lambda a: a ** 3, unary()),
    Case("pow_half", lambda a: a ** 0.5, np.sqrt, unary(0.2, 4.0)),
    Case("pow_minus1", lambda a: a ** -1, lambda a: 1 / a, unary(0.3, 3.0)),
    Case("rpow", lambda a: 2.0 ** a, lambda a: 2.0 ** a, unary()),
    Case("exp", lambda a: a.exp(), np.exp, unary()),
    Case("log", lambda a: a.log(), np.log, unary(0.1, 5.0)),
    Case("sqrt", lambda a: a.sqrt(), np.sqrt, unary(0.1, 5.0)),
    Case("abs", lambda a: a.abs(), np.abs, unary(avoid=(0.0,))),
    Case("clip", lambda a: a.clip(-1.0, 1.0), lambda a: np.clip(a, -1, 1),
         unary(avoid=(-1.0, 1.0))),
    Case("clip_lo", lambda a: a.clip(0.5, None), lambda a: np.maximum(a, 0.5), unary(avoid=(0.5,))),
    Case("sigmoid", F.sigmoid, _sigmoid, unary(-6, 6)),
    Case("tanh", F.tanh, np.tanh, unary()),
    Case("relu", F.relu, lambda a: np.maximum(a, 0), unary(avoid=(0.0,))),
    Case("leaky_relu", lambda a: F.leaky_relu(a, 0.1), lambda a: np.where(a > 0, a, 0.1 * a),
         unary(avoid=(0.0,))),
    Case("elu", lambda a: F.elu(a, 1.5), lambda a: np.where(a > 0, a, 1.5 * (np.exp(a) - 1)),
         unary(avoid=(0.0,))),
    Case("prelu", F.prelu, _prelu, prelu_inputs()),
    Case("maxout", lambda z, k: F.maxout(z, int(k.data)), lambda z, k: _maxout(z, int(k)),
         maxout_inputs()),
    Case("sum_all", lambda a: a.sum(), np.sum, unary()),
    Case("sum_axis0_keep", lambda a: a.sum(axis=0, keepdims=True),
         lambda a: a.sum(axis=0, keepdims=True), unary(min_dims=1)),
    Case("sum_last", lambda a: a.sum(axis=-1), lambda a: a.sum(axis=-1), unary(min_dims=1)),
    Case("mean_all", lambda a: a.mean(), np.mean, unary()),
    Case("mean_axes", lambda a: a.mean(axis=(0, -1)), lambda a: a.mean(axis=(0, -1)),
         unary(min_dims=2)),
    Case("max_all", lambda a: a.max(), np.max, distinct()),
    Case("max_axis", lambda a: a.max(axis=0), lambda a: a.max(axis=0), distinct(min_dims=1)),
    Case("reshape", lambda a: a.reshape(-1), lambda a: a.reshape(-1), unary()),
    Case("transpose", lambda a: a.T, lambda a: a.T, unary()),
    Case("transpose_axes", lambda a: a.transpose(2, 0, 1), lambda a: a.transpose(2, 0, 1),
         arrays(shapes(min_dims=3, max_dims=3)).map(lambda a: (a,))),
    Case("getitem_slice", lambda a: a[1:, ::-1], lambda a: a[1:, ::-1], getitem_inputs()),
    Case("getitem_int_array", lambda a: a[np.array([0, 1, 0, 0])],
         lambda a: a[np.array([0, 1, 0, 0])], getitem_inputs()),
    Case("getitem_mask", lambda a: a[a.data > 0], lambda a: a[a > 0], getitem_inputs()),
    Case("getitem_repeated_pairs", lambda a: a[PAIRS], lambda a: a[PAIRS], getitem_inputs()),
    Case("getitem_repeated_pairs_broadcast", lambda a: a[PAIRS_BROADCAST],
         lambda a: a[PAIRS_BROADCAST], getitem_inputs()),
    Case("getitem_repeated_pairs_ellipsis", lambda a: a[PAIRS_AROUND_ELLIPSIS],
         lambda a: a[PAIRS_AROUND_ELLIPSIS], getitem_inputs()),
    Case("getitem_pair_scalar", lambda a: a[PAIR_SCALAR], lambda a: a[PAIR_SCALAR],
         getitem_inputs()),
    Case("getitem_repeated_list", lambda a: a[[1, 0, 1], [0, 1, 0]],
         lambda a: a[[1, 0, 1], [0, 1, 0]], getitem_inputs()),
    Case("matmul", lambda a, b: a @ b, np.matmul, matmul_inputs()),
    Case("linear", F.linear, lambda x, W, b: x @ W + b, linear_inputs()),
    Case("softmax", F.softmax, lambda x: np.exp(_log_softmax(x)), unary(min_dims=1)),
    Case("softmax_axis0", lambda x: F.softmax(x, axis=0), lambda x: np.exp(_log_softmax(x, 0)),
         unary(min_dims=1)),
    Case("log_softmax", F.log_softmax, _log_softmax, unary(min_dims=1)),
    Case("softmax_cross_entropy", lambda x, y: F.softmax_cross_entropy(x, y.data.astype(int)),
         lambda x, y: _ce(x, y.astype(int)), classification()),
    Case("svm_loss", lambda x, y: F.svm_loss(x, y.data.astype(int)),
         lambda x, y: _svm(x, y.astype(int)), classification().filter(_off_hinge_kinks)),
    Case("layer_norm", F.layer_norm, _layer_norm, layer_norm_inputs()),
    Case("mse_loss", F.mse_loss, lambda a, b: np.mean((a - b) ** 2),
         arrays(shapes()).flatmap(lambda a: arrays(a.shape).map(lambda b: (a, b)))),
]


BY_NAME = {c.name: c for c in CASES}
INT_INPUTS = {"softmax_cross_entropy": (1,), "svm_loss": (1,), "maxout": (1,)}


def _values(name, arrays_):
    """Values for an op's inputs; class labels and maxout's k are constants."""
    consts = INT_INPUTS.get(name, ())
    return [Value(a, requires_grad=i not in consts, label=f"in{i}") for i, a in enumerate(arrays_)]


@pytest.mark.parametrize("name", list(BY_NAME))
@given(data=st.data())
def test_forward_matches_numpy(name, data):
    case = BY_NAME[name]
    xs = data.draw(case.inputs)
    out = case.fn(*_values(name, xs))
    np.testing.assert_allclose(out.data, case.ref(*xs), rtol=1e-10, atol=1e-12)
    assert isinstance(out.data, np.ndarray)


@pytest.mark.parametrize("name", list(BY_NAME))
@given(data=st.data())
def test_backward_matches_finite_differences(name, data):
    case = BY_NAME[name]
    xs = data.draw(case.inputs)
    assert gradcheck(case.fn, *_values(name, xs))


@pytest.mark.parametrize("name", list(BY_NAME))
@given(data=st.data())
def test_random_and_zero_upstream_gradients(name, data):
    """backward(grad=R) gives the vector-Jacobian product; R = 0 gives zeros, not None."""
    case = BY_NAME[name]
    xs = data.draw(case.inputs)
    vals = _values(name, xs)
    out = case.fn(*vals)
    r = data.draw(arrays(out.shape, -2, 2))
    out.backward(grad=r)
    eps = 1e-6
    for v, x in zip(vals, xs, strict=True):
        if not v.requires_grad:
            continue
        assert v.grad.shape == x.shape and v.grad.dtype == x.dtype
        # directional derivative along a random direction d: <grad, d> = <R, J d>
        d = np.random.default_rng(0).standard_normal(x.shape)
        plus = [Value(xx + eps * d if xx is x else xx) for xx in xs]
        minus = [Value(xx - eps * d if xx is x else xx) for xx in xs]
        for group in (plus, minus):
            for i in INT_INPUTS.get(name, ()):
                group[i] = Value(xs[i], requires_grad=False)
        jd = (case.fn(*plus).data - case.fn(*minus).data) / (2 * eps)
        np.testing.assert_allclose(np.sum(v.grad * d), np.sum(r * jd), rtol=1e-4, atol=1e-6)
    zeros = _values(name, xs)
    out = case.fn(*zeros)
    out.backward(grad=np.zeros(out.shape))
    for v in zeros:
        if v.requires_grad:
            assert v.grad is not None and not np.any(v.grad)


@pytest.mark.parametrize("name", [n for n in BY_NAME if n not in INT_INPUTS])
@settings(max_examples=5)
@given(data=st.data())
def test_float32_stays_float32(name, data):
    """Forward and backward keep float32 (no silent upcast), also against Python numbers."""
    case = BY_NAME[name]
    xs = data.draw(case.inputs)
    vals = [Value(x.astype(np.float32)) for x in xs]
    out = case.fn(*vals)
    assert out.dtype == np.float32, f"{name} returned {out.dtype}"
    out.backward(grad=np.ones(out.shape, np.float32))
    for v in vals:
        assert v.grad.dtype == np.float32


F32_TOL = {"pow_minus1": 1e-3, "rdiv_number": 1e-3, "div": 1e-3}


@pytest.mark.parametrize("name", [n for n in BY_NAME if n not in INT_INPUTS])
@settings(max_examples=5)
@given(data=st.data())
def test_float32_gradients_match_float64(name, data):
    """The float32 path gives the float64 gradients to float32 accuracy (a bug on the float32
    path alone, which gradcheck's float64 copy never sees, shows here)."""
    case = BY_NAME[name]
    xs = [x.astype(np.float32).astype(np.float64) for x in data.draw(case.inputs)]
    grads = {}
    for dtype in (np.float64, np.float32):
        vals = [Value(x.astype(dtype)) for x in xs]
        out = case.fn(*vals)
        r = np.random.default_rng(1).standard_normal(out.shape).astype(dtype)
        out.backward(grad=r)
        grads[dtype] = [v.grad for v in vals]
    for g32, g64 in zip(grads[np.float32], grads[np.float64], strict=True):
        scale = max(1.0, float(np.max(np.abs(g64), initial=0.0)))
        np.testing.assert_allclose(g32, g64, rtol=F32_TOL.get(name, 2e-4), atol=2e-4 * scale)


@pytest.mark.parametrize("name", list(BY_NAME))
@settings(max_examples=5)
@given(data=st.data())
def test_a_0d_result_used_in_scalar_arithmetic(name, data):
    """An op whose result is 0-d, then Python-number arithmetic on it (the engine's scalar
    path): the gradient is the one an array upstream gradient gives."""
    case = BY_NAME[name]
    xs = data.draw(case.inputs)
    first = _values(name, xs)
    out = case.fn(*first)
    if out.shape != ():
        return
    out.backward(grad=np.array(3.0))
    second = _values(name, xs)
    (case.fn(*second) * 3.0 + 1.0).backward()
    for a, b in zip(first, second, strict=True):
        if a.requires_grad:
            np.testing.assert_allclose(b.grad, a.grad, rtol=1e-12, atol=1e-12)
