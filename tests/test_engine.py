"""Value semantics, backward mechanics, custom Functions, gradcheck and the lecture's numbers."""
import math

import numpy as np
import pytest
from hypothesis import given

import tinygrad_lite.functional as F
from tinygrad_lite import Function, GradcheckError, Value, backward_order, gradcheck, no_grad
from tinygrad_lite.testing import arrays, away_from, shapes


# -- the backprop lecture's neuron -------------------------------------------------------------
def neuron():
    w0, x0, w1, x1, w2 = (Value(v, label=n) for v, n in
                          [(2.0, "w0"), (-1.0, "x0"), (-3.0, "w1"), (-2.0, "x1"), (-3.0, "w2")])
    f = (w0 * x0 + w1 * x1 + w2).sigmoid()
    return f, dict(w0=w0, x0=x0, w1=w1, x1=x1, w2=w2)


def test_lecture_neuron_values_and_gradients():
    f, v = neuron()
    f.backward()
    assert f.item() == pytest.approx(0.7311, abs=1e-4)
    expected = dict(w0=-0.1966, x0=0.3932, w1=-0.3932, x1=-0.5898, w2=0.1966)
    for name, g in expected.items():
        assert v[name].grad.item() == pytest.approx(g, abs=1e-4), name


def test_neuron_matches_hand_decomposed_sigmoid():
    """sigmoid as the lecture's chain of gates (*-1, exp, +1, 1/x) gives the same gradients."""
    f, v = neuron()
    f.backward()
    w = {k: Value(x.item()) for k, x in v.items()}
    z = w["w0"] * w["x0"] + w["w1"] * w["x1"] + w["w2"]
    g = 1.0 / ((z * -1.0).exp() + 1.0)
    g.backward()
    assert g.item() == pytest.approx(f.item())
    for k in v:
        assert w[k].grad.item() == pytest.approx(v[k].grad.item())


# -- data, dtype, repr -------------------------------------------------------------------------
def test_data_is_always_an_ndarray():
    assert isinstance(Value(2.0).data, np.ndarray) and Value(2.0).data.shape == ()
    assert Value(2).dtype == np.float64
    assert Value([1, 2, 3]).dtype == np.float64
    assert Value(np.arange(3)).dtype == np.float64
    assert Value(np.ones(2, np.float32)).dtype == np.float32
    assert Value([1, 2], dtype=np.float32).dtype == np.float32
    assert isinstance((Value(2.0) * 3).data, np.ndarray)


def test_float32_stays_float32_against_python_numbers():
    x = Value(np.ones(3, np.float32))
    for y in (x * 2.5, 2.5 * x, x + 1, 1 - x, x / 3, 3 / x, x ** 2, -x, (x * 0.5).tanh()):
        assert y.dtype == np.float32
    s = (x * 2.0).sum()
    assert s.dtype == np.float32
    s.backward()
    assert x.grad.dtype == np.float32


def test_numpy_promotion_between_arrays():
    a = Value(np.ones(2, np.float32))
    b = Value(np.ones(2, np.float64))
    c = a * b
    assert c.dtype == np.float64
    c.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


def test_repr_helps_in_a_debugger():
    x = Value(2.0, label="x")
    y = x * 3.0
    assert repr(x) == "Value(label='x', data=2, grad=None)"
    assert "op='*'" in repr(y) and "data=6" in repr(y)
    y.backward()
    assert "grad=3" in repr(x)
    t = Value(np.zeros((4, 3), np.float32), label="h")
    assert "shape=(4, 3)" in repr(t) and "float32" in repr(t) and "'h'" in repr(t)


def test_properties():
    x = Value(np.arange(6.0).reshape(2, 3), label="x")
    assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6 and x.op == "" and x.parents == ()
    y = x.T
    assert y.op == "transpose" and y.parents == (x,)
    assert Value(3.5).item() == 3.5
    assert x.numpy() is x.data
    with pytest.raises(ValueError, match=r"item: .*shape \(2, 3\)"):
        x.item()


def test_ndarray_on_the_left_defers_to_value():
    x = Value([1.0, 2.0])
    y = np.array([3.0, 4.0]) * x
    assert isinstance(y, Value)
    np.testing.assert_array_equal(y.data, [3.0, 8.0])
    z = np.float64(2.0) + x
    assert isinstance(z, Value)


# -- grad: None, zeros, accumulation -----------------------------------------------------------
def test_grad_none_until_reached_zeros_when_dead():
    x = Value([-1.0, -2.0], label="x")
    unused = Value(1.0)
    y = x.relu().sum()
    assert x.grad is None
    y.backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])  # reached, and dead
    assert unused.grad is None  # never reached


def test_interior_nodes_keep_their_grads():
    x = Value(2.0)
    h = x * x
    y = h * 3.0
    y.backward()
    assert h.grad.item() == 3.0 and y.grad.item() == 1.0 and x.grad.item() == 12.0


def test_gradients_accumulate_across_backward_calls():
    x = Value(np.array([1.0, 2.0]))
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * 2 * x.data)
    (x * x).sum().backward()  # a new forward pass: accumulates again
    np.testing.assert_allclose(x.grad, 3 * 2 * x.data)
    x.zero_grad()
    assert x.grad is None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 3.0])


def test_interior_gradients_accumulate_without_double_counting():
    x = Value(3.0)
    h = x * 2.0
    y = h * h
    y.backward(retain_graph=True)
    y.backward()
    assert h.grad.item() == pytest.approx(2 * 2 * 6.0)
    assert x.grad.item() == pytest.approx(2 * 2 * 6.0 * 2)


def test_ordered_parents_a_times_a_has_two_edges():
    a = Value(3.0)
    y = a * a
    assert y.parents == (a, a)
    y.backward()
    assert a.grad.item() == 6.0


def test_argument_order_survives():
    a, b = Value(5.0), Value(2.0)
    assert (a - b).parents == (a, b) and (a - b).item() == 3.0
    y = b / a
    y.backward()
    assert a.grad.item() == pytest.approx(-2 / 25) and b.grad.item() == pytest.approx(1 / 5)


def test_grad_is_writeable_even_after_sum():
    x = Value(np.ones((3, 4)))
    x.sum().backward()
    x.grad[0, 0] = 5.0  # a broadcast view would refuse this
    assert x.grad[0, 0] == 5.0


def test_scalar_and_tensor_paths_agree():
    xs = [0.3, -1.2, 2.0]
    scal = [Value(v) for v in xs]
    out = sum(((v * 0.9 + 0.1).tanh() * v).exp() for v in scal)
    out.backward()
    t = Value(np.array(xs))
    ((t * 0.9 + 0.1).tanh() * t).exp().sum().backward()
    np.testing.assert_allclose([v.grad.item() for v in scal], t.grad, rtol=1e-12)


# -- backward ----------------------------------------------------------------------------------
def test_backward_needs_grad_for_many_element_outputs():
    x = Value(np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"shape \(3, 4\)"):
        (x * 2).backward()
    y = x * 2
    with pytest.raises(ValueError, match=r"\(2,\) does not match .*\(3, 4\)"):
        y.backward(grad=np.ones(2))
    y.backward(grad=np.ones((3, 4)))
    np.testing.assert_allclose(x.grad, 2.0)


def test_one_element_output_of_any_rank_seeds_one():
    x = Value(np.array([[2.0]]))
    (x * 3).backward()
    assert x.grad.shape == (1, 1) and x.grad[0, 0] == 3.0


def test_no_grad_builds_no_graph():
    x = Value(2.0)
    with no_grad():
        y = x * 3
    assert not y.requires_grad and y.parents == () and y.op == ""
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()

    @no_grad()
    def f(v):
        return v * v

    assert not f(x).requires_grad
    assert (x * 3).requires_grad  # restored


def test_detach_cuts_the_graph():
    x = Value(2.0)
    y = (x * 3).detach()
    z = y * x
    z.backward()
    assert x.grad.item() == 6.0 and not y.requires_grad and y.grad is None


def test_requires_grad_false_keeps_none():
    c = Value([1.0, 2.0], requires_grad=False)
    x = Value([3.0, 4.0])
    (c * x).sum().backward()
    assert c.grad is None and x.grad is not None


def test_a_million_ops_deep_chain_has_no_recursion():
    x = Value(0.5)
    y = x
    for _ in range(1_000_000):
        y = -y
    y.backward()
    assert x.grad.item() == 1.0
    assert len(backward_order(y)) == 1_000_001


def test_backward_order_is_topological():
    a = Value(1.0)
    b = a * 2
    c = a + b
    d = c * b
    order = backward_order(d)
    pos = {id(v): i for i, v in enumerate(order)}
    for v in order:
        for p in v.parents:
            if p.requires_grad:
                assert pos[id(p)] < pos[id(v)]


# -- kinks and the lecture's activation numbers -----------------------------------------------
def _grad_at(fn, x):
    v = Value(float(x))
    fn(v).backward()
    return v.grad.item()


def test_derivatives_at_kinks_follow_pytorch():
    assert _grad_at(F.relu, 0.0) == 0.0
    assert _grad_at(lambda v: F.leaky_relu(v, 0.1), 0.0) == pytest.approx(0.1)
    assert _grad_at(F.elu, 0.0) == pytest.approx(1.0)
    assert _grad_at(lambda v: v.abs(), 0.0) == 0.0
    x = Value(np.zeros(3))
    F.relu(x).sum().backward()
    np.testing.assert_array_equal(x.grad, 0.0)


def test_sigmoid_gradient_at_minus_ten_zero_ten():
    """The lecture: sigmoid's gradient is 0.25 at 0 and vanishes (about 4.5e-5) at +-10."""
    assert _grad_at(F.sigmoid, 0.0) == pytest.approx(0.25)
    for x in (-10.0, 10.0):
        s = 1 / (1 + math.exp(-x))
        assert _grad_at(F.sigmoid, x) == pytest.approx(s * (1 - s), rel=1e-9)
        assert _grad_at(F.sigmoid, x) < 5e-5


def test_tanh_saturates():
    assert _grad_at(F.tanh, 0.0) == pytest.approx(1.0)
    assert _grad_at(F.tanh, 10.0) < 1e-8 and _grad_at(F.tanh, -10.0) < 1e-8


def test_relu_kills_half_of_symmetric_inputs():
    x = Value(np.linspace(-1, 1, 100))
    F.relu(x).sum().backward()
    assert np.mean(x.grad == 0) == pytest.approx(0.5)


def test_extreme_inputs_stay_finite():
    x = Value(np.array([-1e4, -50.0, 0.0, 50.0, 1e4]))
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        for fn in (F.sigmoid, F.tanh, F.elu, F.softmax, F.log_softmax):
            y = fn(x)
            y.backward(np.ones(5))
            assert np.all(np.isfinite(y.data)) and np.all(np.isfinite(x.grad))
            x.zero_grad()


# -- local gradients for drawings ----------------------------------------------------------------
def test_local_gradients_on_request():
    a, b = Value(np.array([1.0, 2.0])), Value(np.array([3.0, 4.0]))
    y = a * b
    np.testing.assert_array_equal(y.ctx.local_grad(0), b.data)
    np.testing.assert_array_equal(y.ctx.local_grad(1), a.data)
    W = Value(np.ones((2, 3)))
    z = a @ W
    assert z.ctx.local_grad(0) == "grad @ b.T"
    t = F.tanh(a)
    np.testing.assert_allclose(t.ctx.local_grad(0), 1 - np.tanh(a.data) ** 2)
    z.sum().backward()
    ga, gW = z.ctx.input_grads(z.grad)
    np.testing.assert_allclose(ga, a.grad)
    np.testing.assert_allclose(gW, W.grad)


def test_scalar_edges_read_downstream_equals_upstream_times_local():
    f, v = neuron()
    f.backward()
    node = f.parents[0]  # the sum feeding the sigmoid
    upstream = f.grad.item()
    local = float(f.ctx.local_grad(0))
    assert node.grad.item() == pytest.approx(upstream * local)


# -- custom Functions ---------------------------------------------------------------------------
class Cube(Function):
    """x**3, written by a user."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x=x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        return 3 * ctx.x ** 2 * g


class WrongCube(Cube):
    @staticmethod
    def backward(ctx, g):
        return 2 * ctx.x ** 2 * g


def test_user_function_is_an_op_like_any_other():
    x = Value(np.array([1.0, -2.0]), label="x")
    y = Cube.apply(x)
    assert y.op == "cube" and y.parents == (x,)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, 3 * x.data ** 2)
    assert gradcheck(Cube.apply, x)


@given(arrays(shapes(), -2, 2))
def test_user_function_property(x):
    assert gradcheck(Cube.apply, Value(x))


def test_gradcheck_reports_the_worst_element_in_one_sentence():
    x = Value(np.array([1.0, -2.0, 0.5]), label="x")
    with pytest.raises(GradcheckError) as e:
        gradcheck(lambda v: WrongCube.apply(v).sum(), x)
    msg = str(e.value)
    assert "'x'" in msg and "index (1,)" in msg and "analytic 8" in msg and "numeric 12" in msg
    assert "relative error" in msg and "3 of 3 elements" in msg
    assert msg.count("\n") == 0


def test_gradcheck_names_inputs_by_position_and_uses_float64():
    seen = []

    def fn(a, b):
        seen.append(a.dtype)
        return WrongCube.apply(a) * b

    with pytest.raises(GradcheckError, match="position 0"):
        gradcheck(fn, np.ones(2, np.float32), Value(np.ones(2), requires_grad=False))
    assert set(seen) == {np.dtype(np.float64)}


# -- bad input ----------------------------------------------------------------------------------
def test_errors_name_the_op_and_the_shapes():
    with pytest.raises(ValueError, match=r"\+: .*\(2, 3\).*\(4,\)"):
        Value(np.ones((2, 3))) + Value(np.ones(4))
    with pytest.raises(ValueError,
                       match=r"matmul: shapes \(3, 5\) and \(4, 2\) do not align \(5 != 4\)"):
        Value(np.ones((3, 5))) @ Value(np.ones((4, 2)))
    with pytest.raises(ValueError,
                       match=r"softmax_cross_entropy: label 3 is out of range for 3 classes"):
        F.softmax_cross_entropy(Value(np.zeros((2, 3))), np.array([0, 3]))
    with pytest.raises(ValueError, match=r"svm_loss: label -1 is out of range"):
        F.svm_loss(Value(np.zeros((2, 3))), np.array([0, -1]))
    with pytest.raises(TypeError, match=r"softmax_cross_entropy: labels must be integers"):
        F.softmax_cross_entropy(Value(np.zeros((2, 3))), np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match=r"pow: fractional power 0.5 of a negative base"):
        Value(np.array([-1.0, 4.0])) ** 0.5
    with pytest.raises(ValueError, match=r"pow: fractional power"):
        Value(-2.0) ** 1.5
    with pytest.raises(TypeError, match=r"Value: data must be numeric"):
        Value("abc")
    with pytest.raises(TypeError, match=r"Value: data must be numeric"):
        Value({"a": 1})
    with pytest.raises(ValueError, match=r"linear: x of shape \(2, 3\) and W of shape \(4, 5\)"):
        F.linear(Value(np.ones((2, 3))), Value(np.ones((4, 5))))
    with pytest.raises(ValueError,
                       match=r"mse_loss: pred of shape \(3, 1\) and target of shape \(3,\)"):
        F.mse_loss(Value(np.ones((3, 1))), np.ones(3))
    with pytest.raises(ValueError, match=r"softmax_cross_entropy: empty batch"):
        F.softmax_cross_entropy(Value(np.zeros((0, 3))), np.zeros(0, np.int64))
    with pytest.raises(ValueError, match=r"maxout: .*shape \(2, 5\).*k=2"):
        F.maxout(Value(np.ones((2, 5))), 2)
    with pytest.raises(ValueError, match=r"prelu: alpha of shape \(4,\)"):
        F.prelu(Value(np.ones((2, 3))), Value(np.ones(4)))
    with pytest.raises(ValueError, match=r"reshape: cannot reshape shape \(2, 3\)"):
        Value(np.ones((2, 3))).reshape(4, 2)
    with pytest.raises(IndexError, match=r"getitem: .*shape \(2,\)"):
        Value(np.ones(2))[5]


def test_testing_strategies_keep_away_from_kinks():
    x = away_from(np.array([0.0, 0.01, -0.02, 1.0]), points=(0.0,), margin=0.05)
    assert np.all(np.abs(x) >= 0.05)
    assert x[3] == 1.0


def test_out_of_range_labels_are_index_errors_as_in_pytorch():
    scores = Value(np.zeros((2, 3)))
    for loss in (F.softmax_cross_entropy, F.svm_loss):
        with pytest.raises(IndexError, match="out of range for 3 classes"):
            loss(scores, np.array([0, 3]))
        with pytest.raises(ValueError, match="out of range for 3 classes"):
            loss(scores, np.array([-1, 0]))


def test_a_second_backward_through_a_shared_part_changes_nothing_before_it_raises():
    """loss2 = c * loss reuses loss's graph, which loss.backward() released: the error comes
    before any .grad is touched (c's and loss2's included), so nothing is half-added."""
    x = Value(np.array([1.0, -2.0]))
    loss = (x * x).sum()
    loss.backward()
    c = Value(3.0)
    loss2 = c * loss
    before = x.grad.copy()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        loss2.backward()
    assert c.grad is None and loss2.grad is None
    np.testing.assert_array_equal(x.grad, before)


@pytest.mark.parametrize("data", [-1.5, np.array([-2.0, 0.5, 3.0]),
                                  np.array([[-1.0, 2.0]], dtype=np.float32)])
def test_builtin_abs_is_the_abs_op(data):
    """abs(v) works (pow's message suggests abs()) and is v.abs(): value, dtype and gradient."""
    x = Value(data)
    y = abs(x)
    assert y.op == "abs" and y.dtype == x.dtype
    np.testing.assert_array_equal(y.data, np.abs(x.data))
    y.backward(np.ones(y.shape, y.dtype))
    np.testing.assert_array_equal(x.grad, np.sign(x.data))
