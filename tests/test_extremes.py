"""Numerical extremes: saturating activations and softmax losses at +-1e4 and at the float
limits stay finite, with no numpy warning; log, sqrt and pow at 0 behave as documented;
float32 stays float32 from input to gradient.

"No numpy warning" means: every warning is an error, and numpy raises on overflow, division
by zero and invalid values. Underflow keeps numpy's default (ignored): exp(-1e4) rounding
to 0 is the right answer, not a fault.
"""
import contextlib
import warnings

import numpy as np
import pytest

import tinygrad_lite.functional as F
from tinygrad_lite import Value, backward_order

F32 = np.finfo(np.float32)
F64 = np.finfo(np.float64)


@contextlib.contextmanager
def strict():
    """Any numpy warning (or any warning at all) becomes an error."""
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        yield


# Rows of logits/pre-activations: each row spans at most finfo.max, so every exact answer is
# representable. (Rows spanning more are tested apart below.)
EXTREME_INPUTS = {
    "1e4 float64": np.array([[-1e4, 0.0, 1e4], [1e4, 1e4, -1e4]]),
    "1e4 float32": np.array([[-1e4, 0.0, 1e4], [1e4, 1e4, -1e4]], dtype=np.float32),
    "float32 max": np.array([[F32.max, 0.0, 1.0], [-F32.max, 0.0, -1.0]], dtype=np.float32),
    "float32 tiny": np.array([[F32.tiny, -F32.tiny, F32.smallest_subnormal],
                              [-F32.smallest_subnormal, 0.0, F32.eps]], dtype=np.float32),
    "float32 exp edge": np.array([[88.8, -88.8, 103.0], [-104.0, 89.0, 0.0]], dtype=np.float32),
    "float64 max": np.array([[F64.max, 0.0, 1.0], [-F64.max, 0.0, -1.0]]),
    "float64 exp edge": np.array([[709.8, -709.8, 745.2], [-745.2, 710.0, 0.0]]),
}

OPS = {
    "sigmoid": F.sigmoid,
    "tanh": F.tanh,
    "elu": F.elu,
    "relu": F.relu,
    "leaky_relu": F.leaky_relu,
    "softmax": F.softmax,
    "log_softmax": F.log_softmax,
    "softmax_cross_entropy (label 0)": lambda x: F.softmax_cross_entropy(x, np.array([0, 0])),
    "softmax_cross_entropy (label 2)": lambda x: F.softmax_cross_entropy(x, np.array([2, 2])),
}


@pytest.mark.parametrize("case", list(EXTREME_INPUTS))
@pytest.mark.parametrize("name", list(OPS))
def test_finite_outputs_and_gradients_without_warnings(name, case):
    arr = EXTREME_INPUTS[case]
    x = Value(arr.copy(), label="x")
    rng = np.random.default_rng(0)
    with strict():
        y = OPS[name](x)
        upstream = rng.uniform(0.5, 1.5, size=y.shape).astype(y.dtype)
        y.backward(upstream)
    assert np.all(np.isfinite(y.data)), f"{name} at {case}: output {y.data}"
    assert np.all(np.isfinite(x.grad)), f"{name} at {case}: gradient {x.grad}"
    assert y.dtype == arr.dtype and x.grad.dtype == arr.dtype


def test_exact_values_at_1e4():
    x = Value(np.array([[-1e4, 0.0, 1e4]]))
    with strict():
        np.testing.assert_array_equal(F.sigmoid(x).data, [[0.0, 0.5, 1.0]])
        np.testing.assert_array_equal(F.tanh(x).data, [[-1.0, 0.0, 1.0]])
        np.testing.assert_array_equal(F.softmax(x).data, [[0.0, 0.0, 1.0]])
        np.testing.assert_array_equal(F.log_softmax(x).data, [[-2e4, -1e4, 0.0]])
        np.testing.assert_array_equal(F.elu(x).data, [[-1.0, 0.0, 1e4]])
        assert F.softmax_cross_entropy(x, np.array([0])).item() == 2e4
        assert F.softmax_cross_entropy(x, np.array([2])).item() == 0.0


def test_exact_gradients_at_1e4():
    with strict():
        x = Value(np.array([[-1e4, 0.0, 1e4]]))
        F.softmax_cross_entropy(x, np.array([0])).backward()
        np.testing.assert_array_equal(x.grad, [[-1.0, 0.0, 1.0]])  # softmax - onehot
        s = Value(np.array([-1e4, 1e4]))
        F.sigmoid(s).backward(np.ones(2))
        np.testing.assert_array_equal(s.grad, [0.0, 0.0])  # saturated: vanished, not NaN
        e = Value(np.array([-1e4, 1e4]))
        F.elu(e).backward(np.ones(2))
        np.testing.assert_array_equal(e.grad, [0.0, 1.0])


@pytest.mark.parametrize("alpha", [1.0, 1.5])
@pytest.mark.parametrize("x, dtype", [(-20.0, np.float32), (-30.0, np.float32),
                                      (-40.0, np.float64), (-700.0, np.float64)])
@pytest.mark.parametrize("form", ["array", "scalar", "method"])
def test_elu_gradient_in_the_far_negative_tail_is_alpha_exp_x(x, dtype, alpha, form):
    """alpha * exp(x), not out + alpha (which cancels to exactly 0 below about -17 in float32
    and -37 in float64). PyTorch gives 2.06e-9 at x = -20 in float32."""
    want = alpha * np.exp(np.array(x, dtype=np.float64))
    if form == "array":
        v = Value(np.array([x, 1.0], dtype=dtype))
        with strict():
            F.elu(v, alpha).backward(np.ones(2, dtype=dtype))
        got = v.grad[0]
    else:  # 0-d: float64 takes the Python-float path, float32 a 0-d array
        v = Value(np.array(x, dtype=dtype))
        with strict():
            (v.elu(alpha) if form == "method" else F.elu(v, alpha)).backward()
        got = v.grad
    assert v.grad.dtype == dtype
    assert got > 0
    np.testing.assert_allclose(got, want, rtol=1e-6 if dtype == np.float32 else 1e-12)
    if x == -20.0 and dtype == np.float32 and alpha == 1.0:
        np.testing.assert_allclose(got, 2.0611537e-09, rtol=1e-6)


@pytest.mark.parametrize("value", [1e4, -1e4, 800.0, -800.0, F64.max, -F64.max, 0.0])
@pytest.mark.parametrize("method", ["sigmoid", "tanh", "elu", "relu"])
def test_scalar_path_at_extremes(method, value):
    x = Value(value)
    with strict():
        y = getattr(x, method)()
        y.backward()
    assert np.isfinite(y.item()) and np.isfinite(x.grad)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logits_spanning_more_than_the_dtype_range(dtype):
    """-max and +max in one row: the exact log-probability of -max (-2 max) is not
    representable, so it is -inf (as PyTorch), silently; probabilities and gradients stay finite."""
    big = np.finfo(dtype).max
    x = Value(np.array([[-big, 0.0, big]], dtype=dtype))
    with strict():
        p = F.softmax(x)
        lp = F.log_softmax(x)
        loss = F.softmax_cross_entropy(x, np.array([2]))
        loss.backward()
        lp.backward(np.ones((1, 3), dtype))
    np.testing.assert_array_equal(p.data, [[0.0, 0.0, 1.0]])
    assert lp.data[0, 0] == -np.inf and lp.data[0, 1] == -big and lp.data[0, 2] == 0.0
    assert loss.item() == 0.0
    assert np.all(np.isfinite(x.grad))


# -- log, sqrt and pow at 0: what the docstrings promise -------------------------------------
# (function, input, value, gradient, the numpy warning expected or None)
AT_ZERO = [
    ("log(0)", lambda x: x.log(), 0.0, -np.inf, np.inf, "divide by zero"),
    ("log(-1)", lambda x: x.log(), -1.0, np.nan, -1.0, "invalid value"),
    ("sqrt(0)", lambda x: x.sqrt(), 0.0, 0.0, np.inf, None),
    ("sqrt(-1)", lambda x: x.sqrt(), -1.0, np.nan, np.nan, "invalid value"),
    ("0 ** 2", lambda x: x ** 2, 0.0, 0.0, 0.0, None),
    ("0 ** 3", lambda x: x ** 3, 0.0, 0.0, 0.0, None),
    ("0 ** 1", lambda x: x ** 1, 0.0, 0.0, 1.0, None),
    ("0 ** 0", lambda x: x ** 0, 0.0, 1.0, 0.0, None),
    ("0 ** 0.5", lambda x: x ** 0.5, 0.0, 0.0, np.inf, "divide by zero"),
    ("0 ** 2.5", lambda x: x ** 2.5, 0.0, 0.0, 0.0, None),
    ("0 ** -1", lambda x: x ** -1, 0.0, np.inf, -np.inf, "divide by zero"),
    ("0 ** -0.5", lambda x: x ** -0.5, 0.0, np.inf, -np.inf, "divide by zero"),
]


def _run_edge(fn, x):
    y = fn(x)
    y.backward(np.ones(y.shape, y.dtype))
    return y


@pytest.mark.parametrize("form", ["scalar", "array float64", "array float32"])
@pytest.mark.parametrize("case", AT_ZERO, ids=[c[0] for c in AT_ZERO])
def test_log_sqrt_pow_at_zero(case, form):
    _, fn, x0, value, grad, warning = case
    x = {"scalar": lambda: Value(x0),
         "array float64": lambda: Value(np.array([x0])),
         "array float32": lambda: Value(np.array([x0], dtype=np.float32))}[form]()
    if warning is None:
        with strict():
            y = _run_edge(fn, x)
    else:
        with pytest.warns(RuntimeWarning, match=warning):
            y = _run_edge(fn, x)
    np.testing.assert_array_equal(np.ravel(y.data), [value])
    np.testing.assert_array_equal(np.ravel(x.grad), [grad])
    assert y.dtype == x.dtype and x.grad.dtype == x.dtype


def test_pow_zero_exponent_gradient_is_zero_everywhere():
    x = Value(np.array([-2.0, 0.0, 3.0]))
    with strict():
        (x ** 0).backward(np.ones(3))
    np.testing.assert_array_equal(x.grad, np.zeros(3))


def test_fractional_power_of_negative_is_an_error_not_nan():
    with pytest.raises(ValueError, match=r"pow: fractional power 0\.5 of a negative base"):
        Value(np.array([-1.0, 4.0])) ** 0.5
    with pytest.raises(ValueError, match=r"pow: fractional power"):
        Value(-1.0) ** 0.5


# -- float32 end to end ----------------------------------------------------------------------
def test_float32_end_to_end_through_a_network():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((8, 5)).astype(np.float32)
    y = rng.integers(0, 3, size=8)
    W1 = Value((rng.standard_normal((5, 4)) * 0.5).astype(np.float32), label="W1")
    b1 = Value(np.zeros(4, np.float32), label="b1")
    W2 = Value((rng.standard_normal((4, 3)) * 0.5).astype(np.float32), label="W2")
    alpha = Value(np.float32(0.1) * np.ones(4, np.float32), label="alpha")
    with strict():
        h = F.linear(Value(X), W1, b1)
        a = F.prelu(h, alpha) * 0.5 + F.tanh(h) - F.sigmoid(h) / 2.0 + F.elu(h) ** 2
        s = F.maxout(F.linear(a, W2).reshape(8, 3, 1).transpose(0, 2, 1), 1).sum(axis=1)
        loss = (F.softmax_cross_entropy(s, y) + F.svm_loss(s, y)
                + F.mse_loss(F.softmax(s), F.log_softmax(s).exp()))
        loss = loss + (W1 * W1).sum() * 1e-3 + s.max() * 0.0 + s.mean() * 0.0
        loss.backward()
    nodes = backward_order(loss)
    assert len(nodes) > 20
    for v in nodes:
        assert v.dtype == np.float32, f"{v.op or v.label} became {v.dtype}"
        assert v.grad is not None and v.grad.dtype == np.float32, f"grad of {v.op or v.label}"
    for p in (W1, b1, W2, alpha):
        assert np.all(np.isfinite(p.grad)) and np.any(p.grad != 0)


def test_float32_with_python_numbers_and_promotion_with_float64_arrays():
    x = Value(np.ones(3, np.float32))
    assert (x * 2.0 + 1 - 3.5 / x).dtype == np.float32
    assert (2 ** x).dtype == np.float32
    assert (x * np.ones(3)).dtype == np.float64  # numpy's promotion between arrays


def _float32_convnet(rng):
    from tinygrad_lite import nn

    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1, rng=rng), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(4 * 4 * 4, 8, rng=rng), nn.LayerNorm(8), nn.PReLU(),
        nn.Dropout(0.2, rng=0), nn.Linear(8, 3, rng=rng), nn.Tanh(),
    ).to(np.float32)


@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
def test_float32_training_steps_with_layers_and_optimizers(opt_name):
    """Layers, losses and optimizers keep float32: data, gradients, buffers, optimizer state."""
    from tinygrad_lite import optim

    rng = np.random.default_rng(0)
    model = _float32_convnet(rng)
    make = {"SGD": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=1e-4),
            "Adam": lambda ps: optim.Adam(ps, lr=1e-2, weight_decay=1e-4)}[opt_name]
    opt = make(list(model.parameters()))
    X = Value(rng.standard_normal((6, 3, 8, 8)).astype(np.float32), requires_grad=False)
    y = np.array([0, 1, 2, 0, 1, 2])
    losses = []
    with strict():
        for _ in range(5):
            opt.zero_grad()
            loss = F.softmax_cross_entropy(model(X), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    assert loss.dtype == np.float32
    assert losses[-1] < losses[0]
    for name, p in model.named_parameters():
        assert p.dtype == np.float32 and p.grad.dtype == np.float32, name
    for name, b in model.named_buffers():
        assert b.dtype.kind != "f" or b.dtype == np.float32, name
    for st in opt.state.values():
        for k, v in st.items():
            if isinstance(v, np.ndarray):
                assert v.dtype == np.float32, k
