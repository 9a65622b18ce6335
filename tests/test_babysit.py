"""tinygrad_lite.babysit: the lecture's checklist on small 10-class problems."""
import json
import math

import numpy as np
import pytest

import tinygrad_lite.functional as F
from tinygrad_lite import Value, nn
from tinygrad_lite.babysit import (
    BabysitReport,
    Verdict,
    accuracy,
    babysit,
    check_initial_loss,
    check_overfit,
    check_regularization,
    classify_run,
    expected_initial_loss,
    l2_penalty,
    lr_probe,
    train,
)


def _data(n=300, d=16, c=10, seed=0):
    """Gaussian blobs, one per class: learnable, 10 classes."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((c, d)) * 2.0
    y = rng.integers(0, c, n)
    X = centres[y] + rng.standard_normal((n, d))
    return X, y


def _make_plain(std=0.01, d=16, c=10, h=32):
    """A factory of (forward, params) two-layer nets made of plain Values."""
    def make():
        rng = np.random.default_rng(0)
        W1 = Value(rng.standard_normal((d, h)) * std, label="W1")
        b1 = Value(np.zeros(h), label="b1")
        W2 = Value(rng.standard_normal((h, c)) * std, label="W2")
        b2 = Value(np.zeros(c), label="b2")

        def forward(x):
            return F.relu(x @ W1 + b1) @ W2 + b2
        return forward, [W1, b1, W2, b2]
    return make


def _make_module(d=16, c=10):
    def make():
        return nn.Sequential(nn.Linear(d, 32, init="normal", rng=0), nn.ReLU(),
                             nn.Linear(32, c, init="normal", rng=1))
    return make


def test_expected_initial_loss():
    assert expected_initial_loss("softmax", 10) == pytest.approx(math.log(10))
    assert expected_initial_loss("svm", 10) == 9.0
    assert expected_initial_loss("svm", 5, margin=2.0) == 8.0
    with pytest.raises(ValueError, match="2 classes"):
        expected_initial_loss("softmax", 1)
    with pytest.raises(ValueError, match="'softmax' or 'svm'"):
        expected_initial_loss("mse", 3)


def test_initial_softmax_loss_is_near_ln_10_with_small_weights():
    X, y = _data()
    v = check_initial_loss(_make_plain()(), X, y)
    assert v.passed and v.status == "pass"
    assert abs(v.numbers["loss"] - math.log(10)) < 0.1
    assert v.numbers["n_classes"] == 10
    assert "ln(10)" in v.claim


def test_initial_hinge_loss_is_near_c_minus_1():
    X, y = _data()
    v = check_initial_loss(_make_module()(), X, y, loss="svm")
    assert v.passed
    assert abs(v.numbers["loss"] - 9.0) < 0.1


def test_initial_loss_fails_with_big_weights():
    X, y = _data()
    v = check_initial_loss(_make_plain(std=3.0)(), X, y)
    assert not v.passed and v.status == "fail"
    assert v.numbers["difference"] > v.numbers["tolerance"]
    assert "outside" in v.message


def test_regularization_raises_the_loss_and_skips_biases():
    X, y = _data()
    forward, params = _make_plain()()
    v = check_regularization((forward, params), X, y, reg=1e3)
    assert v.passed
    expected = 0.5 * 1e3 * sum(float((p.data ** 2).sum()) for p in params if p.ndim == 2)
    assert v.numbers["increase"] == pytest.approx(expected)
    b = Value(np.ones(3))
    assert float(l2_penalty([b], 1.0).item()) == 0.0  # biases are not regularized


def test_regularization_needs_parameters():
    X, y = _data()
    with pytest.raises(TypeError, match="no parameters"):
        check_regularization(lambda x: x @ np.zeros((16, 10)), X, y)


def test_overfit_twenty_examples_to_full_accuracy():
    X, y = _data()
    v = check_overfit(_make_plain(), X, y, n=20, steps=300, lr=0.5)
    assert v.passed
    assert v.numbers["train_acc"] == 1.0
    assert v.numbers["final_loss"] < 0.1 * v.numbers["initial_loss"]
    assert len(v.history) == v.numbers["steps"] <= 300


def test_overfit_fails_when_the_model_cannot_learn():
    X, y = _data()

    def make_frozen():
        W = Value(np.zeros((16, 10)), label="W")
        return (lambda x: x @ W * 0.0), [W]
    v = check_overfit(make_frozen, X, y, n=20, steps=20)
    assert not v.passed and v.numbers["train_acc"] < 1.0


def test_overfit_needs_enough_examples():
    X, y = _data(n=10)
    with pytest.raises(ValueError, match="n=20"):
        check_overfit(_make_plain(), X, y, n=20)


def test_classify_run():
    assert classify_run(2.3, 2.3) == "too low"
    assert classify_run(2.3, 2.29) == "too low"
    assert classify_run(2.3, 1.0) == "reasonable"
    assert classify_run(2.3, 2.5) == "too high"
    assert classify_run(2.3, float("nan")) == "too high"
    assert classify_run(2.3, 1.0, aborted=True) == "too high"


def test_lr_probe_calls_tiny_too_low_and_huge_too_high():
    X, y = _data()
    low, mid, high = lr_probe(_make_plain(), X, y, lrs=(1e-6, 1.0, 1e6), steps=30)
    assert low.status == "too low" and not low.passed
    assert abs(low.numbers["first_loss"] - low.numbers["last_loss"]) < 1e-3
    assert mid.status == "reasonable" and mid.passed
    assert mid.numbers["last_loss"] < mid.numbers["first_loss"]
    assert high.status == "too high"
    assert high.numbers["aborted"]
    assert high.numbers["steps"] < 30  # stopped early
    last = high.history[-1]
    assert not math.isfinite(last) or last > 3 * high.history[0]


def test_train_aborts_at_three_times_the_first_loss():
    X, y = _data()
    run = train(_make_plain()(), X, y, lr=1e6, steps=50)
    assert run.aborted
    assert "3x the first loss" in run.stopped or "nan" in run.stopped.lower()
    assert len(run.losses) < 50


def test_train_accepts_a_module_and_updates_its_parameters():
    X, y = _data()
    model = _make_module()()
    before = model[0].weight.data.copy()
    run = train(model, X, y, lr=0.1, steps=5, batch_size=32, momentum=0.9)
    assert len(run.losses) == 5 and not run.aborted
    assert not np.array_equal(before, model[0].weight.data)


def test_accuracy():
    scores = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0]])
    assert accuracy(scores, [0, 1, 1]) == pytest.approx(2 / 3)


def test_babysit_runs_the_checklist_in_the_lecture_order():
    X, y = _data()
    report = babysit(_make_plain(), X, y, lrs=(1e-6, 1.0, 1e6), probe_steps=20,
                     overfit_lr=0.5, progress=False)
    assert isinstance(report, BabysitReport)
    assert [v.check for v in report.verdicts] == [
        "initial loss", "regularization", "overfit", "learning rate", "learning rate",
        "learning rate"]
    assert [v.status for v in report.verdicts[3:]] == ["too low", "reasonable", "too high"]
    assert report.passed
    assert report.reasonable_lrs == [1.0]
    assert report["overfit"].numbers["train_acc"] == 1.0
    text = str(report)
    assert "[PASS] initial loss" in text and "overall: PASS" in text
    json.dumps(report.to_dict(), allow_nan=False)


def test_babysit_report_fails_without_a_reasonable_rate():
    X, y = _data()
    report = babysit(_make_plain(), X, y, lrs=(1e-6,), probe_steps=5, overfit_lr=0.5,
                     progress=False)
    assert not report.passed and report.reasonable_lrs == []
    with pytest.raises(KeyError, match="no check"):
        report["nonsense"]


def test_verdict_to_dict_drops_non_finite_numbers():
    v = Verdict("x", "fail", False, "claim", {"a": float("nan"), "b": np.float64(2.0)},
                history=[1.0, float("inf")])
    d = v.to_dict()
    assert d["numbers"] == {"a": None, "b": 2.0} and d["history"] == [1.0, None]
    assert str(v).startswith("[FAIL] x")
