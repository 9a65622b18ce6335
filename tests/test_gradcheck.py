"""gradcheck's own verdicts: what must fail does fail (NaN, inf, a wrong sign, an ignored
upstream gradient, an error that cancels in a plain sum), and what is right passes."""
import importlib.util

import numpy as np
import pytest

import tinygrad_lite
import tinygrad_lite.functional as F
from tinygrad_lite import Function, GradcheckError, Value, gradcheck

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NaN and inf on purpose


class _Square(Function):
    """y = x ** 2 with a backward chosen by the test (right, wrong sign, NaN, ...)."""

    op = "square"
    rule = staticmethod(lambda x, g: 2 * x * g)

    @staticmethod
    def forward(ctx, x):
        ctx.save(x=x)
        return x * x

    @classmethod
    def backward(cls, ctx, g):
        return cls.rule(ctx.x, g)


def _square_with(rule):
    return type("Square", (_Square,), {"rule": staticmethod(rule)})


def test_a_right_backward_passes():
    assert gradcheck(_square_with(lambda x, g: 2 * x * g).apply, np.array([0.5, -1.5, 2.0]))


def test_a_wrong_sign_fails():
    op = _square_with(lambda x, g: -2 * x * g)
    with pytest.raises(GradcheckError, match=r"analytic -1, numeric 1\b"):
        gradcheck(op.apply, Value(np.array(0.5), label="x"))
    with pytest.raises(GradcheckError, match="3 of 3 elements"):
        gradcheck(op.apply, np.array([0.5, -1.5, 2.0]))


def test_a_backward_that_ignores_its_upstream_gradient_fails():
    """With ones as the upstream gradient, 2 * x (forgetting * g) would pass."""
    op = _square_with(lambda x, g: 2 * x)
    with pytest.raises(GradcheckError, match="gradcheck of square"):
        gradcheck(op.apply, np.array([0.5, -1.5, 2.0, 1.0]))


class _Softmax(Function):
    """Softmax over the last axis with a backward chosen by the test."""

    op = "my_softmax"
    rule = staticmethod(lambda s, g: s * (g - (g * s).sum(-1, keepdims=True)))

    @staticmethod
    def forward(ctx, x):
        e = np.exp(x - x.max(-1, keepdims=True))
        s = e / e.sum(-1, keepdims=True)
        ctx.save(s=s)
        return s

    @classmethod
    def backward(cls, ctx, g):
        return cls.rule(ctx.s, g)


def _softmax_with(rule):
    return type("Softmax", (_Softmax,), {"rule": staticmethod(rule)})


X = np.array([[0.3, -1.2, 2.0, 0.1], [1.0, 0.5, -0.5, 0.0]])


def test_softmax_right_backward_passes():
    assert gradcheck(_Softmax.apply, X)


@pytest.mark.parametrize("rule", [
    lambda s, g: s * (g - g.mean(-1, keepdims=True)),  # mean instead of the s-weighted sum
    lambda s, g: np.zeros_like(g),  # the gradient of sum(softmax) is 0: zeros "pass" a sum
    lambda s, g: s * (1 - s) * (g - 1),  # only the diagonal of the Jacobian, shifted
], ids=["unweighted_mean", "zeros", "diagonal_only"])
def test_softmax_errors_that_cancel_in_a_plain_sum_fail(rule):
    op = _softmax_with(rule)
    ones = np.ones_like(X)
    # the error cancels for an upstream gradient of ones: a plain sum sees nothing wrong
    x = Value(X.copy())
    out = op.apply(x)
    out.backward(grad=ones)
    np.testing.assert_allclose(x.grad, 0.0, atol=1e-12)
    with pytest.raises(GradcheckError, match="gradcheck of softmax"):
        gradcheck(op.apply, X)


def test_the_random_projection_is_seeded():
    op = _square_with(lambda x, g: 2 * x)
    msgs = []
    for _ in range(2):
        with pytest.raises(GradcheckError) as err:
            gradcheck(op.apply, np.array([0.5, -1.5, 2.0]))
        msgs.append(str(err.value))
    assert msgs[0] == msgs[1]


# -- non-finite gradients ---------------------------------------------------------------------


def test_a_nan_backward_fails():
    op = _square_with(lambda x, g: np.full_like(x, np.nan))
    with pytest.raises(GradcheckError, match="non-finite gradient never passes"):
        gradcheck(op.apply, np.array([0.5, -1.5]))
    with pytest.raises(GradcheckError, match="analytic nan, numeric 1"):
        gradcheck(op.apply, Value(np.array(0.5)))


def test_an_inf_backward_fails():
    op = _square_with(lambda x, g: np.full_like(x, np.inf))
    with pytest.raises(GradcheckError, match="analytic inf"):
        gradcheck(op.apply, np.array([0.5, -1.5]))


@pytest.mark.parametrize("fn, x", [
    (lambda v: v.sqrt(), np.array([0.0, 1.0])),  # analytic inf, numeric NaN at 0
    (lambda v: v.log(), np.array([0.0, 1.0])),
    (lambda v: v.sqrt(), np.array(-1.0)),  # NaN on both sides
])
def test_non_finite_at_poles_fails_by_default(fn, x):
    with pytest.raises(GradcheckError, match="non-finite"):
        gradcheck(fn, x)


def test_nonfinite_ok_passes_only_matching_non_finite_values():
    assert gradcheck(lambda v: v.sqrt(), np.array(-1.0), nonfinite_ok=True)  # NaN and NaN
    with pytest.raises(GradcheckError, match="not the same non-finite value"):
        gradcheck(lambda v: v.sqrt(), np.array(0.0), nonfinite_ok=True)  # inf against NaN
    op = _square_with(lambda x, g: np.where(x > 0, np.nan, 2 * x * g))
    with pytest.raises(GradcheckError, match=r"analytic nan, numeric 0\.1"):
        gradcheck(op.apply, np.array([0.5, -1.5]), nonfinite_ok=True)  # NaN against 1
    # finite elements beside non-finite ones are still compared
    op = _square_with(lambda x, g: np.where(x > 0, np.inf, -2 * x * g))
    with pytest.raises(GradcheckError):
        gradcheck(op.apply, np.array([0.5, -1.5]), nonfinite_ok=True)


def test_a_nan_numeric_gradient_fails():
    """fn's output turns NaN under the finite-difference nudge while backward says 0."""
    class Step(Function):
        op = "nan_step"

        @staticmethod
        def forward(ctx, x):
            return np.where(x > 0.5, np.nan, 0.0) + 0 * x

        @staticmethod
        def backward(ctx, g):
            return np.zeros_like(g)

    with pytest.raises(GradcheckError, match="numeric nan"):
        gradcheck(Step.apply, np.array(0.5))


# -- the name -------------------------------------------------------------------------------


def test_tinygrad_lite_gradcheck_is_the_function():
    from tinygrad_lite import gradient_check

    assert tinygrad_lite.gradcheck is gradient_check.gradcheck
    assert tinygrad_lite.GradcheckError is gradient_check.GradcheckError
    try:
        import tinygrad_lite.gradcheck as g  # noqa: PLC0415
    except ModuleNotFoundError:
        pass
    else:
        assert g is gradient_check.gradcheck
    assert tinygrad_lite.gradcheck is gradient_check.gradcheck
    assert gradcheck(F.tanh, np.array([0.1, -0.2]))


def test_no_module_shadows_the_function():
    assert importlib.util.find_spec("tinygrad_lite.gradcheck") is None
