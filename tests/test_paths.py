"""Gradients through every way the engine can execute an op, each path named in the test id.

The op table of ``test_ops.py`` (plus the Value-method forms of the activations, which take
the methods' fast paths) runs through:

* ``scalar-f64``: Python-float scalars (float64 0-d Values), ``scalar-f32``: 0-d float32;
* ``array-f64`` and ``array-f32`` (float32 is compared with the float64 result at float32
  tolerance, and must stay float32);
* ``without-grad-i``: input i does not require grad: the others' gradients stay right and
  input i's stays None;
* ``same-value``: one Value as both operands (``x * x``, ``x + x``, ``x - x``);
* ``consumers``: the op's output feeds several consumers, so the engine accumulates into an
  interior node;
* broadcasting operands on either side, number and ndarray constants on either side, batched
  matmul where only the second operand requires grad, gradients accumulated across backward
  calls, and dtypes kept.

float64 paths are compared with central finite differences, plus known values where the
derivative has a closed form. Hypothesis draws the numbers (the bounded profile of
conftest.py, fewer examples per test here: there are many tests).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_ops import CASES, INT_INPUTS, Case, _sigmoid, unary

import tinygrad_lite.functional as F
from tinygrad_lite import Value, no_grad
from tinygrad_lite.engine import backward_order
from tinygrad_lite.gradient_check import numerical_grad
from tinygrad_lite.testing import arrays

EXAMPLES = 6

# The Value methods reach the engine's fast paths; F.sigmoid and friends the general one.
METHOD_CASES = [
    Case("sigmoid_method", lambda a: a.sigmoid(), _sigmoid, unary(-6, 6)),
    Case("tanh_method", lambda a: a.tanh(), np.tanh, unary()),
    Case("relu_method", lambda a: a.relu(), lambda a: np.maximum(a, 0), unary(avoid=(0.0,))),
    Case("leaky_relu_method", lambda a: a.leaky_relu(0.1), lambda a: np.where(a > 0, a, 0.1 * a),
         unary(avoid=(0.0,))),
    Case("elu_method", lambda a: a.elu(1.5), lambda a: np.where(a > 0, a, 1.5 * np.expm1(a)),
         unary(avoid=(0.0,))),
]
TABLE = {c.name: c for c in CASES + METHOD_CASES}

# ops whose inputs may all be 0-d (elementwise ops and full reductions)
SCALAR_OK = {
    "add", "sub", "mul", "div", "rsub_number", "rdiv_number", "neg", "pow2", "pow3",
    "pow_half", "pow_minus1", "rpow", "exp", "log", "sqrt", "abs", "clip", "clip_lo", "sigmoid",
    "tanh", "relu", "leaky_relu", "elu", "sum_all", "mean_all", "max_all", "reshape",
    "transpose", "mse_loss", "sigmoid_method", "tanh_method", "relu_method",
    "leaky_relu_method", "elu_method",
}
# ops with two or more inputs that take a gradient
MULTI = [n for n, c in TABLE.items()
         if n in ("add", "sub", "mul", "div", "prelu", "matmul", "linear", "mse_loss")]
SAME_SHAPE_BINARY = ["add", "sub", "mul", "div", "mse_loss"]

RTOL, ATOL = 1e-4, 1e-5  # float64 against central differences
RTOL32 = 2e-3  # float32 against float64


# -- helpers ---------------------------------------------------------------------------------

def _consts(name: str) -> tuple:
    return INT_INPUTS.get(name, ())


def _force(xs: tuple, name: str, path: str) -> tuple:
    """The drawn inputs reshaped for the path: 0-d for scalar paths, at least 1-d for arrays."""
    consts = _consts(name)
    out = []
    for i, x in enumerate(xs):
        x = np.asarray(x)
        if i not in consts:
            if path.startswith("scalar"):
                x = np.array(x.reshape(-1)[0])
            elif x.ndim == 0 and name in SCALAR_OK:  # others draw their own shapes
                x = x.reshape(1)
        out.append(x)
    return tuple(out)


def _dtype(path: str):
    return np.float32 if path.endswith("f32") else np.float64


def _values(name: str, xs: tuple, dtype, no_grad_at=()) -> list[Value]:
    consts = _consts(name)
    vals = []
    for i, x in enumerate(xs):
        if i in consts:
            vals.append(Value(x, requires_grad=False))
        else:
            vals.append(Value(np.asarray(x, dtype=dtype), requires_grad=i not in no_grad_at))
    return vals


def _upstream(shape, dtype) -> np.ndarray:
    return np.random.default_rng(1).uniform(0.5, 1.5, shape).astype(dtype)


def _backward(fn, vals, dtype):
    out = fn(*vals)
    r = _upstream(out.shape, dtype)
    out.backward(r)
    return out, r


def _finite_differences(fn, xs: tuple, consts, r: np.ndarray, i: int) -> np.ndarray:
    """d <r, fn(xs)> / d xs[i] by central differences, in float64."""
    arrs = [np.array(x, dtype=np.float64) if j not in consts else x for j, x in enumerate(xs)]

    def f():
        with no_grad():
            vals = [Value(a, requires_grad=False) for a in arrs]
            return float(np.sum(np.asarray(fn(*vals).data, dtype=np.float64) * r))

    return numerical_grad(f, arrs[i])


def _check_f64(fn, name: str, xs: tuple, no_grad_at=(), label=""):
    """Analytic float64 gradients of <r, fn(xs)> against central differences; inputs that do
    not require grad keep grad None."""
    vals = _values(name, xs, np.float64, no_grad_at)
    out, r = _backward(fn, vals, np.float64)
    consts = _consts(name)
    for i, v in enumerate(vals):
        if i in consts or i in no_grad_at:
            assert v.grad is None, f"{label}: input {i} does not require grad but got one"
            continue
        assert v.grad is not None, f"{label}: input {i} got no gradient"
        assert v.grad.shape == v.shape and v.grad.dtype == np.float64, label
        fd = _finite_differences(fn, xs, consts, np.asarray(r, dtype=np.float64), i)
        np.testing.assert_allclose(v.grad, fd, rtol=RTOL, atol=ATOL,
                                   err_msg=f"{label}: gradient of input {i}")
    return out


def _f64_grads(fn, name: str, xs: tuple) -> list:
    vals = _values(name, xs, np.float64)
    out = fn(*vals)
    out.backward(_upstream(out.shape, np.float64))
    return [v.grad for v in vals]


def _check_f32(fn, name: str, xs: tuple, no_grad_at=(), label=""):
    """float32 gradients against the float64 ones of the same (float32-rounded) inputs."""
    consts = _consts(name)
    xs32 = tuple(x if i in consts else np.asarray(x, dtype=np.float32) for i, x in enumerate(xs))
    ref = _f64_grads(fn, name, xs32)
    vals = _values(name, xs32, np.float32, no_grad_at)
    out, _ = _backward(fn, vals, np.float32)
    assert out.dtype == np.float32, f"{label}: output {out.dtype}"
    for i, v in enumerate(vals):
        if i in consts or i in no_grad_at:
            assert v.grad is None, f"{label}: input {i} does not require grad but got one"
            continue
        assert v.grad is not None and v.grad.dtype == np.float32, f"{label}: input {i}"
        scale = 1e-3 * (1.0 + float(np.max(np.abs(ref[i]), initial=0.0)))
        np.testing.assert_allclose(v.grad, ref[i], rtol=RTOL32, atol=scale,
                                   err_msg=f"{label}: gradient of input {i}")


def _check(fn, name, xs, path, no_grad_at=()):
    label = f"{name} on {path}"
    if path.endswith("f32"):
        _check_f32(fn, name, xs, no_grad_at, label)
    else:
        _check_f64(fn, name, xs, no_grad_at, label)


# -- the op table on each path ---------------------------------------------------------------

def _table_params():
    params = []
    for name in TABLE:
        for path in ("scalar-f64", "scalar-f32", "array-f64", "array-f32"):
            if path.startswith("scalar") and name not in SCALAR_OK:
                continue
            params.append(pytest.param(name, path, id=f"{name}-{path}"))
    return params


@pytest.mark.parametrize("name,path", _table_params())
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_op_on_path(name, path, data):
    case = TABLE[name]
    xs = _force(data.draw(case.inputs), name, path)
    _check(case.fn, name, xs, path)


def _without_grad_params():
    params = []
    for name in MULTI:
        n_inputs = 3 if name == "linear" else 2
        for i in range(n_inputs):
            for path in ("scalar-f64", "scalar-f32", "array-f64", "array-f32"):
                if path.startswith("scalar") and name not in SCALAR_OK:
                    continue
                params.append(pytest.param(name, i, path, id=f"{name}-without-grad-{i}-{path}"))
    return params


@pytest.mark.parametrize("name,i,path", _without_grad_params())
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_input_without_grad(name, i, path, data):
    case = TABLE[name]
    xs = _force(data.draw(case.inputs), name, path)
    _check(case.fn, name, xs, path, no_grad_at=(i,))


@pytest.mark.parametrize("path", ["scalar-f64", "scalar-f32", "array-f64", "array-f32"])
@pytest.mark.parametrize("name", SAME_SHAPE_BINARY)
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_same_value_as_both_operands(name, path, data):
    case = TABLE[name]
    xs = _force(data.draw(case.inputs), name, path)
    x = xs[1] if name == "div" else xs[0]  # div: the divisor's domain keeps away from 0
    _check(lambda v: case.fn(v, v), f"{name}-same-value", (x,), path)


def test_same_value_known_values():
    for make in (lambda: Value(1.5), lambda: Value(np.array([1.5, -2.0]))):
        for expr, expect in [(lambda v: v * v, lambda d: 2 * d), (lambda v: v + v, lambda d: 2.0),
                             (lambda v: v - v, lambda d: 0.0), (lambda v: v / v, lambda d: 0.0)]:
            x = make()
            y = expr(x)
            y.backward(np.ones(y.shape))
            np.testing.assert_allclose(x.grad, np.broadcast_to(expect(x.data), x.shape))


def _consumers(h: Value) -> Value:
    """h used by several consumers: as the left operand twice, the right operand twice, and
    by a general op (sum), so its gradient accumulates from five places."""
    return h * 2.0 + h * h - 0.5 * h + h.sum()


@pytest.mark.parametrize("name,path", _table_params())
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_output_with_several_consumers(name, path, data):
    """<r, y> with y = 2h + h*h - 0.5h + sum(h), h = op(x): d/dh = r (1.5 + 2h) + sum(r)."""
    case = TABLE[name]
    xs = _force(data.draw(case.inputs), name, path)
    dtype = _dtype(path)
    vals = _values(name, xs, dtype)
    h = case.fn(*vals)
    y = _consumers(h)
    r = _upstream(y.shape, dtype)
    y.backward(r)
    hd = np.asarray(h.data, dtype=np.float64)
    expect = r * (1.5 + 2 * hd) + r.sum()
    assert h.grad is not None and h.grad.dtype == dtype
    tol = dict(rtol=RTOL32, atol=1e-3) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h.grad, expect, **tol, err_msg=f"{name} on {path}: interior h")
    _check(lambda *v: _consumers(case.fn(*v)), name, xs, path)


# -- known values on each path -----------------------------------------------------------------

PATHS = ["scalar-f64", "scalar-f32", "array-f64", "array-f32"]
POINTS = [-1.7, -0.4, 0.3, 1.2, 2.5]


def _on_path(points, path) -> list[Value]:
    if path == "scalar-f64":
        return [Value(float(p)) for p in points]
    if path == "scalar-f32":
        return [Value(np.float32(p), dtype=np.float32) for p in points]
    return [Value(np.array(points, dtype=_dtype(path)))]


def _grads_on_path(fn, points, path) -> np.ndarray:
    out = []
    for v in _on_path(points, path):
        y = fn(v)
        y.backward(np.full(y.shape, 2.0, dtype=y.dtype))  # upstream 2: the chain rule shows
        assert v.grad is not None and v.grad.dtype == v.dtype
        out.append(np.atleast_1d(v.grad))
    return np.concatenate(out).astype(np.float64)


def _s(x):
    return 1 / (1 + np.exp(-x))


KNOWN = [  # name, fn, d fn / dx as a function of x (away from kinks)
    ("sigmoid_method", lambda v: v.sigmoid(), lambda x: _s(x) * (1 - _s(x))),
    ("sigmoid_F", F.sigmoid, lambda x: _s(x) * (1 - _s(x))),
    ("tanh_method", lambda v: v.tanh(), lambda x: 1 - np.tanh(x) ** 2),
    ("tanh_F", F.tanh, lambda x: 1 - np.tanh(x) ** 2),
    ("relu_method", lambda v: v.relu(), lambda x: (x > 0) * 1.0),
    ("relu_F", F.relu, lambda x: (x > 0) * 1.0),
    ("leaky_relu_method", lambda v: v.leaky_relu(0.2), lambda x: np.where(x > 0, 1.0, 0.2)),
    ("elu_F", lambda v: F.elu(v, 1.5), lambda x: np.where(x > 0, 1.0, 1.5 * np.exp(x))),
    ("exp", lambda v: v.exp(), np.exp),
    ("log_abs", lambda v: v.abs().log(), lambda x: 1 / x),
    ("neg", lambda v: -v, lambda x: -np.ones_like(x)),
    ("abs", lambda v: v.abs(), np.sign),
    ("sqrt_abs", lambda v: v.abs().sqrt(), lambda x: np.sign(x) * 0.5 / np.sqrt(np.abs(x))),
    ("pow2", lambda v: v ** 2, lambda x: 2 * x),
    ("pow3", lambda v: v ** 3, lambda x: 3 * x ** 2),
    ("pow0", lambda v: v ** 0, np.zeros_like),
    ("pow_minus2", lambda v: v ** -2, lambda x: -2 * x ** -3.0),
    ("rpow", lambda v: 3.0 ** v, lambda x: np.log(3.0) * 3.0 ** x),
    ("clip", lambda v: v.clip(-1.0, 1.0), lambda x: ((x >= -1) & (x <= 1)) * 1.0),
]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("name,fn,deriv", KNOWN, ids=[k[0] for k in KNOWN])
def test_known_derivative(name, fn, deriv, path):
    got = _grads_on_path(fn, POINTS, path)
    want = 2.0 * deriv(np.array(POINTS))
    rtol = 1e-5 if path.endswith("f32") else 1e-12
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol, err_msg=f"{name} on {path}")


# -- constants on either side ----------------------------------------------------------------

# name: (expression of x and the constant c, derivative in x)
CONST_EXPRS = {
    "c*x": (lambda x, c: c * x, lambda x, c: c + 0 * x),
    "x*c": (lambda x, c: x * c, lambda x, c: c + 0 * x),
    "c+x": (lambda x, c: c + x, lambda x, c: 1 + 0 * (x + c)),
    "x+c": (lambda x, c: x + c, lambda x, c: 1 + 0 * (x + c)),
    "x-c": (lambda x, c: x - c, lambda x, c: 1 + 0 * (x + c)),
    "c-x": (lambda x, c: c - x, lambda x, c: -1 + 0 * (x + c)),
    "x/c": (lambda x, c: x / c, lambda x, c: 1 / c + 0 * x),
    "c/x": (lambda x, c: c / x, lambda x, c: -c / x ** 2),
}
CONSTANTS = {  # name: (constant, paths where it applies)
    "number": lambda shape: 2.5,
    "int": lambda shape: 3,
    "ndarray-same": lambda shape: np.linspace(1.5, 2.5, int(np.prod(shape))).reshape(shape),
    "ndarray-0d": lambda shape: np.array(1.75),
    "ndarray-broadcast": lambda shape: np.linspace(1.5, 2.5, 2 * max(int(np.prod(shape)), 1))
    .reshape((2,) + (shape if shape else (1,))),
}


def _const_params():
    params = []
    for e in CONST_EXPRS:
        for c in CONSTANTS:
            for path in PATHS:
                params.append(pytest.param(e, c, path, id=f"{e}-{c}-{path}"))
    return params


@pytest.mark.parametrize("expr,const,path", _const_params())
def test_constant_operand(expr, const, path):
    """Known derivatives of x op c and c op x, for number and ndarray constants c."""
    f, d = CONST_EXPRS[expr]
    dtype = _dtype(path)
    x0 = np.array([1.3, -0.7, 2.2]) if path.startswith("array") else np.array(1.3)
    c = CONSTANTS[const](x0.shape)
    x = Value(x0.astype(dtype), dtype=dtype) if x0.ndim == 0 else Value(x0.astype(dtype))
    y = f(x, c)
    r = _upstream(y.shape, y.dtype)
    y.backward(r)
    xd = np.asarray(x0.astype(dtype), dtype=np.float64)
    local = np.asarray(d(xd, np.asarray(c, dtype=np.float64)), dtype=np.float64)
    local = np.broadcast_to(local, np.shape(r))
    want = r * local
    while want.ndim > x0.ndim:
        want = want.sum(axis=0)
    if x0.ndim == 0:
        want = want.sum()
    assert x.grad is not None and x.grad.shape == x0.shape and x.grad.dtype == dtype
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(x.grad, want, rtol=rtol, atol=rtol)
    if const != "number" and const != "int" and dtype == np.float32 and const != "ndarray-0d":
        return  # a float64 array constant promotes the output (numpy's rules): that is fine
    assert y.dtype == dtype, f"{expr} with {const}: output {y.dtype}"


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("p", [3, 2, 0.5, -1, 1])
def test_power_by_a_constant(p, path):
    got = _grads_on_path(lambda v: v ** p, [0.4, 1.3, 2.6], path)
    x = np.array([0.4, 1.3, 2.6])
    rtol = 1e-5 if path.endswith("f32") else 1e-12
    np.testing.assert_allclose(got, 2.0 * p * x ** (p - 1), rtol=rtol)


# -- broadcasting operands on either side ----------------------------------------------------

BROADCAST_SHAPES = {  # small, big
    "row": ((4,), (3, 4)),
    "column": ((3, 1), (3, 4)),
    "leading-axes": ((4,), (2, 3, 4)),
    "middle-axis": ((2, 1, 4), (2, 3, 4)),
    "both-sides": ((3, 1), (1, 4)),
    "scalar-value": ((), (3,)),
    "scalar-value-2d": ((), (2, 3)),
}
BINARY_OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}


def _broadcast_params():
    return [pytest.param(op, s, side, path, id=f"{op}-{s}-{side}-{path}")
            for op in BINARY_OPS for s in BROADCAST_SHAPES for side in ("left", "right")
            for path in ("f64", "f32")]


@pytest.mark.parametrize("op,shapes,side,path", _broadcast_params())
@settings(max_examples=3)
@given(data=st.data())
def test_broadcasting_operand(op, shapes, side, path, data):
    small, big = BROADCAST_SHAPES[shapes]
    sa, sb = (small, big) if side == "left" else (big, small)
    a = data.draw(arrays(sa, -3, 3))
    b = data.draw(arrays(sb, 0.5, 2.0) if op == "div" else arrays(sb, -3, 3))
    _check(BINARY_OPS[op], op, (a, b), "array-" + path)
    for no in (0, 1):
        _check(BINARY_OPS[op], op, (a, b), "array-" + path, no_grad_at=(no,))


# -- batched matmul where only one operand requires grad --------------------------------------

MATMUL_SHAPES = [((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)), ((3, 4), (2, 4, 5)),
                 ((4,), (2, 4, 5)), ((2, 3, 4), (4,)), ((1, 3, 4), (2, 4, 2)), ((3, 4), (4, 2)),
                 ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,))]


@pytest.mark.parametrize("path", ["f64", "f32"])
@pytest.mark.parametrize("needs", ["second-only", "first-only", "both"])
@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES, ids=[f"{a}@{b}" for a, b in MATMUL_SHAPES])
def test_matmul_with_one_operand_requiring_grad(sa, sb, needs, path):
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    no = {"second-only": (0,), "first-only": (1,), "both": ()}[needs]
    _check(lambda x, y: x @ y, "matmul", (a, b), "array-" + path, no_grad_at=no)


def test_linear_with_a_constant_batch():
    """F.linear(X, W, b) with X an ndarray: W and b get gradients, X stays a constant."""
    rng = np.random.default_rng(2)
    X, W, b = rng.standard_normal((5, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    _check(lambda W_, b_: F.linear(X, W_, b_), "linear-const-x", (W, b), "array-f64")


# -- accumulation across backward calls, and dtypes ------------------------------------------

@pytest.mark.parametrize("form", ["method", "F"])
@pytest.mark.parametrize("path", PATHS)
def test_gradients_accumulate_across_backward_calls(path, form):
    """Two backward passes through x -> h = tanh(x) -> y: x.grad and h.grad double."""
    for x in _on_path([0.3, -1.1], path):
        h = x.tanh() if form == "method" else F.tanh(x)
        y = h * 3.0 + x
        g = np.ones(y.shape, y.dtype)
        y.backward(g, retain_graph=True)
        first_x, first_h = x.grad.copy(), h.grad.copy()
        y.backward(g)
        xd = np.asarray(x.data, dtype=np.float64)
        rtol = 1e-6 if path.endswith("f32") else 1e-12
        np.testing.assert_allclose(first_x, 3 * (1 - np.tanh(xd) ** 2) + 1, rtol=rtol)
        np.testing.assert_allclose(first_h, 3.0, rtol=rtol)
        np.testing.assert_allclose(x.grad, 2 * first_x, rtol=rtol)
        np.testing.assert_allclose(h.grad, 2 * first_h, rtol=rtol)


@pytest.mark.parametrize("path", PATHS)
def test_interior_node_feeding_two_consumers(path):
    """h = tanh(x); y = 2h + exp(h): h.grad = 2 + exp(h), x.grad = h.grad (1 - h^2)."""
    for x in _on_path([0.3, -1.1, 0.8], path):
        h = x.tanh()
        y = h * 2 + h.exp()
        y.backward(np.ones(y.shape, y.dtype))
        hd = np.asarray(h.data, dtype=np.float64)
        rtol = 1e-6 if path.endswith("f32") else 1e-12
        np.testing.assert_allclose(h.grad, 2 + np.exp(hd), rtol=rtol)
        np.testing.assert_allclose(x.grad, (2 + np.exp(hd)) * (1 - hd ** 2), rtol=rtol)


@pytest.mark.parametrize("shape", [(), (3,), (2, 3)])
def test_float32_graph_keeps_float32_gradients_everywhere(shape):
    """A float32 graph seeded by backward() keeps float32 in every .grad, the root's too."""
    x = Value(np.full(shape, 0.5, dtype=np.float32), dtype=np.float32)
    h = (x * 2.0).tanh()
    loss = (h * h).sum()
    loss.backward()
    for v in (x, h, loss):
        assert v.grad is not None and v.grad.dtype == np.float32, v


@pytest.mark.parametrize("op", list(BINARY_OPS))
@pytest.mark.parametrize("order", ["f32-first", "f64-first"])
def test_mixed_precision_operands_keep_their_own_dtype(op, order):
    """float32 (op) float64 promotes the output to float64, but each input's gradient has the
    input's dtype, with the float64 result's values."""
    x32 = Value(np.array([1.5, -0.5, 2.0], dtype=np.float32))
    y64 = Value(np.array([0.75, 1.25, -1.5]))
    a, b = (x32, y64) if order == "f32-first" else (y64, x32)
    out = BINARY_OPS[op](a, b)
    assert out.dtype == np.float64
    out.backward(np.ones(3))
    a64, b64 = Value(a.data.astype(np.float64)), Value(b.data.astype(np.float64))
    BINARY_OPS[op](a64, b64).backward(np.ones(3))
    assert x32.grad.dtype == np.float32 and y64.grad.dtype == np.float64
    np.testing.assert_allclose(a.grad, a64.grad, rtol=1e-6)
    np.testing.assert_allclose(b.grad, b64.grad, rtol=1e-6)


OWNERSHIP_CASES = {
    "a+b": lambda a, b: a + b,
    "a-b": lambda a, b: a - b,
    "reuse": lambda a, b: a + a * 1.0,
    "reshape": lambda a, b: (a.reshape(3, 1) * 2.0).reshape(3) + b,  # backward: views of g
    "transpose": lambda a, b: (a.reshape(1, 3).T * 2.0).T.reshape(3) - b,
    "flatten": lambda a, b: a.reshape(1, 3).flatten() + b.reshape(3, 1).flatten(),
}


@pytest.mark.parametrize("expr", list(OWNERSHIP_CASES))
def test_each_value_owns_its_gradient_array(expr):
    """Changing one Value's .grad in place (clipping, weight decay written as p.grad += ...)
    must not change another Value's: no two Values share a gradient array, also where an
    op's backward passes its gradient on unchanged (+, -) or as a view of it (reshape, .T)."""
    a, b = Value(np.ones(3)), Value(np.full(3, 2.0))
    c = OWNERSHIP_CASES[expr](a, b)
    c.backward(np.ones(3))
    grads = [v.grad for v in backward_order(c)]
    assert len(grads) >= 3 and all(g is not None for g in grads)
    before = [g.copy() for g in grads]
    for i, g in enumerate(grads):
        for h in grads[i + 1:]:
            assert not np.shares_memory(g, h), f"{expr}: two Values share one gradient array"
    for i, g in enumerate(grads):
        g *= 10.0
        for h, old in zip(grads[i + 1:], before[i + 1:], strict=True):
            np.testing.assert_array_equal(h, old)


@pytest.mark.parametrize("expr", list(OWNERSHIP_CASES))
def test_changing_one_gradient_before_reading_the_others_leaves_them_alone(expr):
    """The same, in the other order: one Value's .grad changed in place first, the others
    read only afterwards (a gradient shared until read must not take the change along)."""
    a, b = Value(np.ones(3)), Value(np.full(3, 2.0))
    c = OWNERSHIP_CASES[expr](a, b)
    c.backward(np.ones(3))
    expected = [v.grad.copy() for v in backward_order(c)]
    for i in range(len(expected)):
        a.zero_grad(), b.zero_grad()
        c = OWNERSHIP_CASES[expr](a, b)
        c.backward(np.ones(3))
        nodes = backward_order(c)
        nodes[i].grad[...] = -99.0
        for j, v in enumerate(nodes):
            if j != i:
                np.testing.assert_array_equal(v.grad, expected[j], err_msg=f"{expr}: node {j} "
                                              f"changed with node {i}'s .grad")


def test_float64_scalar_that_requires_grad_stays_float64_beside_float32_arrays():
    """In an op that keeps its context (prelu's single slope), a float64 scalar Value that
    requires grad is computed in float64 beside float32 arrays (only a constant scalar takes
    the arrays' dtype), so its gradient has float64 accuracy."""
    x = np.random.default_rng(4).standard_normal((40, 30)).astype(np.float32)
    alpha, alpha64 = Value(0.25), Value(0.25)
    y = F.prelu(Value(x), alpha)
    y.backward(np.ones(y.shape, y.dtype))
    F.prelu(Value(x.astype(np.float64)), alpha64).backward(np.ones(x.shape))
    assert alpha.grad.dtype == np.float64
    np.testing.assert_allclose(alpha.grad, alpha64.grad, rtol=1e-13)


@pytest.mark.parametrize("path", ["scalar-f64", "array-f64"])
def test_graphs_in_several_threads_get_their_own_gradients(path):
    """Threads that build and backpropagate their own graphs at the same time (grad mode is
    per thread, so this is supported) each get exactly their own gradients. The GIL switches
    threads every microsecond here, so state shared between graphs would show."""
    import sys
    import threading

    wrong: list = []

    def work(seed):
        rng = np.random.default_rng(seed)
        try:
            for _ in range(1500):
                a = rng.uniform(1, 2, () if path == "scalar-f64" else (3,))
                b = rng.uniform(1, 2, a.shape)
                x, y = Value(a), Value(b)
                ((x * y * x).tanh() + y / x).sum().backward()
                t = 1 - np.tanh(a * b * a) ** 2
                if (x.grad is None or y.grad is None
                        or not np.allclose(x.grad, t * 2 * a * b - b / a ** 2, rtol=1e-12)
                        or not np.allclose(y.grad, t * a * a + 1 / a, rtol=1e-12)):
                    wrong.append((seed, a, b, x.grad, y.grad))
                    return
        except Exception as e:  # noqa: BLE001 - reported by the assertion below
            wrong.append((seed, repr(e)))

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert not wrong, f"{len(wrong)} of 4 threads got wrong gradients, first: {wrong[0]}"


class Param(Value):
    """A user's subclass of Value (a tagged parameter): the engine must treat it as a Value."""

    __slots__ = ()


@pytest.mark.parametrize("kind", ["scalar", "array"])
def test_a_value_subclass_gets_its_gradient_on_every_path(kind):
    data = 1.5 if kind == "scalar" else np.array([1.5, -0.5, 2.0])
    w, x = Param(data), Param(data)
    out = (w * x + w).tanh() * 2.0 - x  # binary, unary, constants, a Value used twice
    (out if kind == "scalar" else out.sum()).backward()
    wd, xd = np.asarray(data), np.asarray(data)
    t = np.tanh(wd * xd + wd)
    np.testing.assert_allclose(w.grad, 2.0 * (1 - t ** 2) * (xd + 1))
    np.testing.assert_allclose(x.grad, 2.0 * (1 - t ** 2) * wd - 1)


def test_a_hook_that_returns_nothing_keeps_gradients_owned():
    """A hook on a node whose gradient another Value shares (+ passes it on unchanged) must
    not undo the sharing bookkeeping: both .grad arrays stay independent."""
    a = Value(np.ones(3))
    h = a * 2.0
    c = h + 1.0  # c's gradient passes to h unchanged
    h.register_hook(lambda g: None)
    c.backward(np.ones(3))
    assert not np.shares_memory(h.grad, c.grad)
    h.grad[:] = 7.0
    np.testing.assert_array_equal(c.grad, np.ones(3))


def test_a_backward_that_raises_midway_leaves_no_half_made_gradient():
    """A hook that raises stops backward after + passed its gradient on: the input has no
    gradient (None, as before the call), and the next backward fills it in normally."""
    a = Value(np.ones(3))
    c = a + 1.0

    def fail(g):
        raise KeyError("stop here")

    handle = a.register_hook(fail)
    with pytest.raises(KeyError, match="stop here"):
        c.backward(np.ones(3))
    assert a.grad is None
    handle.remove()
    (a + 1.0).backward(np.full(3, 2.0))
    np.testing.assert_array_equal(a.grad, np.full(3, 2.0))
