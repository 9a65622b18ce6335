"""Layer ops: batch norm (both modes, both layouts), layer norm, dropout, conv2d, max pool.

Property tests check every backward pass against central finite differences in float64
(gradcheck through hypothesis); known-value cases check the forward passes against tiny
hand-computed or loop-computed references; errors are asserted by their text.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_lite.functional as F
from tinygrad_lite import Value, gradcheck
from tinygrad_lite.testing import arrays

# ---------------------------------------------------------------- references (plain loops)

def conv2d_reference(x, w, b, stride, padding):
    """Cross-correlation with explicit loops over every output element."""
    sh, sw = stride
    ph, pw = padding
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    ho, wo = (h + 2 * ph - kh) // sh + 1, (wd + 2 * pw - kw) // sw + 1
    out = np.zeros((n, f, ho, wo))
    for i in range(n):
        for k in range(f):
            for r in range(ho):
                for q in range(wo):
                    patch = xp[i, :, r * sh:r * sh + kh, q * sw:q * sw + kw]
                    out[i, k, r, q] = (patch * w[k]).sum() + (b[k] if b is not None else 0.0)
    return out


def max_pool_reference(x, k, s, p):
    """Max pooling with loops; also the gradient of sum(out * up) with first-winner ties."""
    (kh, kw), (sh, sw), (ph, pw) = k, s, p
    n, c, h, wd = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)
    ho, wo = (h + 2 * ph - kh) // sh + 1, (wd + 2 * pw - kw) // sw + 1
    out = np.zeros((n, c, ho, wo))
    arg = np.zeros((n, c, ho, wo, 2), dtype=int)
    for i in range(n):
        for j in range(c):
            for r in range(ho):
                for q in range(wo):
                    win = xp[i, j, r * sh:r * sh + kh, q * sw:q * sw + kw]
                    a, b = np.unravel_index(np.argmax(win), win.shape)  # first maximum
                    out[i, j, r, q] = win[a, b]
                    arg[i, j, r, q] = (r * sh + a - ph, q * sw + b - pw)
    return out, arg


# ---------------------------------------------------------------- batch norm

def _spread(shape):
    """A per-position offset that keeps every channel's variance well away from 0."""
    return 0.6 * np.arange(np.prod(shape)).reshape(shape) % 1.7


bn_layouts = st.sampled_from(["2d", "4d"])


@st.composite
def bn_case(draw):
    layout = draw(bn_layouts)
    n = draw(st.integers(2, 4))
    c = draw(st.integers(1, 3))
    shape = (n, c) if layout == "2d" else (n, c, draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    x = draw(arrays(shape, -2, 2)) + _spread(shape)
    gamma = draw(arrays((c,), -2, 2))
    beta = draw(arrays((c,), -2, 2))
    return x, gamma, beta


@given(bn_case())
def test_batch_norm_training_gradcheck(case):
    x, gamma, beta = case
    c = x.shape[1]
    rm, rv = np.zeros(c), np.ones(c)
    assert gradcheck(lambda a, g, b: F.batch_norm(a, g, b, rm, rv, training=True), x, gamma, beta)


@given(bn_case(), arrays(st.just((3,)), -1, 1), arrays(st.just((3,)), 0.2, 2))
def test_batch_norm_eval_gradcheck(case, rm, rv):
    x, gamma, beta = case
    c = x.shape[1]
    rm, rv = rm[:c].copy(), rv[:c].copy()
    before = (rm.copy(), rv.copy())
    assert gradcheck(lambda a, g, b: F.batch_norm(a, g, b, rm, rv, training=False), x, gamma, beta)
    np.testing.assert_array_equal(rm, before[0])  # evaluation never changes the statistics
    np.testing.assert_array_equal(rv, before[1])


def test_batch_norm_known_values_and_running_stats():
    x = np.array([[1.0, 10.0], [3.0, 14.0]])  # feature 0: mean 2, var 1; feature 1: mean 12, var 4
    rm, rv = np.zeros(2), np.ones(2)
    y = F.batch_norm(Value(x), np.array([1.0, 2.0]), np.array([0.0, 5.0]), rm, rv,
                     momentum=0.1, eps=0.0)
    np.testing.assert_allclose(y.data, [[-1.0, 3.0], [1.0, 7.0]])
    np.testing.assert_allclose(rm, [0.2, 1.2])  # 0.9 * 0 + 0.1 * mean
    # running_var uses the unbiased variance: 2 and 8, not 1 and 4
    np.testing.assert_allclose(rv, [0.9 + 0.2, 0.9 + 0.8])


def test_batch_norm_spatial_uses_one_mean_and_std_per_channel():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 5, 6)) * np.array([1.0, 5.0, 0.1])[:, None, None] + 7.0
    rm, rv = np.zeros(3), np.ones(3)
    y = F.batch_norm(Value(x), np.ones(3), np.zeros(3), rm, rv, momentum=1.0).data
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1.0, rtol=1e-3)  # eps shrinks it slightly
    # momentum 1: the running statistics are the batch's (the variance unbiased)
    np.testing.assert_allclose(rm, x.mean(axis=(0, 2, 3)))
    np.testing.assert_allclose(rv, x.transpose(1, 0, 2, 3).reshape(3, -1).var(axis=1, ddof=1))


def test_batch_norm_eval_uses_running_statistics():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 2, 3, 3))
    rm, rv = np.array([0.5, -1.0]), np.array([4.0, 0.25])
    g, b = np.array([2.0, 3.0]), np.array([0.1, 0.2])
    y = F.batch_norm(Value(x), g, b, rm, rv, training=False, eps=1e-5).data
    expect = (x - rm[:, None, None]) / np.sqrt(rv[:, None, None] + 1e-5) * g[:, None, None] \
        + b[:, None, None]
    np.testing.assert_allclose(y, expect)


def test_batch_norm_is_one_op_with_a_fused_backward():
    x, g, b = Value(np.ones((4, 3)) + np.eye(4, 3)), Value(np.ones(3)), Value(np.zeros(3))
    y = F.batch_norm(x, g, b)
    assert y.op == "batch_norm"
    assert y.parents == (x, g, b)  # no chain of small ops underneath


def test_batch_norm_constant_feature_stays_finite():
    x = Value(np.column_stack([np.full(6, 3.0), np.arange(6.0)]))
    g = Value(np.ones(2))
    b = Value(np.zeros(2))
    y = F.batch_norm(x, g, b)
    up = np.random.default_rng(0).standard_normal((6, 2))
    y.backward(up)
    assert np.all(np.isfinite(y.data)) and np.all(np.isfinite(x.grad))
    np.testing.assert_allclose(y.data[:, 0], 0.0)
    # var = 0: x_hat = 0, and the gradient is (g - mean(g)) / sqrt(eps), large but finite
    np.testing.assert_allclose(x.grad[:, 0], (up[:, 0] - up[:, 0].mean()) / np.sqrt(1e-5))
    np.testing.assert_allclose(g.grad[0], 0.0, atol=1e-12)


@pytest.mark.parametrize("shape", [(1, 3), (1, 2, 1, 1)])
def test_batch_norm_one_value_per_channel_when_training_is_an_error(shape):
    c = shape[1]
    with pytest.raises(ValueError, match=r"batch_norm: expected more than 1 value per channel"):
        F.batch_norm(np.ones(shape), np.ones(c), np.zeros(c))
    # evaluation has no such limit
    y = F.batch_norm(np.ones(shape), np.ones(c), np.zeros(c), np.zeros(c), np.ones(c),
                     training=False)
    assert y.shape == shape


def test_batch_norm_errors_name_op_and_shapes():
    with pytest.raises(ValueError, match=r"batch_norm: gamma of shape \(2,\) does not match the 3"):
        F.batch_norm(np.ones((4, 3)), np.ones(2), np.zeros(3))
    with pytest.raises(ValueError, match=r"batch_norm: evaluation .* needs running_mean"):
        F.batch_norm(np.ones((4, 3)), np.ones(3), np.zeros(3), training=False)
    with pytest.raises(ValueError, match=r"running_var of shape \(2,\) does not match"):
        F.batch_norm(np.ones((4, 3)), np.ones(3), np.zeros(3), np.zeros(3), np.ones(2))
    with pytest.raises(ValueError, match=r"batch_norm: expected input of shape \(N, C\)"):
        F.batch_norm(np.ones(4), np.ones(4), np.zeros(4))


def test_batch_norm_float32_stays_float32_and_input_grads_match():
    rng = np.random.default_rng(2)
    x = Value(rng.standard_normal((8, 4, 3, 3)).astype(np.float32))
    g = Value(np.ones(4, np.float32))
    b = Value(np.zeros(4, np.float32))
    y = F.batch_norm(x, g, b, np.zeros(4, np.float32), np.ones(4, np.float32))
    assert y.dtype == np.float32
    up = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(up)
    assert x.grad.dtype == np.float32
    gx, gg, gb = y.ctx.input_grads(up)  # what a drawing recomputes equals what backward sent
    np.testing.assert_allclose(gx, x.grad, rtol=1e-6)
    np.testing.assert_allclose(gb, up.sum(axis=(0, 2, 3)), rtol=1e-5)


def test_batch_norm_zero_upstream_gradient_gives_zero_gradients():
    x, g, b = Value(np.arange(12.0).reshape(4, 3) ** 1.5), Value(np.ones(3)), Value(np.ones(3))
    F.batch_norm(x, g, b).backward(np.zeros((4, 3)))
    for v in (x, g, b):
        np.testing.assert_array_equal(v.grad, 0.0)


# ---------------------------------------------------------------- layer norm

@st.composite
def ln_case(draw):
    lead = draw(st.lists(st.integers(1, 3), min_size=1, max_size=2))
    d = draw(st.integers(2, 5))
    shape = tuple(lead) + (d,)
    x = draw(arrays(shape, -2, 2)) + _spread(shape)
    return x, draw(arrays((d,), -2, 2)), draw(arrays((d,), -2, 2))


@given(ln_case())
def test_layer_norm_gradcheck(case):
    assert gradcheck(lambda a, g, b: F.layer_norm(a, g, b), *case)


def test_layer_norm_known_values():
    x = np.array([[1.0, 3.0], [0.0, 10.0]])
    y = F.layer_norm(Value(x), np.array([1.0, 2.0]), np.array([0.5, 0.0]), eps=0.0)
    np.testing.assert_allclose(y.data, [[-0.5, 2.0], [-0.5, 2.0]])


def test_layer_norm_normalizes_each_example_and_matches_over_trailing_axes():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 3, 5)) * 3 + 2
    y = F.layer_norm(x, np.ones(5), np.zeros(5)).data
    np.testing.assert_allclose(y.mean(-1), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(-1), 1.0, rtol=1e-3)
    y2 = F.layer_norm(x, np.ones((3, 5)), np.zeros((3, 5))).data  # PyTorch's normalized_shape
    np.testing.assert_allclose(y2.reshape(4, -1).mean(-1), 0.0, atol=1e-12)
    assert gradcheck(lambda a, g, b: F.layer_norm(a, g, b), x[:2], rng.standard_normal((3, 5)),
                     rng.standard_normal((3, 5)))


def test_layer_norm_errors():
    with pytest.raises(ValueError, match=r"layer_norm: gamma of shape \(4,\) does not match"):
        F.layer_norm(np.ones((2, 5)), np.ones(4), np.zeros(4))


# ---------------------------------------------------------------- dropout

@given(arrays(st.tuples(st.integers(1, 4), st.integers(1, 5)), -3, 3),
       st.sampled_from([0.1, 0.5, 0.8]), st.integers(0, 2 ** 16))
def test_dropout_gradcheck(x, p, seed):
    assert gradcheck(lambda a: F.dropout(a, p, rng=np.random.default_rng(seed)), x)


def test_dropout_is_inverted_and_drops_a_fraction_p():
    x = Value(np.full((200, 500), 2.0))
    y = F.dropout(x, 0.3, rng=np.random.default_rng(0)).data
    kept = y != 0
    assert abs(1 - kept.mean() - 0.3) < 0.01
    np.testing.assert_allclose(y[kept], 2.0 / 0.7)
    assert abs(y.mean() - 2.0) < 0.02  # expectation preserved: evaluation needs no rescale


def test_dropout_gradient_uses_the_same_mask():
    x = Value(np.arange(1.0, 13.0).reshape(3, 4))
    y = F.dropout(x, 0.5, rng=np.random.default_rng(4))
    y.backward(np.ones((3, 4)))
    np.testing.assert_allclose(x.grad, (y.data != 0) * 2.0)
    np.testing.assert_allclose(y.ctx.local_grad(0), x.grad)


def test_dropout_identity_cases_and_seeding():
    x = Value(np.ones((3, 4)))
    assert F.dropout(x, 0.0) is x
    assert F.dropout(x, 0.7, training=False) is x
    np.testing.assert_array_equal(F.dropout(x, 1.0, rng=0).data, 0.0)
    a = F.dropout(x, 0.5, rng=np.random.default_rng(7)).data
    b = F.dropout(x, 0.5, rng=np.random.default_rng(7)).data
    np.testing.assert_array_equal(a, b)
    f32 = Value(np.ones((3, 4), np.float32))
    assert F.dropout(f32, 0.5, rng=0).dtype == np.float32


def test_dropout_errors():
    with pytest.raises(ValueError, match=r"dropout: p is the probability .* \[0, 1\], got 1.5"):
        F.dropout(np.ones(3), 1.5)
    with pytest.raises(TypeError, match=r"dropout: rng must be"):
        F.dropout(np.ones(3), 0.5, rng="seed")


# ---------------------------------------------------------------- conv2d

@st.composite
def conv_case(draw):
    n, c, f = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 1)), draw(st.integers(0, 1)))
    h = draw(st.integers(max(1, kh - 2 * padding[0]), 5))
    w = draw(st.integers(max(1, kw - 2 * padding[1]), 5))
    x = draw(arrays((n, c, h, w), -2, 2))
    wt = draw(arrays((f, c, kh, kw), -2, 2))
    b = draw(st.none() | arrays((f,), -2, 2))
    return x, wt, b, stride, padding


@given(conv_case())
def test_conv2d_forward_matches_loops_and_gradcheck(case):
    x, w, b, stride, padding = case
    y = F.conv2d(x, w, b, stride=stride, padding=padding)
    np.testing.assert_allclose(y.data, conv2d_reference(x, w, b, stride, padding), atol=1e-12)
    if b is None:
        assert gradcheck(lambda a, k: F.conv2d(a, k, stride=stride, padding=padding), x, w)
    else:
        assert gradcheck(lambda a, k, c: F.conv2d(a, k, c, stride=stride, padding=padding),
                         x, w, b)


def test_conv2d_known_value_and_shapes():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    w = np.ones((1, 1, 2, 2))
    y = F.conv2d(x, w, np.array([1.0]), stride=2)
    np.testing.assert_allclose(y.data, [[[[0 + 1 + 4 + 5 + 1, 2 + 3 + 6 + 7 + 1],
                                          [8 + 9 + 12 + 13 + 1, 10 + 11 + 14 + 15 + 1]]]])
    assert F.conv2d(np.zeros((2, 3, 32, 32)), np.zeros((16, 3, 3, 3)), padding=1).shape \
        == (2, 16, 32, 32)
    assert F.conv2d(np.zeros((2, 3, 7, 9)), np.zeros((4, 3, 3, 5)), stride=(2, 3)).shape \
        == (2, 4, 3, 2)


def test_conv2d_float32_and_gradient_only_where_needed():
    rng = np.random.default_rng(5)
    x = Value(rng.standard_normal((2, 3, 6, 6)).astype(np.float32), requires_grad=False)
    w = Value(rng.standard_normal((4, 3, 3, 3)).astype(np.float32))
    b = Value(np.zeros(4, np.float32))
    y = F.conv2d(x, w, b, padding=1)
    assert y.dtype == np.float32
    y.backward(np.ones(y.shape, np.float32))
    assert x.grad is None and w.grad.dtype == np.float32
    np.testing.assert_allclose(b.grad, np.full(4, 2 * 36.0))


def test_conv2d_errors_name_op_and_shapes():
    with pytest.raises(ValueError, match=r"conv2d: input of shape \(1, 3, 5, 5\) has 3 channels "
                                         r"but weight of shape \(2, 4, 3, 3\) expects 4"):
        F.conv2d(np.zeros((1, 3, 5, 5)), np.zeros((2, 4, 3, 3)))
    with pytest.raises(ValueError, match=r"conv2d: the kernel height \(5\) is larger"):
        F.conv2d(np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 5, 1)))
    with pytest.raises(ValueError, match=r"conv2d: expected input of shape \(N, C, H, W\)"):
        F.conv2d(np.zeros((3, 5, 5)), np.zeros((1, 3, 3, 3)))
    with pytest.raises(ValueError, match=r"conv2d: stride must be >= 1"):
        F.conv2d(np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 2, 2)), stride=0)
    with pytest.raises(ValueError, match=r"conv2d: bias of shape \(3,\) does not match the 2"):
        F.conv2d(np.zeros((1, 1, 3, 3)), np.zeros((2, 1, 2, 2)), np.zeros(3))


# ---------------------------------------------------------------- max pool

@st.composite
def pool_case(draw):
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = draw(st.none() | st.tuples(st.integers(1, 3), st.integers(1, 3)))
    padding = (draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2)))
    h = draw(st.integers(max(1, kh - 2 * padding[0]), 6))
    w = draw(st.integers(max(1, kw - 2 * padding[1]), 6))
    size = n * c * h * w
    # distinct values, far apart compared with the finite-difference step: no ties
    perm = draw(st.permutations(list(range(size))))
    x = (np.array(perm, dtype=float) * 0.37 - size * 0.1).reshape(n, c, h, w)
    return x, (kh, kw), stride, padding


@given(pool_case())
def test_max_pool_forward_matches_loops_and_gradcheck(case):
    x, k, stride, padding = case
    y = F.max_pool2d(x, k, stride, padding)
    ref, _ = max_pool_reference(x, k, k if stride is None else stride, padding)
    np.testing.assert_array_equal(y.data, ref)
    assert gradcheck(lambda a: F.max_pool2d(a, k, stride, padding), x)


def test_max_pool_ties_go_to_the_first_maximum():
    x = Value(np.zeros((1, 1, 4, 4)))  # every window all tied, as after a dead ReLU
    y = F.max_pool2d(x, 2)
    y.backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    expect = np.zeros((4, 4))
    expect[0, 0], expect[0, 2], expect[2, 0], expect[2, 2] = 1, 2, 3, 4
    np.testing.assert_array_equal(x.grad[0, 0], expect)
    assert x.grad.sum() == 10  # the gradient is routed, never duplicated


def test_max_pool_overlapping_windows_with_ties_match_reference():
    rng = np.random.default_rng(6)
    x = np.maximum(rng.standard_normal((2, 2, 5, 6)), 0).round(1)  # many ties
    for k, s, p in [((2, 3), (1, 2), (0, 0)), ((3, 3), (1, 1), (1, 1))]:
        v = Value(x)
        out = F.max_pool2d(v, k, s, p)
        g = rng.standard_normal(out.shape)
        out.backward(g)
        ref, arg = max_pool_reference(x, k, s, p)
        np.testing.assert_array_equal(out.data, ref)
        expect = np.zeros_like(x)
        for idx in np.ndindex(out.shape):
            r, q = arg[idx]
            expect[idx[0], idx[1], r, q] += g[idx]
        np.testing.assert_allclose(v.grad, expect)


def test_max_pool_known_value_and_floor_mode():
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    y = F.max_pool2d(x, 2)  # the last row and column are left out, as PyTorch's floor mode
    np.testing.assert_array_equal(y.data, [[[[6.0, 8.0], [16.0, 18.0]]]])
    assert F.max_pool2d(np.zeros((2, 3, 32, 32), np.float32), 2).dtype == np.float32


def test_max_pool_errors():
    with pytest.raises(ValueError, match=r"max_pool2d: expected input of shape \(N, C, H, W\)"):
        F.max_pool2d(np.zeros((4, 4)), 2)
    with pytest.raises(ValueError, match=r"max_pool2d: the kernel height \(3\) is larger"):
        F.max_pool2d(np.zeros((1, 1, 2, 5)), 3)
    with pytest.raises(ValueError, match=r"max_pool2d: padding 2 must be at most half"):
        F.max_pool2d(np.zeros((1, 1, 6, 6)), 3, padding=2)
