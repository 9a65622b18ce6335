"""Backward's mechanics, each test written against a realistic engine bug (a mutant of
``tools/mutants.py``) that the rest of the fast subset let through: the lock around ``.grad``,
the pending-gradient dict, retain_graph, data-change stamps, hooks, seeds, drawings' helpers."""
import threading

import numpy as np
import pytest

from tinygrad_lite import Function, GradcheckError, Value, gradcheck
from tinygrad_lite.gradient_check import numerical_grad


def test_threads_adding_to_one_leaf_lose_no_gradient():
    """Several threads backpropagate into one shared leaf at the same moment (a hook on the
    leaf holds each thread until all have arrived). The read-add-write of ``.grad`` must be
    atomic: numpy releases the GIL while adding large arrays, so without the lock two threads
    read the same old ``.grad`` and one sum is lost."""
    n_threads, rounds, size = 4, 3, 1 << 18
    w = Value(np.zeros(size))
    w.grad = np.zeros(size)  # so every update is the read-add-write path
    barrier = threading.Barrier(n_threads, timeout=30)

    def hold(g):
        barrier.wait()  # every thread reaches w's update together

    w.register_hook(hold)
    errors: list = []

    def work():
        try:
            for _ in range(rounds):
                (w * 1.0).sum().backward()
        except Exception as e:  # noqa: BLE001 - reported by the assertion below
            errors.append(repr(e))
            barrier.abort()

    threads = [threading.Thread(target=work) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    np.testing.assert_array_equal(w.grad, np.full(size, float(n_threads * rounds)))


# -- the seed ------------------------------------------------------------------------------

def test_the_seed_takes_the_outputs_dtype():
    """A float32 output's .grad is float32, whether backward seeds it with 1 (one element) or
    the caller passes a float64 array."""
    x = Value(np.ones(3, np.float32))
    s = (x * 2.0).sum()  # one element, float32
    s.backward()
    assert s.grad.dtype == np.float32 and x.grad.dtype == np.float32
    y = x * 2.0
    y.backward(np.ones(3))  # float64
    assert y.grad.dtype == np.float32 and x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [4.0, 4.0, 4.0])


def test_the_output_keeps_a_copy_of_the_grad_passed_to_backward():
    x = Value(np.array([1.0, 2.0]))
    y = x * 3.0
    g = np.ones(2)
    y.backward(g)
    y.grad[:] = 5.0  # the output's .grad is its own array
    np.testing.assert_array_equal(g, [1.0, 1.0])
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


@pytest.mark.parametrize("data", [1.5, np.array([1.5])], ids=["float", "one-element-array"])
def test_a_grad_passed_for_a_one_element_output_is_used(data):
    x = Value(data)
    y = x * 3.0
    y.backward(2.0 if np.ndim(data) == 0 else np.array([2.0]))
    np.testing.assert_array_equal(y.grad, np.full(np.shape(data), 2.0))
    np.testing.assert_array_equal(x.grad, np.full(np.shape(data), 6.0))


# -- retain_graph --------------------------------------------------------------------------

@pytest.mark.parametrize("data", [1.5, np.array([1.0, 2.0])], ids=["float", "array"])
def test_a_second_backward_without_retain_graph_raises_and_adds_nothing(data):
    x = Value(data)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()
    np.testing.assert_array_equal(x.grad, 2 * np.asarray(data))
    np.testing.assert_array_equal(y.grad, 1.0)


# -- data changed after an op saved it (versions.py) ---------------------------------------

def test_backward_after_the_saved_input_changed_raises():
    w = Value(np.array([1.0, 2.0]), label="w")
    y = (w * w).sum()
    w.data = np.array([3.0, 4.0])
    with pytest.raises(RuntimeError, match=r"\*: input 0 'w' of shape \(2,\) was changed"):
        y.backward()


def test_backward_after_the_saved_output_changed_in_place_raises():
    w = Value(np.array([1.0, 2.0]))
    t = w.tanh()  # tanh's backward reads its output
    t.data -= 1.0  # the same array, changed in place (through the setter)
    with pytest.raises(RuntimeError, match="tanh: its output of shape \\(2,\\) was changed"):
        t.sum().backward()


def test_a_change_before_the_op_ran_is_not_a_change_after():
    w, other = Value(np.array([1.0, 2.0])), Value(np.zeros(2))
    w.data = np.array([3.0, 4.0])  # then the forward pass runs again, as it should
    y = (w * w).sum()
    other.data = np.ones(2)  # a later change elsewhere: backward looks at w's change too
    y.backward()
    np.testing.assert_array_equal(w.grad, [6.0, 8.0])


def test_ops_that_read_no_changed_data_do_not_mind_the_change():
    """+ reads no input data, and tanh only its output: changing their input is harmless."""
    w = Value(np.array([1.0, 2.0]))
    y = (w + 1.0).sum() + w.tanh().sum()
    w.data = np.array([5.0, 6.0])
    y.backward()
    np.testing.assert_allclose(w.grad, 1.0 + (1.0 - np.tanh([1.0, 2.0]) ** 2))


# -- hooks ---------------------------------------------------------------------------------

@pytest.mark.parametrize("data", [1.5, np.array([1.0, 2.0])], ids=["float", "array"])
def test_hooks_replace_the_gradient_in_turn(data):
    """Each hook sees what the hook before it returned; the last result is what .grad keeps
    and what flows on to the inputs."""
    x = Value(data)
    h = x * 2.0
    h.register_hook(lambda g: g * 10.0)
    h.register_hook(lambda g: g + 1.0)
    (h * 3.0).sum().backward()
    np.testing.assert_array_equal(h.grad, np.full(np.shape(data), 31.0))
    np.testing.assert_array_equal(x.grad, np.full(np.shape(data), 62.0))


# -- what drawings call: local_grad, input_grads (function.py) -----------------------------

def test_local_grad_is_in_the_outputs_shape_and_given_for_a_constant_input():
    """An edge of a drawing shows d out / d input in the output's shape, also for an input
    that needs no gradient (backward itself returns None for it)."""
    x = Value(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
    c = Value(np.array([2.0, -1.0, 0.5]), requires_grad=False)
    y = x * c
    np.testing.assert_array_equal(y.ctx.local_grad(0), np.broadcast_to(c.data, (2, 3)))
    np.testing.assert_array_equal(y.ctx.local_grad(1), x.data)
    s = x * 3.0  # a number: a 0-d constant
    np.testing.assert_array_equal(s.ctx.local_grad(0), np.full((2, 3), 3.0))


def test_input_grads_are_summed_back_to_each_inputs_shape():
    a = Value(np.ones((2, 3)))
    b = Value(np.array([1.0, 2.0, 3.0]))
    y = a * b
    ga, gb = y.ctx.input_grads(np.ones((2, 3)))
    np.testing.assert_array_equal(ga, np.broadcast_to(b.data, (2, 3)))
    np.testing.assert_array_equal(gb, [2.0, 2.0, 2.0])


def test_a_hooks_result_takes_the_values_dtype():
    x = Value(np.ones(3, np.float32))
    h = x * 2.0
    h.register_hook(lambda g: np.full(3, 0.5))  # float64
    h.sum().backward()
    assert h.grad.dtype == np.float32 and x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [1.0, 1.0, 1.0])


# -- constants -----------------------------------------------------------------------------

def test_numbers_and_arrays_become_constants_that_need_no_gradient():
    x = Value(np.ones(2), requires_grad=False)
    assert not (x * 3.0).requires_grad and not (x + np.ones(2)).requires_grad
    w = Value(np.ones(2))
    y = w * np.array([2.0, 3.0])
    assert y.requires_grad and not y.parents[1].requires_grad


# -- gradcheck (gradient_check.py) ---------------------------------------------------------

class _Step(Function):
    """0 for x <= 0, +inf for x > 0: at 0 the numeric derivative is +inf."""

    @staticmethod
    def forward(ctx, x, *, sign=1.0):
        ctx.save(sign=sign)
        return np.where(x > 0, np.inf, 0.0)

    @staticmethod
    def backward(ctx, g):
        return g * (ctx.sign * np.inf)


def test_nonfinite_ok_does_not_let_inf_pass_for_minus_inf():
    assert gradcheck(lambda v: _Step.apply(v, sign=1.0), 0.0, nonfinite_ok=True)
    with pytest.raises(GradcheckError, match="not the same non-finite value"):
        gradcheck(lambda v: _Step.apply(v, sign=-1.0), 0.0, nonfinite_ok=True)


def test_an_input_that_backward_never_reaches_is_compared_with_zeros():
    """b's data is read around the graph (a constant made of it), so backward leaves b.grad
    None although the output depends on b: gradcheck must fail for b, not skip it."""
    def fn(a, b):
        return a * Value(b.data, requires_grad=False)

    with pytest.raises(GradcheckError, match="position 1"):
        gradcheck(fn, np.array([1.0, 2.0]), np.array([3.0, 4.0]))


def test_numerical_grad_leaves_the_array_as_it_found_it():
    x = np.array([1.0, 2.0, 3.0])
    before = x.copy()
    g = numerical_grad(lambda: float((x ** 2).sum()), x)
    np.testing.assert_allclose(g, 2 * before, rtol=1e-6)
    np.testing.assert_array_equal(x, before)
