"""Optimizers: SGD (momentum, Nesterov, weight decay) and Adam against hand-computed steps."""
import math

import numpy as np
import pytest

from tinygrad_lite import Value, nn, optim


def with_grad(value, grad):
    """A parameter whose .grad is set as a backward pass would leave it."""
    p = Value(np.array(value, dtype=float))
    p.grad = np.array(grad, dtype=float)
    return p


def test_plain_sgd_step():
    p = with_grad([1.0, -2.0], [0.5, 4.0])
    optim.SGD([p], lr=0.1).step()
    np.testing.assert_allclose(p.data, [1.0 - 0.05, -2.0 - 0.4])


def test_sgd_momentum_follows_pytorch_convention():
    # v1 = g1; v2 = 0.9 v1 + g2; p -= lr * v each step
    p = Value(np.array([1.0]))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = np.array([2.0])
    opt.step()
    np.testing.assert_allclose(p.data, [1.0 - 0.2])
    p.grad = np.array([-1.0])
    opt.step()
    np.testing.assert_allclose(p.data, [0.8 - 0.1 * (0.9 * 2.0 - 1.0)])
    np.testing.assert_allclose(opt.state[p]["momentum_buffer"], [0.8])


def test_sgd_nesterov_and_weight_decay():
    p = Value(np.array([2.0]))
    opt = optim.SGD([p], lr=0.1, momentum=0.5, weight_decay=0.25, nesterov=True)
    p.grad = np.array([1.0])
    opt.step()  # g = 1 + 0.25 * 2 = 1.5; v = 1.5; step = g + 0.5 v = 2.25
    np.testing.assert_allclose(p.data, [2.0 - 0.225])
    p.grad = np.array([1.0])
    opt.step()  # g = 1 + 0.25 * 1.775 = 1.44375; v = 0.75 + 1.44375; step = g + 0.5 v
    g = 1 + 0.25 * 1.775
    v = 0.5 * 1.5 + g
    np.testing.assert_allclose(p.data, [1.775 - 0.1 * (g + 0.5 * v)])


def test_adam_bias_correction_makes_a_constant_gradient_step_lr():
    # with a constant gradient, m_hat = g and v_hat = g^2 at every step: step = lr * g / (|g| + eps)
    p = Value(np.array([1.0, 1.0]))
    opt = optim.Adam([p], lr=0.01, eps=1e-8)
    for _ in range(3):
        p.grad = np.array([3.0, -0.5])
        opt.step()
    np.testing.assert_allclose(p.data, [1.0 - 0.03 * 3 / (3 + 1e-8),
                                        1.0 + 0.03 * 0.5 / (0.5 + 1e-8)])
    assert opt.state[p]["step"] == 3


def test_adam_two_steps_by_hand_with_weight_decay():
    p = Value(np.array([1.0]))
    opt = optim.Adam([p], lr=0.1, betas=(0.5, 0.75), eps=0.0, weight_decay=1.0)
    p.grad = np.array([1.0])
    opt.step()  # g = 2: m = 1, v = 1; m_hat = 2, v_hat = 4 -> step 0.1
    np.testing.assert_allclose(p.data, [0.9])
    p.grad = np.array([0.1])
    opt.step()  # g = 1.0: m = 0.5 + 0.5 = 1, v = 0.75 + 0.25 = 1; m_hat = 4/3, v_hat = 16/7
    np.testing.assert_allclose(p.data, [0.9 - 0.1 * (4 / 3) / math.sqrt(16 / 7)])


def test_step_skips_parameters_without_gradient():
    a = with_grad([1.0], [1.0])
    b = Value(np.array([5.0]))  # not reached by backward: grad None
    opt = optim.Adam([a, b], lr=0.1)
    opt.step()
    np.testing.assert_array_equal(b.data, [5.0])
    assert b not in opt.state and a in opt.state


def test_a_bad_gradient_updates_nothing():
    a = with_grad([1.0, 2.0], [1.0, 1.0])
    b = with_grad([1.0, 2.0, 3.0], [1.0, 1.0, 1.0])
    b.data = np.zeros(4)  # the parameter changed shape after backward
    opt = optim.SGD([a, b], lr=0.1)
    with pytest.raises(ValueError, match=r"SGD.step: parameter 1 of shape \(4,\) has a gradient "
                                         r"of shape \(3,\); no parameter was updated"):
        opt.step()
    np.testing.assert_array_equal(a.data, [1.0, 2.0])


def test_params_are_checked_and_a_generator_is_accepted():
    ps = [Value(np.ones(2)), Value(np.ones(3))]
    opt = optim.SGD((p for p in ps), lr=0.1)
    assert opt.params == ps
    with pytest.raises(TypeError, match=r"SGD: params item 1 is a ndarray, not a Value"):
        optim.SGD([ps[0], np.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match="empty list of parameters"):
        optim.Adam([])
    with pytest.raises(ValueError, match="Nesterov momentum needs momentum > 0"):
        optim.SGD(ps, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match=r"Adam: betas\[1\] must be >= 0.0 and < 1.0"):
        optim.Adam(ps, betas=(0.9, 1.0))


def test_lr_can_change_between_steps_and_zero_grad():
    p = with_grad([0.0], [1.0])
    opt = optim.SGD([p], lr=1.0)
    opt.step()
    opt.lr = 0.5
    opt.step()
    np.testing.assert_allclose(p.data, [-1.5])
    opt.zero_grad()
    assert p.grad is None


def test_scalar_and_float32_parameters():
    s = Value(3.0)
    f = Value(np.ones(2, np.float32))
    opt = optim.SGD([s, f], lr=0.5, momentum=0.9)
    (s * s + (f * f).sum()).backward()
    opt.step()
    assert s.item() == pytest.approx(3.0 - 0.5 * 6.0)
    assert f.dtype == np.float32
    np.testing.assert_allclose(f.data, [0.0, 0.0])


@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
                                  lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
                                  lambda ps: optim.Adam(ps, lr=0.1)])
def test_optimizers_minimise_a_quadratic(make):
    target = np.array([3.0, -2.0, 0.5])
    w = Value(np.zeros(3))
    opt = make([w])
    for _ in range(300):
        opt.zero_grad()
        loss = ((w - target) ** 2).sum()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(w.data, target, atol=1e-2)


def test_builtin_steps_update_in_place_without_copying_the_weights():
    w = Value(np.ones((3, 2)))
    before = w.data
    opt = optim.SGD([w], lr=0.5, momentum=0.9)
    w.grad = np.full((3, 2), 2.0)
    opt.step()
    assert w.data is before  # updated in place: no second copy of the weight
    np.testing.assert_allclose(w.data, 0.0)


def test_under_errstate_raise_an_overflowing_step_changes_nothing():
    """With numpy set to raise, every step is computed before the first write."""
    a = Value(np.ones(3), label="a")
    b = Value(np.full(2, 1e308), label="b")
    opt = optim.SGD([a, b], lr=1.0)
    a.grad = np.ones(3)
    b.grad = np.full(2, -1e308)  # b - lr * g overflows to inf
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        opt.step()
    np.testing.assert_array_equal(a.data, 1.0)
    np.testing.assert_array_equal(b.data, 1e308)


@pytest.mark.parametrize("make", [optim.SGD, optim.Adam])
def test_an_optimizer_given_the_parameters_method_says_to_call_it(make):
    model = nn.Linear(2, 3)
    with pytest.raises(TypeError, match=r"call it: .*model\.parameters\(\)"):
        make(model.parameters, lr=0.1)
