"""Debugger aids of issue 10: traced op code, breakpoints, hooks, ``named``, ``ctx``,
conversions, numpy's protocols, in-place changes caught, and a user's elementwise Function.

Expected numbers come from closed-form derivatives computed here with numpy; where PyTorch
defines the behaviour (hooks, in-place changes), separate tests run the same code in torch
and compare.
"""
import bdb
import inspect
import os
import sys

import numpy as np
import pytest

import tinygrad_lite
from tinygrad_lite import Function, GradcheckError, Value, detect_anomaly, gradcheck
from tinygrad_lite.function import floatmath
from tinygrad_lite.ops.activations import Tanh
from tinygrad_lite.optim import SGD

OPS_DIR = os.path.dirname(os.path.abspath(tinygrad_lite.ops.__file__)) + os.sep
RNG = np.random.default_rng(10)


def _scalar_or_array(kind):
    """Value(0.3) for "scalar", a (4, 4) float64 array Value for "array"."""
    if kind == "scalar":
        return Value(0.3)
    return Value(np.random.default_rng(4).uniform(-1.0, 1.0, (4, 4)))


def _lecture_graph(x):
    """((x * 0.9 + 0.1).tanh() * x).sigmoid(), the graph of issue 10's done-when."""
    return ((x * 0.9 + 0.1).tanh() * x).sigmoid()


def _run_backward(out):
    """Backward from ``out`` with a gradient of ones (no reduction op in the graph)."""
    out.backward(None if out.ndim == 0 else np.ones(out.shape))


def _lecture_graph_grad(xd):
    """d/dx sigmoid(tanh(0.9 x + 0.1) x), in numpy."""
    t = np.tanh(0.9 * xd + 0.1)
    u = t * xd
    s = 1.0 / (1.0 + np.exp(-u))
    return s * (1.0 - s) * (t + xd * 0.9 * (1.0 - t * t))


# -- 1. the same op code runs for floats and arrays; a breakpoint on a formula is hit ------
def _ops_functions_run(fn):
    """The set of (file name, qualified function name) defined under tinygrad_lite/ops/
    that run while ``fn()`` runs, traced with sys.settrace."""
    seen = set()

    def tracer(frame, event, arg):
        code = frame.f_code
        if event == "call" and code.co_filename.startswith(OPS_DIR):
            seen.add((os.path.basename(code.co_filename), code.co_qualname))
        return None  # no line events: calls are enough

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        fn()
    finally:
        sys.settrace(previous)
    return seen


def _traced_forward_and_backward(kind):
    x = _scalar_or_array(kind)
    box = {}

    def run():
        out = _lecture_graph(x)
        _run_backward(out)
        box["out"] = out

    seen = _ops_functions_run(run)
    np.testing.assert_allclose(x.grad, _lecture_graph_grad(x.data), rtol=1e-12)
    return seen


def test_scalar_and_array_graphs_run_the_same_op_functions():
    scalar = _traced_forward_and_backward("scalar")
    array = _traced_forward_and_backward("array")
    assert scalar == array, (
        f"only for floats: {sorted(scalar - array)}; only for arrays: {sorted(array - scalar)}")
    wanted = {(f, f"{op}.{method}")
              for f, op in (("elementwise.py", "Mul"), ("elementwise.py", "Add"),
                            ("activations.py", "Tanh"), ("activations.py", "Sigmoid"))
              for method in ("forward", "backward")}
    assert wanted <= scalar, f"not run: {sorted(wanted - scalar)}"


class _BreakpointRecorder(bdb.Bdb):
    """A debugger that records every line it stops at (breakpoints) and continues."""

    def __init__(self):
        super().__init__()
        self.stops = []

    def user_line(self, frame):
        if self.get_break(self.canonic(frame.f_code.co_filename), frame.f_lineno):
            self.stops.append((frame.f_code.co_qualname, frame.f_lineno,
                               type(frame.f_locals.get("t"))))
        self.set_continue()


def _tanh_backward_formula_line():
    """(file, line) of ``return g * (1.0 - t * t)`` in Tanh.backward, read from the source."""
    fn = inspect.unwrap(Tanh.backward)
    lines, start = inspect.getsourcelines(fn)
    hits = [start + i for i, text in enumerate(lines)
            if text.strip() == "return g * (1.0 - t * t)"]
    assert len(hits) == 1, f"Tanh.backward's formula not found once in:\n{''.join(lines)}"
    return inspect.getsourcefile(fn), hits[0]


@pytest.mark.parametrize("kind", ["scalar", "array"])
def test_breakpoint_on_tanh_backward_formula_is_hit_during_backward(kind):
    filename, line = _tanh_backward_formula_line()
    x = _scalar_or_array(kind)
    out = _lecture_graph(x)  # forward outside the debugger: the breakpoint is in backward
    dbg = _BreakpointRecorder()
    assert dbg.set_break(filename, line) is None, f"bdb refused a break at {filename}:{line}"
    previous = sys.gettrace()
    try:
        dbg.runcall(_run_backward, out)
    finally:
        dbg.clear_all_breaks()
        sys.settrace(previous)
    assert [(q, n) for q, n, _ in dbg.stops] == [("Tanh.backward", line)], dbg.stops
    # the formula ran on the kind of number the graph holds: a float, or an array
    assert dbg.stops[0][2] in ((float, np.float64) if kind == "scalar" else (np.ndarray,))
    np.testing.assert_allclose(x.grad, _lecture_graph_grad(x.data), rtol=1e-12)


# -- 2. hooks ------------------------------------------------------------------------------
def _two_path_graph(x):
    """y = (3 x) * tanh(x): x reaches y along two paths. Returns (y, 3 x)."""
    a = x * 3.0
    return a * x.tanh(), a


def _two_path_grad(xd):
    """dy/dx of (3 x) tanh(x) = 3 tanh(x) + 3 x (1 - tanh(x)**2)."""
    t = np.tanh(xd)
    return 3.0 * t + 3.0 * xd * (1.0 - t * t)


def _seed(y):
    return None if y.ndim == 0 else np.ones(y.shape)


@pytest.mark.parametrize("data", [0.7, [0.5, -1.2, 2.0]])
def test_hook_on_a_leaf_sees_its_complete_gradient_once(data):
    x = Value(data)
    seen = []
    x.register_hook(lambda g: seen.append(np.array(g, copy=True)))
    y, _ = _two_path_graph(x)
    y.backward(_seed(y))
    expected = _two_path_grad(np.asarray(data, dtype=np.float64))
    assert len(seen) == 1, f"hook called {len(seen)} times for one backward"
    assert isinstance(seen[0], np.ndarray) and seen[0].shape == x.shape
    np.testing.assert_allclose(seen[0], expected, rtol=1e-12)  # both paths summed
    np.testing.assert_allclose(x.grad, expected, rtol=1e-12)


@pytest.mark.parametrize("data", [0.7, [0.5, -1.2, 2.0]])
def test_hook_returning_an_array_replaces_a_leafs_gradient(data):
    x = Value(data)
    x.register_hook(lambda g: g * 2.0)
    y, _ = _two_path_graph(x)
    y.backward(_seed(y))
    np.testing.assert_allclose(x.grad, 2.0 * _two_path_grad(np.asarray(data, float)), rtol=1e-12)


@pytest.mark.parametrize("data", [0.7, [0.5, -1.2, 2.0]])
def test_hook_on_an_interior_node_changes_what_flows_to_its_inputs(data):
    x = Value(data)
    h = x * 3.0
    calls = []

    def times_ten(g):
        calls.append(np.array(g, copy=True))
        return g * 10.0

    h.register_hook(times_ten)
    y = h.tanh() * h  # h feeds two consumers: the hook sees their sum, once
    y.backward(_seed(y))
    hd = 3.0 * np.asarray(data, dtype=np.float64)
    t = np.tanh(hd)
    dy_dh = (1.0 - t * t) * hd + t
    assert len(calls) == 1, f"interior hook called {len(calls)} times for one backward"
    np.testing.assert_allclose(calls[0], dy_dh, rtol=1e-12)
    np.testing.assert_allclose(x.grad, 3.0 * 10.0 * dy_dh, rtol=1e-12)
    np.testing.assert_allclose(h.grad, 10.0 * dy_dh, rtol=1e-12)  # .grad holds what flowed on


def test_interior_hook_is_called_once_per_backward():
    x = Value([0.2, -0.4])
    h = (x * x).named("h")
    calls = []
    h.register_hook(lambda g: calls.append(np.array(g, copy=True)))
    for expected_calls in (1, 2):
        y = (h.sigmoid() * h).sum()
        y.backward(retain_graph=True)  # h's op (x * x) is backpropagated by both passes
        assert len(calls) == expected_calls
    s = 1.0 / (1.0 + np.exp(-h.data))
    np.testing.assert_allclose(calls[-1], s * (1.0 - s) * h.data + s, rtol=1e-12)


def test_removed_hook_is_not_called_again():
    x = Value([1.0, 2.0])
    calls = []
    handle = x.register_hook(lambda g: calls.append(1) or g * 100.0)
    (x * x).sum().backward()
    assert len(calls) == 1
    np.testing.assert_allclose(x.grad, 100.0 * 2.0 * x.data)
    handle.remove()
    handle.remove()  # a second remove is harmless, as in PyTorch
    x.zero_grad()
    (x * x).sum().backward()
    assert len(calls) == 1, "a removed hook was called"
    np.testing.assert_allclose(x.grad, 2.0 * x.data)


def test_hook_returning_the_wrong_shape_raises_naming_both_shapes():
    x = Value(np.ones((2, 3)))

    def bad_hook(g):
        return np.ones(4)

    x.register_hook(bad_hook)
    with pytest.raises((ValueError, RuntimeError)) as err:
        (x * 2.0).sum().backward()
    msg = str(err.value)
    assert "(4,)" in msg and "(2, 3)" in msg, msg


def test_hook_on_a_value_that_needs_no_gradient_raises():
    c = Value([1.0, 2.0], requires_grad=False)
    with pytest.raises(RuntimeError, match="grad"):
        c.register_hook(lambda g: g)


def test_hooks_agree_with_pytorch():
    torch = pytest.importorskip("torch")
    data = np.array([0.5, -1.2, 2.0])

    def run_ours():
        x = Value(data)
        h = x * 3.0
        leaf_seen, inner_seen = [], []
        x.register_hook(lambda g: leaf_seen.append(np.array(g, copy=True)))
        h.register_hook(lambda g: inner_seen.append(np.array(g, copy=True)) or g * 10.0)
        y = (h.tanh() * h + x.sigmoid()).sum()
        y.backward()
        return x.grad, h.grad, leaf_seen, inner_seen

    def run_torch():
        x = torch.tensor(data, dtype=torch.float64, requires_grad=True)
        h = x * 3.0
        h.retain_grad()
        leaf_seen, inner_seen = [], []
        x.register_hook(lambda g: leaf_seen.append(g.detach().numpy().copy()))
        h.register_hook(lambda g: inner_seen.append(g.detach().numpy().copy()) or g * 10.0)
        y = (h.tanh() * h + x.sigmoid()).sum()
        y.backward()
        return x.grad.numpy(), h.grad.numpy(), leaf_seen, inner_seen

    ours, theirs = run_ours(), run_torch()
    for name, a, b in zip(("x.grad", "h.grad"), ours[:2], theirs[:2], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, err_msg=name)
    for name, a, b in zip(("leaf hook", "interior hook"), ours[2:], theirs[2:], strict=True):
        assert len(a) == len(b) == 1, (name, len(a), len(b))
        np.testing.assert_allclose(a[0], b[0], rtol=1e-12, err_msg=name)

    # a removed hook: neither library calls it
    def removed_calls(lib_x, lib_backward):
        calls = []
        handle = lib_x.register_hook(lambda g: calls.append(1))
        handle.remove()
        lib_backward(lib_x)
        return len(calls)

    assert removed_calls(Value(data), lambda v: (v * v).sum().backward()) == 0
    tx = torch.tensor(data, requires_grad=True)
    assert removed_calls(tx, lambda v: (v * v).sum().backward()) == 0

    # a wrong-shape gradient from a hook: both raise
    with pytest.raises(RuntimeError):
        t = torch.ones(2, 3, dtype=torch.float64, requires_grad=True)
        t.register_hook(lambda g: torch.ones(4, dtype=torch.float64))
        (t * 2.0).sum().backward()
    with pytest.raises((ValueError, RuntimeError)):
        v = Value(np.ones((2, 3)))
        v.register_hook(lambda g: np.ones(4))
        (v * 2.0).sum().backward()


# -- 3. named and ctx ----------------------------------------------------------------------
def test_named_returns_the_same_value_with_the_label():
    x = Value([1.0, 2.0])
    h = x * 2.0
    assert h.named("h1") is h
    assert h.label == "h1"
    assert "h1" in repr(h)
    assert x.named("x") is x and x.label == "x"


def test_ctx_is_none_for_leaves_and_grad_fn_is_ctx():
    x = Value([1.0, 2.0])
    assert x.ctx is None and x.grad_fn is None
    assert Value(3.0, requires_grad=False).ctx is None
    for y in (x * 2.0, x.tanh(), x.sum(), x @ np.ones((2, 2))):
        assert y.ctx is not None, y.op
        assert y.grad_fn is y.ctx, y.op
        assert isinstance(y.ctx, Function)
        assert y.ctx.op == y.op
        assert all(a is b for a, b in zip(y.ctx.parents, y.parents, strict=True))


def test_ctx_repr_names_op_inputs_and_saved_shapes_without_printing_arrays():
    x = Value(RNG.standard_normal((100, 100))).named("xin")
    w = Value(RNG.standard_normal((100, 100))).named("wgt")
    for y in (x * w, x @ w, (x * w).tanh()):
        text = repr(y.ctx)
        assert len(text) < 400, f"{y.op}: repr of {len(text)} characters:\n{text}"
        assert "[[" not in text and "..." not in text, text  # no numpy array printout
        assert y.op in text, text
        assert "100" in text, text  # the shapes
    text = repr((x * w).ctx)
    assert "xin" in text and "wgt" in text, text
    assert "Mul" in text or "'*'" in text, text


def test_ctx_repr_shows_what_a_user_function_saved():
    class Scale(Function):
        op = "my_scale"

        @staticmethod
        def forward(ctx, x):
            ctx.save(cache=x * 2.0)
            return x * 2.0

        @staticmethod
        def backward(ctx, g):
            return g * 2.0

    x = Value(np.ones((50, 60))).named("inp")
    text = repr(Scale.apply(x).ctx)
    assert "my_scale" in text and "inp" in text, text
    assert "cache" in text and "50" in text and "60" in text, text
    assert len(text) < 300, text


# -- 4. conversions and numpy's protocols --------------------------------------------------
@pytest.mark.parametrize("make", [lambda v: Value(v), lambda v: Value([v]),
                                  lambda v: Value(np.array([[v]], dtype=np.float32))],
                         ids=["0-d", "(1,)", "(1, 1) float32"])
def test_float_int_format_on_one_element_values(make):
    assert float(make(2.75)) == 2.75
    assert isinstance(float(make(2.75)), float)
    assert int(make(3.7)) == 3 and int(make(-3.7)) == -3
    assert format(make(1.0 / 8.0), ".3f") == "0.125"
    assert f"{make(2.5):.2e}" == "2.50e+00"


@pytest.mark.parametrize("convert", [float, int, lambda v: format(v, ".3f")],
                         ids=["float", "int", "format"])
def test_conversions_of_bigger_values_raise_naming_the_shape(convert):
    with pytest.raises(TypeError, match=r"\(2, 3\)"):
        convert(Value(np.ones((2, 3))))


def test_np_asarray_of_a_value_requiring_grad_raises_pointing_to_data_and_detach():
    v = Value([1.0, 2.0])
    for convert in (np.asarray, np.array):
        with pytest.raises(TypeError) as err:
            convert(v)
        msg = str(err.value)
        assert ".data" in msg and ".detach()" in msg, msg


@pytest.mark.parametrize("data", [1.5, [1.0, 2.0, 3.0]])
def test_np_asarray_of_a_value_without_grad_gives_its_data(data):
    for v in (Value(data, requires_grad=False), Value(data).detach()):
        a = np.asarray(v)
        assert isinstance(a, np.ndarray) and a.dtype == np.float64, a.dtype
        np.testing.assert_array_equal(a, np.asarray(data, dtype=np.float64))
    a32 = np.asarray(Value(np.array(data, dtype=np.float32), requires_grad=False))
    assert a32.dtype == np.float32


@pytest.mark.parametrize("data", [0.3, [0.3, -1.0, 2.0]])
def test_np_exp_of_a_value_is_a_value_with_the_gradient(data):
    x = Value(data)
    y = np.exp(x)
    assert isinstance(y, Value) and y.op == "exp"
    y.backward(_seed(y))
    np.testing.assert_allclose(x.grad, np.exp(np.asarray(data, dtype=np.float64)), rtol=1e-12)


def test_np_mean_of_a_value_is_a_value_or_names_the_method():
    x = Value(np.arange(6.0).reshape(2, 3))
    try:
        m = np.mean(x)
    except TypeError as e:
        assert "v.mean()" in str(e) or ".mean(" in str(e), str(e)
        return
    assert isinstance(m, Value), type(m)
    np.testing.assert_allclose(m.data, 2.5)
    m.backward()
    np.testing.assert_allclose(x.grad, np.full((2, 3), 1.0 / 6.0))


def test_np_maximum_of_a_value_raises_naming_a_method():
    with pytest.raises(TypeError, match=r"v\.\w+\("):
        np.maximum(Value([1.0, -1.0]), 0)


@pytest.mark.parametrize("op, dleft", [
    (np.ndarray.__mul__, lambda a, v: a),
    (np.ndarray.__add__, lambda a, v: np.ones_like(v)),
    (np.ndarray.__sub__, lambda a, v: -np.ones_like(v)),
    (np.ndarray.__truediv__, lambda a, v: -a / v ** 2),
], ids=["mul", "add", "sub", "div"])
def test_ndarray_on_the_left_of_a_value_gives_a_value_with_gradients(op, dleft):
    a = np.array([1.5, -2.0, 3.0])
    v = Value([0.5, 4.0, -1.0])
    y = op(a, v)
    assert isinstance(y, Value), type(y)
    y.sum().backward()
    np.testing.assert_allclose(v.grad, dleft(a, v.data), rtol=1e-12)


# -- 5. in-place changes caught --------------------------------------------------------------
def _pair(shape):
    if shape == ():
        return Value(1.5).named("x"), Value(-2.0).named("w")
    return (Value(RNG.standard_normal(shape)).named("x"),
            Value(RNG.standard_normal(shape)).named("w"))


@pytest.mark.parametrize("shape", [(), (3, 4)], ids=["scalar", "array"])
def test_data_replaced_after_mul_saved_it_raises_at_backward(shape):
    x, w = _pair(shape)
    y = x * w
    w.data = w.data + 1.0
    with pytest.raises(RuntimeError) as err:
        y.backward(_seed(y))
    msg = str(err.value)
    assert "*" in msg, msg
    assert "'w'" in msg or "input 1" in msg, msg
    assert str(shape) in msg, msg


@pytest.mark.parametrize("shape", [(), (3, 4)], ids=["scalar", "array"])
def test_data_replaced_after_add_does_not_raise(shape):
    x, w = _pair(shape)
    y = x + w  # add saves nothing: its gradient does not depend on the data
    w.data = w.data + 1.0
    y.backward(_seed(y))
    np.testing.assert_array_equal(x.grad, np.ones(shape))
    np.testing.assert_array_equal(w.grad, np.ones(shape))


@pytest.mark.parametrize("shape", [(), (3, 4)], ids=["scalar", "array"])
def test_data_replaced_after_a_later_forward_is_fine(shape):
    x, w = _pair(shape)
    w.data = w.data + 1.0  # changed before the op: nothing saved is stale
    y = x * w
    y.backward(_seed(y))
    np.testing.assert_allclose(x.grad, w.data, rtol=1e-12)


@pytest.mark.parametrize("shape", [(), (3, 4)], ids=["scalar", "array"])
def test_optimizer_step_between_forward_and_backward_raises(shape):
    x, w = _pair(shape)
    opt = SGD([w], lr=0.1)
    (x * w).sum().backward()  # a gradient for the step
    loss = (x * w).sum()
    opt.step()
    with pytest.raises(RuntimeError) as err:
        loss.backward()
    msg = str(err.value)
    assert "*" in msg and str(shape) in msg, msg


@pytest.mark.parametrize("shape", [(), (3, 4)], ids=["scalar", "array"])
def test_output_replaced_after_the_op_saved_it_raises(shape):
    x, _ = _pair(shape)
    t = x.tanh()  # tanh's backward reads its output
    t.data = t.data * 0.0
    with pytest.raises(RuntimeError, match="tanh"):
        t.backward(_seed(t))


@pytest.mark.parametrize("shape", [(), (3, 4)], ids=["scalar", "array"])
def test_input_replaced_after_an_op_that_saves_only_its_output_does_not_raise(shape):
    """tanh saves its output, not its input (as PyTorch: no error there either)."""
    x, _ = _pair(shape)
    t = x.tanh()
    out = np.tanh(np.asarray(x.data, dtype=np.float64))
    x.data = x.data + 1.0
    t.backward(_seed(t))
    np.testing.assert_allclose(x.grad, 1.0 - out * out, rtol=1e-12)


def test_in_place_write_under_anomaly_mode_raises_naming_op_input_and_line():
    x, w = _pair((3, 4))
    with detect_anomaly():
        line = inspect.currentframe().f_lineno + 1
        y = x * w
        w.data[:] = 5.0
        with pytest.raises(RuntimeError) as err:
            y.backward(np.ones((3, 4)))
    msg = str(err.value)
    assert "*" in msg, msg
    assert "'w'" in msg or "input 1" in msg, msg
    assert "(3, 4)" in msg, msg
    assert f"{os.path.basename(__file__)}:{line}" in msg, msg


def test_in_place_write_outside_anomaly_mode_is_not_caught():
    """Documented limit: a write straight into the numpy array is seen only by anomaly mode;
    outside it, backward uses the new numbers (x.grad is the changed w)."""
    x, w = _pair((3, 4))
    y = x * w
    w.data[:] = 5.0
    y.backward(np.ones((3, 4)))
    np.testing.assert_array_equal(x.grad, np.full((3, 4), 5.0))


def test_in_place_write_to_a_value_unused_by_backward_is_not_an_error_in_anomaly_mode():
    x, w = _pair((3, 4))
    with detect_anomaly():
        y = x + w
        w.data[:] = 5.0
        y.backward(np.ones((3, 4)))
    np.testing.assert_array_equal(x.grad, np.ones((3, 4)))


def test_in_place_detection_agrees_with_pytorch():
    torch = pytest.importorskip("torch")
    data_x, data_w = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4))

    def torch_raises(build, change):
        x = torch.tensor(data_x, requires_grad=True)
        w = torch.tensor(data_w, requires_grad=True)
        y = build(x, w)
        with torch.no_grad():
            change(x, w, y)
        try:
            y.sum().backward()
        except RuntimeError as e:
            assert "modified by an inplace operation" in str(e), str(e)
            return True
        return False

    def ours_raises(build, change):
        x, w = Value(data_x.copy()), Value(data_w.copy())
        y = build(x, w)
        change(x, w, y)
        try:
            y.sum().backward()
        except RuntimeError:
            return True
        return False

    cases = {  # name: (graph, torch's change under no_grad, the library's change)
        "mul, weight changed": (lambda x, w: x * w, lambda x, w, y: w.add_(1.0),
                                lambda x, w, y: setattr(w, "data", w.data + 1.0)),
        "add, weight changed": (lambda x, w: x + w, lambda x, w, y: w.add_(1.0),
                                lambda x, w, y: setattr(w, "data", w.data + 1.0)),
        "tanh, input changed": (lambda x, w: x.tanh(), lambda x, w, y: x.add_(1.0),
                                lambda x, w, y: setattr(x, "data", x.data + 1.0)),
        "tanh, output changed": (lambda x, w: x.tanh(), lambda x, w, y: y.mul_(0.0),
                                 lambda x, w, y: setattr(y, "data", y.data * 0.0)),
    }
    got = {name: (torch_raises(build, tc), ours_raises(build, oc))
           for name, (build, tc, oc) in cases.items()}
    assert got["mul, weight changed"][0] and not got["add, weight changed"][0]  # torch itself
    disagree = {name: f"torch raises: {t}, ours raises: {o}"
                for name, (t, o) in got.items() if t != o}
    assert not disagree, disagree

    # an optimizer step (torch changes parameters in place under no_grad: caught). x requires
    # grad, so that torch's mul saves w too (the library's mul always saves both inputs)
    w = torch.tensor(data_w, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.1)
    (torch.tensor(data_x, requires_grad=True) * w).sum().backward()
    loss = (torch.tensor(data_x, requires_grad=True) * w).sum()
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()
    ow = Value(data_w.copy())
    ours = SGD([ow], lr=0.1)
    (Value(data_x) * ow).sum().backward()
    loss2 = (Value(data_x) * ow).sum()
    ours.step()
    with pytest.raises(RuntimeError):
        loss2.backward()


# -- 6. bugs: dtype, wrong gradient counts, None gradients -------------------------------------
@pytest.mark.parametrize("data", [np.float64(1.5), 1.5, 2, np.float32(1.5), [1.5, 2.5]])
def test_dtype_argument_is_honoured(data):
    v = Value(data, dtype=np.float32)
    assert v.dtype == np.float32, (type(data).__name__, v.dtype)
    assert v.data.dtype == np.float32
    np.testing.assert_array_equal(v.data, np.asarray(data, dtype=np.float32))


def _user_mul(*, grads, elementwise):
    """A user's two-input multiply whose backward returns ``grads(ctx, g)``."""
    if elementwise:
        class UserMul(Function):
            __slots__ = ("a", "b")
            op = "user_mul"
            elementwise = True

            @staticmethod
            def forward(ctx, a, b):
                ctx.a = a
                ctx.b = b
                return a * b

            @staticmethod
            def backward(ctx, g):
                return grads(ctx, g)
    else:
        class UserMul(Function):  # the general-path variant
            op = "user_mul"

            @staticmethod
            def forward(ctx, a, b):
                ctx.save(a=a, b=b)
                return a * b

            @staticmethod
            def backward(ctx, g):
                return grads(ctx, g)
    return UserMul


KINDS = pytest.mark.parametrize("elementwise", [False, True], ids=["general", "elementwise"])
SHAPES = pytest.mark.parametrize("shape", [(), (2, 3)], ids=["scalar", "array"])


def _inputs(shape):
    if shape == ():
        return Value(1.5), Value(-0.5)
    return Value(RNG.standard_normal(shape)), Value(RNG.standard_normal(shape))


@KINDS
@SHAPES
def test_backward_returning_too_few_gradients_raises_naming_the_op(elementwise, shape):
    op = _user_mul(grads=lambda ctx, g: g * ctx.b, elementwise=elementwise)
    a, b = _inputs(shape)
    y = op.apply(a, b)
    with pytest.raises(RuntimeError, match="user_mul") as err:
        y.backward(_seed(y))
    assert "1" in str(err.value) and "2" in str(err.value), str(err.value)


@KINDS
@SHAPES
def test_backward_returning_too_many_gradients_raises_naming_the_op(elementwise, shape):
    op = _user_mul(grads=lambda ctx, g: (g * ctx.b, g * ctx.a, g), elementwise=elementwise)
    a, b = _inputs(shape)
    y = op.apply(a, b)
    with pytest.raises(RuntimeError, match="user_mul"):
        y.backward(_seed(y))


@KINDS
@SHAPES
def test_backward_returning_none_for_an_input_needing_grad_raises_naming_the_op(
        elementwise, shape):
    op = _user_mul(grads=lambda ctx, g: (g * ctx.b, None), elementwise=elementwise)
    a, b = _inputs(shape)
    y = op.apply(a, b)
    with pytest.raises(RuntimeError, match="user_mul") as err:
        y.backward(_seed(y))
    assert "None" in str(err.value), str(err.value)


@KINDS
def test_backward_returning_none_for_a_constant_is_fine(elementwise):
    op = _user_mul(grads=lambda ctx, g: (g * ctx.b, None), elementwise=elementwise)
    a = Value([1.0, 2.0])
    b = Value([3.0, 4.0], requires_grad=False)
    op.apply(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [3.0, 4.0])
    assert b.grad is None


@KINDS
def test_gradcheck_reports_a_backward_that_returned_none(elementwise):
    op = _user_mul(grads=lambda ctx, g: (g * ctx.b, None), elementwise=elementwise)
    with pytest.raises((RuntimeError, GradcheckError)) as err:
        gradcheck(lambda a, b: op.apply(a, b), RNG.standard_normal(3), RNG.standard_normal(3))
    msg = str(err.value)
    assert "None" in msg and "user_mul" in msg, msg
    assert "analytic 0" not in msg, msg


# -- 7. a user's elementwise Function gets the fast path --------------------------------------
_SEEN: list = []  # (phase, ctx, xp, type of the input) recorded by Softsign


class Softsign(Function):
    """y = x / (1 + |x|). dy/dx = 1 / (1 + |x|)**2."""

    __slots__ = ("x",)
    op = "softsign"
    elementwise = True

    @staticmethod
    def forward(ctx, x):
        _SEEN.append(("forward", ctx, ctx.xp, type(x)))
        ctx.x = x
        return x / (1.0 + ctx.xp.abs(x))

    @staticmethod
    def backward(ctx, g):
        _SEEN.append(("backward", ctx, ctx.xp, type(ctx.x)))
        d = 1.0 + ctx.xp.abs(ctx.x)
        return g / (d * d)


def _softsign_grad(xd):
    return 1.0 / (1.0 + np.abs(xd)) ** 2


def test_user_elementwise_function_runs_on_python_floats_with_floatmath():
    _SEEN.clear()
    x = Value(-0.6)
    y = Softsign.apply(x) * 2.0
    y.backward()
    (fwd, fctx, fxp, ftype), (bwd, bctx, bxp, btype) = [s for s in _SEEN]
    assert (fwd, bwd) == ("forward", "backward")
    assert fxp is floatmath and ftype is float
    assert bxp is floatmath and btype is float
    # one context object: the one forward filled is kept on the output and given to backward
    assert fctx is bctx is y.parents[0].ctx, "forward and backward should see the same ctx"
    np.testing.assert_allclose(x.grad, 2.0 * _softsign_grad(-0.6), rtol=1e-12)
    np.testing.assert_allclose(y.data, 2.0 * -0.6 / 1.6, rtol=1e-12)


def test_user_elementwise_function_runs_on_arrays_with_numpy():
    _SEEN.clear()
    xd = RNG.standard_normal((3, 4))
    x = Value(xd)
    Softsign.apply(x).sum().backward()
    assert [(p, xp, t) for p, _, xp, t in _SEEN] == [("forward", np, np.ndarray),
                                                     ("backward", np, np.ndarray)]
    np.testing.assert_allclose(x.grad, _softsign_grad(xd), rtol=1e-12)


def test_user_function_ctx_is_the_one_forward_filled():
    _SEEN.clear()
    y = Softsign.apply(Value([0.5, -2.0]))
    forward_ctx = _SEEN[0][1]
    ctx = y.ctx
    assert isinstance(ctx, Softsign) and ctx is forward_ctx
    np.testing.assert_array_equal(ctx.x, [0.5, -2.0])
    np.testing.assert_allclose(ctx.local_grad(0), _softsign_grad(np.array([0.5, -2.0])))
    assert "softsign" in repr(ctx)

    general = _user_mul(grads=lambda c, g: (g * c.b, g * c.a), elementwise=False)
    kept = []
    orig_forward = general.forward

    def spy(c, a, b):
        kept.append(c)
        return orig_forward(c, a, b)

    general.forward = staticmethod(spy)
    z = general.apply(Value([1.0]), Value([2.0]))
    assert z.ctx is kept[0], "a general op's output keeps the context its forward filled"


@pytest.mark.parametrize("data", [0.7, -1.3, np.linspace(-2.0, 2.0, 7).reshape(7, 1)],
                         ids=["float", "negative float", "array"])
def test_user_elementwise_function_gradchecks(data):
    assert gradcheck(lambda v: Softsign.apply(v), data)
    assert gradcheck(lambda v: (Softsign.apply(v * 1.5) * v).tanh(), data)
