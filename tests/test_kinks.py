"""The documented conventions at kinks and ties, on every path the engine can take.

Each convention is asserted twice: against the value the docs promise (README "Conventions",
the ops' docstrings), which needs nothing but numpy, and against PyTorch's gradient where the
docs say "as PyTorch" (those tests run when torch is importable; CI installs it).

Paths: a Python-float scalar (a float64 0-d Value), a 0-d float32 Value, float64 and float32
arrays; each through the Value method (``x.relu()``) and the functional form (``F.relu(x)``)
where both exist.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import tinygrad_lite.functional as F
from tinygrad_lite import Value

SLOPE = 0.1  # leaky_relu's slope; not 1, so "slope at 0" differs from "1 at 0"
ALPHA = 1.5  # elu's alpha; not 1, so "alpha at 0" differs from "1 at 0"
PRELU_ALPHA = 0.25


def _path_values(points: list[float], path: str) -> list[Value]:
    """Values holding ``points`` as the given path stores them: one Value per point for the
    scalar paths, one Value holding all the points for the array paths."""
    if path == "scalar-f64":
        return [Value(float(p)) for p in points]
    if path == "scalar-f32":
        return [Value(np.float32(p), dtype=np.float32) for p in points]
    dtype = np.float64 if path == "array-f64" else np.float32
    return [Value(np.array(points, dtype=dtype))]


PATHS = ["scalar-f64", "scalar-f32", "array-f64", "array-f32"]


def grads_at(fn: Callable[[Value], Value], points: list[float], path: str) -> np.ndarray:
    """d fn(x) / dx at each point, computed on ``path`` (upstream gradient 1)."""
    out = []
    for v in _path_values(points, path):
        y = fn(v)
        y.backward(np.ones(y.shape, y.dtype))
        assert v.grad is not None and v.grad.dtype == v.dtype, (path, v.grad)
        out.append(np.atleast_1d(v.grad))
    return np.concatenate(out).astype(np.float64)


# (name, fn, points, the documented derivative at each point)
KINKS = [
    ("relu_method", lambda x: x.relu(), [-1.0, 0.0, 2.0], [0.0, 0.0, 1.0]),
    ("relu_F", F.relu, [-1.0, 0.0, 2.0], [0.0, 0.0, 1.0]),
    ("leaky_relu_method", lambda x: x.leaky_relu(SLOPE), [-1.0, 0.0, 2.0], [SLOPE, SLOPE, 1.0]),
    ("leaky_relu_F", lambda x: F.leaky_relu(x, SLOPE), [-1.0, 0.0, 2.0], [SLOPE, SLOPE, 1.0]),
    ("elu_method", lambda x: x.elu(ALPHA), [0.0, 2.0], [ALPHA, 1.0]),
    ("elu_F", lambda x: F.elu(x, ALPHA), [0.0, 2.0], [ALPHA, 1.0]),
    ("elu_default_alpha", F.elu, [0.0], [1.0]),
    ("abs", lambda x: x.abs(), [-2.0, 0.0, 3.0], [-1.0, 0.0, 1.0]),
    # clip passes the gradient where lo <= x <= hi: both bounds included
    ("clip_both", lambda x: x.clip(-1.0, 2.0), [-1.5, -1.0, 0.5, 2.0, 2.5],
     [0.0, 1.0, 1.0, 1.0, 0.0]),
    ("clip_lo_only", lambda x: x.clip(0.5, None), [0.0, 0.5, 1.0], [0.0, 1.0, 1.0]),
    ("clip_hi_only", lambda x: x.clip(None, 0.5), [0.0, 0.5, 1.0], [1.0, 1.0, 0.0]),
]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("name,fn,points,expect", KINKS, ids=[k[0] for k in KINKS])
def test_documented_derivative_at_the_kink(name, fn, points, expect, path):
    got = grads_at(fn, points, path)
    np.testing.assert_allclose(got, expect, rtol=1e-6, atol=0, err_msg=f"{name} on {path}")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("alpha_shape", [(), (3,)])
def test_prelu_at_zero_takes_alpha_and_gives_alpha_no_gradient(dtype, alpha_shape):
    """prelu'(0) = alpha; d/dalpha = x where x <= 0, so 0 at x = 0."""
    x = Value(np.array([[0.0, 0.0, -2.0], [0.0, 1.0, 0.0]], dtype=dtype))
    a = Value(np.full(alpha_shape, PRELU_ALPHA, dtype=dtype))
    y = F.prelu(x, a)
    g = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=dtype)
    y.backward(g)
    np.testing.assert_allclose(x.grad, [[0.25, 0.5, 0.75], [1.0, 5.0, 1.5]], rtol=1e-6)
    da = np.array([[0.0, 0.0, -6.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(a.grad, da.sum() if alpha_shape == () else da.sum(axis=0))
    assert x.grad.dtype == dtype and a.grad.dtype == dtype


def test_prelu_at_zero_on_channels():
    """(N, C, H, W) input with one slope per channel: each channel's zeros take its slope."""
    x = Value(np.zeros((2, 3, 2, 2)))
    a = Value(np.array([0.1, 0.2, 0.3]))
    F.prelu(x, a).backward(np.ones((2, 3, 2, 2)))
    np.testing.assert_allclose(x.grad, np.broadcast_to(a.data[:, None, None], (2, 3, 2, 2)))
    np.testing.assert_array_equal(a.grad, 0.0)


# -- ties ------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_max_ties_share_the_gradient_equally(dtype):
    x = Value(np.array([1.0, 3.0, 3.0, 3.0, 2.0], dtype=dtype))
    x.max().backward()
    np.testing.assert_allclose(x.grad, [0, 1 / 3, 1 / 3, 1 / 3, 0], rtol=1e-6)
    assert x.grad.dtype == dtype and x.grad.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("keepdims", [False, True])
def test_max_ties_are_counted_per_slice(keepdims):
    """Each row shares its own upstream gradient among its own tied maxima."""
    x = Value(np.array([[1.0, 3.0, 3.0], [2.0, 5.0, 1.0], [4.0, 4.0, 4.0]]))
    y = x.max(axis=1, keepdims=keepdims)
    g = np.array([6.0, 10.0, 3.0])
    y.backward(g[:, None] if keepdims else g)
    np.testing.assert_allclose(x.grad, [[0, 3, 3], [0, 10, 0], [1, 1, 1]])


def test_max_ties_over_several_axes():
    x = Value(np.array([[[2.0, 0.0], [2.0, 1.0]], [[0.0, 0.0], [0.0, 7.0]]]))
    x.max(axis=(1, 2)).backward(np.array([4.0, 1.0]))
    np.testing.assert_allclose(x.grad, [[[2, 0], [2, 0]], [[0, 0], [0, 1]]])


def test_max_ties_on_a_scalar_is_the_identity():
    x = Value(2.5)
    x.max().backward()
    assert x.grad == 1.0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_maxout_tie_goes_to_the_first_winner(dtype):
    """Ties: the first (lowest index) of a unit's k pieces takes the whole gradient."""
    z = Value(np.array([[1.0, 1.0, 0.0, 2.0, 2.0, 2.0], [3.0, 0.0, 5.0, 5.0, -1.0, -1.0]],
                       dtype=dtype))
    y = F.maxout(z, 2)  # units: (1, 1) (0, 2) (2, 2) / (3, 0) (5, 5) (-1, -1)
    y.backward(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=dtype))
    np.testing.assert_array_equal(z.grad, [[1, 0, 0, 2, 3, 0], [4, 0, 5, 0, 6, 0]])
    assert z.grad.dtype == dtype


def test_maxout_three_way_tie():
    z = Value(np.array([[0.5, 0.5, 0.5]]))
    F.maxout(z, 3).backward(np.array([[7.0]]))
    np.testing.assert_array_equal(z.grad, [[7.0, 0.0, 0.0]])


def test_max_pool_tie_goes_to_the_first_maximum_in_row_major_order():
    x = Value(np.array([[[[0.0, 1.0, 4.0, 4.0],
                          [1.0, 1.0, 4.0, 4.0],
                          [2.0, 0.0, 0.0, 3.0],
                          [2.0, 2.0, 3.0, 0.0]]]]))
    F.max_pool2d(x, 2).backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    np.testing.assert_array_equal(x.grad[0, 0], [[0, 1, 2, 0],
                                                 [0, 0, 0, 0],
                                                 [3, 0, 0, 4],
                                                 [0, 0, 0, 0]])


def test_max_pool_overlapping_windows_add_up_where_they_share_the_winner():
    x = Value(np.array([[[[1.0, 5.0, 1.0], [5.0, 1.0, 5.0], [1.0, 1.0, 1.0]]]]))
    F.max_pool2d(x, 2, stride=1).backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    # windows: TL -> (0,1) first of (0,1),(1,0); TR -> (0,1) first of (0,1),(1,2);
    # BL -> (1,0); BR -> (1,2)
    np.testing.assert_array_equal(x.grad[0, 0], [[0, 3, 0], [3, 0, 4], [0, 0, 0]])


def test_svm_loss_at_a_margin_of_exactly_zero_has_no_gradient():
    """Docs: at a margin of exactly 0 the hinge's gradient is 0."""
    x = Value(np.array([[2.0, 1.0, 0.5]]))  # class 0: margins 1 - 2 + 1 = 0 and -0.5
    F.svm_loss(x, np.array([0])).backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 0.0, 0.0]])


# -- against PyTorch, where the docs say "as PyTorch" -----------------------------------------

def _torch():
    return pytest.importorskip("torch")


def _ours_and_torch(our_fn, torch_fn, x: np.ndarray, g: np.ndarray):
    torch = _torch()
    v = Value(x.copy())
    our_fn(v).backward(g)
    t = torch.tensor(x, requires_grad=True)
    torch_fn(t).backward(torch.tensor(g))
    return v.grad, t.grad.numpy()


POINTS = np.array([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0])


def _torch_cases():
    def tf(name, *args):
        def call(t):
            import torch.nn.functional as TF

            return getattr(TF, name)(t, *args)
        return call

    return [
        ("relu", F.relu, tf("relu")),
        ("leaky_relu", lambda v: F.leaky_relu(v, SLOPE), tf("leaky_relu", SLOPE)),
        ("elu", lambda v: F.elu(v, ALPHA), tf("elu", ALPHA)),
        ("elu_default", F.elu, tf("elu")),
        ("abs", lambda v: v.abs(), lambda t: t.abs()),
        ("clip", lambda v: v.clip(-1.0, 1.0), lambda t: t.clamp(-1.0, 1.0)),
        ("clip_lo", lambda v: v.clip(0.0, None), lambda t: t.clamp(min=0.0)),
        ("clip_hi", lambda v: v.clip(None, 0.5), lambda t: t.clamp(max=0.5)),
    ]


@pytest.mark.parametrize("case", _torch_cases(), ids=lambda c: c[0])
def test_kinks_match_pytorch(case):
    _, ours, theirs = case
    g = np.linspace(1.0, 2.0, POINTS.size)
    mine, ref = _ours_and_torch(ours, theirs, POINTS, g)
    np.testing.assert_allclose(mine, ref, rtol=1e-12, atol=0)


def test_prelu_kink_matches_pytorch():
    torch = _torch()
    x = np.array([[-1.0, 0.0, 2.0], [0.0, -3.0, 0.0]])
    alpha = np.array([0.1, 0.2, 0.3])
    g = np.arange(1.0, 7.0).reshape(2, 3)
    v, a = Value(x), Value(alpha)
    F.prelu(v, a).backward(g)
    tv = torch.tensor(x, requires_grad=True)
    ta = torch.tensor(alpha, requires_grad=True)
    torch.nn.functional.prelu(tv, ta).backward(torch.tensor(g))
    np.testing.assert_allclose(v.grad, tv.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(a.grad, ta.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_max_ties_match_torch_amax(axis):
    torch = _torch()
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [0.0, 5.0, 1.0]])
    v = Value(x)
    t = torch.tensor(x, requires_grad=True)
    y = v.max(axis=axis)
    ty = torch.amax(t, dim=() if axis is None else axis)
    g = np.arange(1.0, 1.0 + y.size).reshape(y.shape)
    y.backward(g)
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(v.grad, t.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("kernel,stride,padding", [(2, 2, 0), (2, 1, 0), (3, 1, 1), (3, 2, 1)])
def test_max_pool_ties_match_pytorch(kernel, stride, padding):
    torch = _torch()
    rng = np.random.default_rng(3)
    x = rng.integers(0, 3, size=(2, 2, 5, 6)).astype(np.float64)  # many ties
    v = Value(x)
    y = F.max_pool2d(v, kernel, stride, padding)
    g = rng.standard_normal(y.shape)
    y.backward(g)
    t = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.max_pool2d(t, kernel, stride, padding)
    ty.backward(torch.tensor(g))
    np.testing.assert_array_equal(y.data, ty.detach().numpy())
    np.testing.assert_allclose(v.grad, t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_edges_match_pytorch():
    """sqrt'(0) = inf and log'(0) = inf (with log(0) = -inf), as PyTorch."""
    torch = _torch()
    for ours, theirs in [(lambda v: v.sqrt(), torch.sqrt), (lambda v: v.log(), torch.log)]:
        with np.errstate(divide="ignore"):
            mine, ref = _ours_and_torch(ours, theirs, np.array([0.0, 1.0]), np.ones(2))
        np.testing.assert_array_equal(mine, ref)


def test_edges_documented_values():
    with np.errstate(divide="ignore"):
        for fn in (lambda v: v.sqrt(), lambda v: v.log()):
            for v in (Value(np.array([0.0])), Value(0.0)):
                fn(v).backward(np.ones(v.shape))
                assert np.all(np.isposinf(v.grad))
