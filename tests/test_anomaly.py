"""detect_anomaly(): the first op whose forward output or backward gradient holds NaN/inf."""
import inspect
import os
import threading

import numpy as np
import pytest

import tinygrad_lite.anomaly as anomaly_mod
import tinygrad_lite.functional as F
from tinygrad_lite import AnomalyError, Function, Value, detect_anomaly, is_grad_enabled
from tinygrad_lite.anomaly import is_anomaly_enabled

THIS_FILE = os.path.basename(__file__)


def _line_of(marker):
    """Line number in this file of the line containing ``marker``."""
    for i, line in enumerate(inspect.getsource(inspect.getmodule(_line_of)).splitlines(), 1):
        if marker in line and "_line_of(" not in line:
            return i
    raise AssertionError(marker)


@pytest.fixture(autouse=True)
def _quiet_numpy():
    with np.errstate(all="ignore"):  # log(0) and friends warn before anomaly mode raises
        yield


def test_forward_log_of_zero_names_op_shapes_and_site():
    x = Value(np.array([1.0, 0.0, 2.0]), label="x")
    with detect_anomaly():
        with pytest.raises(AnomalyError) as info:
            x.log()  # MARK-forward-log
    e = info.value
    msg = str(e)
    assert e.phase == "forward" and "forward" in msg
    assert e.op == "log" and "of log" in msg
    assert "unlabelled" in msg  # the output has no label yet at forward time
    assert "input shapes (3,)" in msg
    assert "1 inf" in msg and "of 3 elements" in msg
    site = f"{THIS_FILE}:{_line_of('MARK-forward-log')}"
    assert site in msg and site in e.creation_site
    assert "x.log()" in msg  # the source line of the user's code
    assert "log of a value <= 0" in msg


def test_error_is_floating_point_and_runtime_error():
    x = Value(np.array([-1.0]))
    with detect_anomaly():
        with pytest.raises(FloatingPointError):
            x.sqrt()
        with pytest.raises(RuntimeError):
            x.sqrt()


def test_backward_sqrt_at_zero_names_label_and_input():
    x = Value(np.array([0.0, 4.0]), label="x")
    with detect_anomaly():
        r = x.sqrt()  # MARK-backward-sqrt
        r.label = "r"
        loss = r.sum()
        with pytest.raises(AnomalyError) as info:
            loss.backward()
    e = info.value
    msg = str(e)
    assert e.phase == "backward" and "backward of sqrt" in msg
    assert e.label == "r" and "node 'r'" in msg
    assert "input shapes (2,)" in msg
    assert f"{THIS_FILE}:{_line_of('MARK-backward-sqrt')}" in msg
    assert "gradient for input 0" in msg and "labelled 'x'" in msg and "1 inf" in msg
    assert "its own gradient is finite, so this op's backward made them" in msg
    assert e.node is r


def test_first_bad_op_is_blamed_not_the_ones_after():
    x = Value(np.array([1.0, -1.0]), label="x")
    with detect_anomaly():
        with pytest.raises(AnomalyError) as info:
            y = x.sqrt()  # NaN appears here
            z = (y * 2.0).tanh()  # would propagate it
            z.sum()
    assert info.value.op == "sqrt"
    assert "1 NaN" in str(info.value)


def test_bad_input_data_is_named_as_the_cause():
    x = Value(np.array([1.0, np.nan]), label="images")
    with detect_anomaly():
        with pytest.raises(AnomalyError) as info:
            x * 3.0
    msg = str(info.value)
    assert "input 0" in msg and "a leaf" in msg and "labelled 'images'" in msg
    assert "already holds 1 NaN" in msg


def test_exp_overflow_is_caught_in_forward():
    x = Value(np.array([1000.0, 1.0], dtype=np.float32))
    with detect_anomaly():
        with pytest.raises(AnomalyError, match=r"forward of exp.*\n.*1 inf.*\n.*exp overflowed"):
            x.exp()


def test_scalar_fast_path_is_checked():
    a = Value(0.0, label="a")
    with detect_anomaly():
        with pytest.raises(AnomalyError, match="forward of log"):
            a.log()
        b = Value(1e300)
        with pytest.raises(AnomalyError, match=r"forward of \*"):
            b * b


def test_site_is_user_code_when_the_op_comes_through_the_library():
    x = Value(np.ones((2, 3)))
    W = Value(np.full((3, 2), np.inf))
    W.requires_grad = True
    with detect_anomaly():
        with pytest.raises(AnomalyError) as info:
            F.linear(x, W)  # MARK-linear
    e = info.value
    assert e.op == "matmul"
    assert f"{THIS_FILE}:{_line_of('MARK-linear')}" in e.creation_site
    assert "functional.py" not in e.creation_site


def test_graph_built_outside_the_block_reports_unknown_site():
    x = Value(np.array([0.0]))
    loss = x.sqrt().sum()
    with detect_anomaly():
        with pytest.raises(AnomalyError, match="creation site unknown") as info:
            loss.backward()
    assert info.value.creation_site is None


def test_custom_function_with_bad_backward():
    class Leaky(Function):
        """A user's op whose backward is wrong: it returns NaN."""

        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * np.nan

    x = Value(np.ones(3), label="w")
    with detect_anomaly():
        y = Leaky.apply(x)
        with pytest.raises(AnomalyError, match=r"backward of leaky[\s\S]*3 NaN"):
            y.backward(np.ones(3))


def test_state_restored_after_exit_error_and_nesting():
    assert not is_anomaly_enabled()
    with pytest.raises(AnomalyError):
        with detect_anomaly():
            assert is_anomaly_enabled()
            Value(np.array([-1.0])).log()
    assert not is_anomaly_enabled()
    with detect_anomaly():
        with detect_anomaly(check_nan=False):
            assert is_anomaly_enabled()  # an inner False does not switch off an outer True
        with detect_anomaly():
            pass
        assert is_anomaly_enabled()
    assert not is_anomaly_enabled()
    with detect_anomaly(check_nan=False):
        assert not is_anomaly_enabled()
        Value(np.array([-1.0])).log()  # no error: switched off


def test_decorator_form():
    @detect_anomaly()
    def step(x):
        assert is_anomaly_enabled()
        return x.log()

    with pytest.raises(AnomalyError):
        step(Value(np.array([0.0])))
    assert not is_anomaly_enabled()


def test_off_by_default_and_records_nothing(monkeypatch):
    def boom():
        raise AssertionError("stack walked outside anomaly mode")

    monkeypatch.setattr(anomaly_mod, "_creation_site", boom)
    x = Value(np.array([0.0, 1.0]))
    y = x.log()  # no error, no stack walk
    y.backward(np.ones(2))
    assert np.isinf(y.data[0]) and np.isinf(x.grad[0])
    assert y.ctx.creation_site is None


def test_records_creation_site_for_every_node():
    x = Value(np.ones(2))
    with detect_anomaly():
        y = (x * 2.0).tanh()  # MARK-every
    site = f"{THIS_FILE}:{_line_of('MARK-every')}"
    assert site in y.ctx.creation_site
    assert site in y.parents[0].ctx.creation_site


def test_same_results_with_and_without_anomaly_mode():
    rng = np.random.default_rng(0)
    W0 = rng.standard_normal((4, 3))
    xs = rng.standard_normal((5, 4))
    y = np.array([0, 1, 2, 1, 0])

    def run():
        W = Value(W0.copy())
        s = Value(0.5)
        t = s * s + s.tanh()
        loss = F.softmax_cross_entropy(Value(xs) @ W * t, y)
        loss.backward()
        return loss.item(), W.grad.copy(), s.grad.item()

    plain = run()
    with detect_anomaly():
        checked = run()
    assert plain[0] == checked[0]
    np.testing.assert_array_equal(plain[1], checked[1])
    assert plain[2] == checked[2]


def test_thread_local():
    seen = {}

    def worker():
        seen["anomaly"] = is_anomaly_enabled()
        seen["grad"] = is_grad_enabled()
        with np.errstate(all="ignore"):  # numpy's error state is per thread too
            Value(np.array([0.0])).log()  # must not raise in this thread
        seen["ran"] = True

    with detect_anomaly():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        assert is_anomaly_enabled()
    assert seen == {"anomaly": False, "grad": True, "ran": True}


def test_through_modules_the_site_is_the_users_call():
    from tinygrad_lite import nn

    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    model[2].weight.data[0, 0] = np.inf
    x = Value(np.ones((5, 3)), requires_grad=False)
    with detect_anomaly():
        with pytest.raises(AnomalyError) as info:
            model(x)  # MARK-module-call
    e = info.value
    assert e.phase == "forward" and e.op == "matmul"
    assert f"{THIS_FILE}:{_line_of('MARK-module-call')}" in e.creation_site
    assert "nn.py" not in e.creation_site
    assert e.input_shapes == ((5, 4), (4, 2))


def test_batch_norm_backward_anomaly_names_the_layer_op():
    rng = np.random.default_rng(0)
    x = Value(rng.standard_normal((4, 3)), label="x")
    gamma = Value(np.ones(3), label="gamma")
    beta = Value(np.zeros(3), label="beta")
    with detect_anomaly():
        y = F.batch_norm(x, gamma, beta)
        y.label = "bn"
        with pytest.raises(AnomalyError, match=r"backward of batch_norm \(node 'bn', input shapes "
                                               r"\(4, 3\), \(3,\), \(3,\)\)[\s\S]*own gradient "
                                               r"already holds 12 inf[\s\S]*grad passed to "
                                               r"backward\(\)"):
            y.backward(np.full((4, 3), np.inf))
