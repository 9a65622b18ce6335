"""tinygrad_lite.monitor: activation statistics, hooks, gradient norms, update ratios, history."""
import json
import math
import warnings

import numpy as np
import pytest

import tinygrad_lite.functional as F
from tinygrad_lite import Value, nn, no_grad
from tinygrad_lite.monitor import (
    ActivationStats,
    History,
    Monitor,
    UpdateRatioWarning,
    activation_stats,
    grad_norms,
    graph_activations,
    named_params,
    param_norms,
    update_ratios,
    watch_activations,
)

# ------------------------------------------------------------------ activation_stats

def test_stats_match_numpy():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((50, 7))
    s = activation_stats(a, bins=20)
    assert s.mean == pytest.approx(a.mean())
    assert s.std == pytest.approx(a.std())
    assert (s.min, s.max) == (a.min(), a.max())
    assert s.hist.sum() == a.size and len(s.bin_edges) == 21
    assert s.shape == (50, 7)


def test_tanh_saturation_fraction_counts_the_flat_tails():
    a = np.array([[0.0, 0.5, 0.995, -0.999], [0.98, -0.2, 0.9999, 0.1]])
    s = activation_stats(a, kind="tanh")
    assert s.saturated == pytest.approx(3 / 8)
    assert s.dead == 0.0
    assert s.bin_edges[0] == -1.0 and s.bin_edges[-1] == 1.0


def test_sigmoid_saturation_is_symmetric_around_half():
    a = np.array([0.001, 0.999, 0.5, 0.3])
    s = activation_stats(a.reshape(1, -1), kind="sigmoid")
    assert s.saturated == pytest.approx(0.5)


def test_dead_fraction_counts_units_zero_on_every_example():
    a = np.array([[0.0, 1.0, 0.0, 0.0],
                  [0.0, 0.0, 2.0, 0.0],
                  [0.0, 3.0, 0.0, 0.0]])
    s = activation_stats(a, kind="relu")
    assert s.dead == pytest.approx(2 / 4)  # units 0 and 3
    assert s.saturated == 0.0


def test_kind_is_read_from_the_value_op():
    x = Value(np.array([[-20.0, 20.0, 0.0]]))
    assert activation_stats(F.tanh(x)).kind == "tanh"
    assert activation_stats(F.tanh(x)).saturated == pytest.approx(2 / 3)
    assert activation_stats(F.relu(x)).dead == pytest.approx(2 / 3)


def test_empty_activations_raise():
    with pytest.raises(ValueError, match="empty"):
        activation_stats(np.zeros((0, 3)))


def test_nan_activations_do_not_crash_the_histogram():
    s = activation_stats(np.array([[np.nan, 1.0, 2.0]]))
    assert s.hist.sum() == 2
    assert math.isnan(s.mean)


def test_stats_to_dict_is_json():
    s = activation_stats(np.arange(12.0).reshape(3, 4), kind="relu", name="h")
    d = json.loads(json.dumps(s.to_dict()))
    assert d["name"] == "h" and d["shape"] == [3, 4] and sum(d["hist"]) == 12
    assert "dead" in repr(s)


# ------------------------------------------------------------------ graph walk and hooks

def test_graph_activations_finds_every_activation_in_order():
    rng = np.random.default_rng(1)
    x = Value(rng.standard_normal((16, 4)), requires_grad=False)
    W1 = Value(rng.standard_normal((4, 5)))
    W2 = Value(rng.standard_normal((5, 3)))
    h = F.tanh(x @ W1)
    h.label = "hidden"
    out = F.relu(h @ W2).sum()
    stats = graph_activations(out)
    assert [s.name for s in stats] == ["hidden", "relu_1"]
    assert [s.kind for s in stats] == ["tanh", "relu"]
    assert stats[0].std == pytest.approx(h.data.std())


def test_graph_activations_of_a_plain_expression_is_empty():
    a = Value(np.ones(3))
    assert graph_activations((a * 2).sum()) == []


def _mlp(seed=0):
    return nn.Sequential(nn.Linear(4, 8, rng=seed), nn.ReLU(), nn.Linear(8, 8, rng=seed + 1),
                         nn.Tanh(), nn.Linear(8, 2, rng=seed + 2))


def test_watch_activations_hooks_activation_layers_and_removes_them():
    model = _mlp()
    x = Value(np.random.default_rng(0).standard_normal((10, 4)), requires_grad=False)
    with watch_activations(model) as w:
        model(x)
        model(x)
    assert set(w.stats) == {"1", "3"}
    assert len(w.stats["1"]) == 2
    last = w.last()
    assert last["1"].kind == "relu" and last["3"].kind == "tanh"
    model(x)  # after exit: no more records
    assert len(w.stats["1"]) == 2
    for _, m in model.named_modules():
        assert not m.__dict__.get("_forward_hooks")


def test_watch_activations_works_under_no_grad():
    model = _mlp()
    x = Value(np.random.default_rng(0).standard_normal((10, 4)), requires_grad=False)
    with watch_activations(model) as w, no_grad():
        model(x)
    assert w.last()["3"].kind == "tanh"  # known from the module class, not the op


def test_watch_activations_hooks_removed_after_an_error():
    model = _mlp()
    with pytest.raises(RuntimeError):
        with watch_activations(model):
            raise RuntimeError("boom")
    for _, m in model.named_modules():
        assert not m.__dict__.get("_forward_hooks")


def test_watch_activations_by_name_and_all():
    model = _mlp()
    x = Value(np.ones((3, 4)), requires_grad=False)
    with watch_activations(model, modules=["0"]) as w:
        model(x)
    assert set(w.stats) == {"0"}
    with watch_activations(model, modules="all") as w:
        model(x)
    assert set(w.stats) == {"0", "1", "2", "3", "4"}


def test_watch_activations_rejects_a_plain_function():
    with pytest.raises(TypeError, match="graph_activations"):
        with watch_activations(lambda x: x):
            pass


# ------------------------------------------------------------------ norms and ratios

def test_named_params_accepts_module_dict_and_list():
    model = _mlp()
    assert list(named_params(model))[:2] == ["0.weight", "0.bias"]
    a, b = Value(1.0, label="a"), Value(2.0)
    assert list(named_params([a, b])) == ["a", "p1"]
    assert named_params({"x": a}) == {"x": a}
    with pytest.raises(TypeError, match="not a Value"):
        named_params([a, 3.0])


def test_grad_norms_and_param_norms():
    W = Value(np.array([[3.0, 4.0]]), label="W")
    b = Value(np.zeros(2), label="b")
    assert grad_norms([W, b]) == {"W": None, "b": None}
    (W * np.array([[1.0, 2.0]])).sum().backward()
    assert grad_norms([W, b])["W"] == pytest.approx(math.sqrt(5))
    assert param_norms([W])["W"] == pytest.approx(5.0)


def test_update_ratios_measures_the_step_and_skips_zero_weights():
    W = Value(np.array([3.0, 4.0]), label="W")
    b = Value(np.zeros(2), label="b")
    before = {"W": W.data.copy(), "b": b.data.copy()}
    W.data = W.data + np.array([0.003, 0.004])
    b.data = b.data + 1.0
    r = update_ratios(before, [W, b])
    assert r["W"] == pytest.approx(1e-3)
    assert r["b"] is None


def _train_steps(lr, steps=5):
    rng = np.random.default_rng(0)
    X = Value(rng.standard_normal((32, 4)), requires_grad=False)
    y = rng.integers(0, 2, 32)
    model = _mlp()
    mon = Monitor(model)
    for _ in range(steps):
        loss = F.softmax_cross_entropy(model(X), y)
        model.zero_grad()
        loss.backward()
        with mon.step(loss=loss):
            for p in model.parameters():
                p.data = p.data - lr * p.grad
    return mon, model


def test_monitor_ratio_equals_lr_times_grad_over_weight():
    rng = np.random.default_rng(0)
    W = Value(rng.standard_normal((3, 3)), label="W")
    mon = Monitor([W], warn=False)
    (W * W).sum().backward()
    w_norm = np.linalg.norm(W.data)
    g_norm = np.linalg.norm(W.grad)
    with mon.step():
        W.data = W.data - 0.01 * W.grad
    assert mon.history.ratios["W"][0] == pytest.approx(0.01 * g_norm / w_norm)
    assert mon.history.grad_norms["W"][0] == pytest.approx(g_norm)


def test_monitor_history_records_every_step():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UpdateRatioWarning)
        mon, model = _train_steps(1e-2, steps=4)
    h = mon.history
    assert h.steps == [0, 1, 2, 3]
    assert len(h.loss) == 4 and all(isinstance(v, float) for v in h.loss)
    assert set(h.ratios) == {name for name, _ in model.named_parameters()}
    assert all(len(v) == 4 for v in h.ratios.values())
    assert mon.summary()["0.weight"] == pytest.approx(np.median(h.ratios["0.weight"]))


def test_monitor_warns_when_the_learning_rate_is_far_too_high():
    with pytest.warns(UpdateRatioWarning, match="too high"):
        _train_steps(50.0, steps=1)


def test_monitor_warns_when_the_learning_rate_is_far_too_low():
    with pytest.warns(UpdateRatioWarning, match="too low"):
        _train_steps(1e-7)


def test_monitor_is_quiet_near_the_target_and_warns_once_per_weight():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _train_steps(1e-7, steps=6)
    msgs = [str(w.message) for w in caught if issubclass(w.category, UpdateRatioWarning)]
    # three weight matrices, each warned once although six steps were too low
    assert len(msgs) == 3
    assert all("bias" not in m for m in msgs)


def test_monitor_after_step_without_before_raises():
    with pytest.raises(RuntimeError, match="before_step"):
        Monitor([Value(1.0)]).after_step()


def test_monitor_rejects_bad_settings():
    with pytest.raises(ValueError, match="no parameters"):
        Monitor([])
    with pytest.raises(ValueError, match="tolerance"):
        Monitor([Value(1.0)], tolerance=0.5)


def test_log_epoch_and_history_to_dict():
    mon = Monitor([Value(np.ones((2, 2)), label="W")])
    stats = [ActivationStats("h", "relu", (2, 2), 0.0, 1.0, 0.0, 1.0, np.zeros(2),
                             np.zeros(3), 0.0, 0.25)]
    mon.log_epoch(loss=Value(1.5), train_acc=0.9, val_acc=0.8, activations=stats,
                  lr=0.1)
    mon.log_epoch(loss=float("nan"), train_acc=1.0, val_acc=0.7)
    h = mon.history
    assert h.epochs == [0, 1] and h.epoch_loss[0] == 1.5
    assert h.train_acc == [0.9, 1.0] and h.val_acc == [0.8, 0.7]
    assert h.dead == {"h": [0.25]} and h.extra == {"lr": [0.1]}
    d = json.loads(json.dumps(h.to_dict(), allow_nan=False))
    assert d["epoch_loss"] == [1.5, None]


def test_history_median_ratio():
    h = History(ratios={"W": [None, 1e-3, 3e-3, 2e-3]})
    assert h.median_ratio("W") == pytest.approx(2e-3)
    assert h.median_ratio("W", last=2) == pytest.approx(2.5e-3)
    assert h.median_ratio("missing") is None


def test_monitor_warns_when_a_weight_does_not_move():
    W = Value(np.ones((2, 2)), label="W")
    mon = Monitor([W])
    with pytest.warns(UpdateRatioWarning, match="did not move"):
        with mon.step():
            pass
    assert mon.history.ratios["W"] == [0.0]
