"""tinygrad_lite.experiments: numpy only, numbers returned (never printed), and the search
objective's edge cases."""
import ast
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tinygrad_lite" / "experiments"


def test_experiments_import_neither_viz_nor_matplotlib_and_never_print():
    modules = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")
    assert {"neuron", "activations", "dead_relu", "preprocessing", "weight_init", "batch_norm",
            "babysitting", "search", "monitoring"} <= set(modules)
    code = ("import sys, importlib; "
            f"[importlib.import_module('tinygrad_lite.experiments.' + m) for m in {modules!r}]; "
            "bad = [m for m in ('viz', 'matplotlib', 'graphviz') if m in sys.modules]; "
            "assert not bad, bad")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    for path in PACKAGE.glob("*.py"):
        calls = [n.func.id for n in ast.walk(ast.parse(path.read_text()))
                 if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
        assert "print" not in calls, path.name


def test_search_objective_with_zero_epochs_returns_the_initial_accuracy():
    """Regression: with epochs == 0 the objective read `loss` before any was computed."""
    pytest.importorskip("sklearn", reason="the digits need scikit-learn")
    from tinygrad_lite.experiments.search import objective

    reported = []
    final = objective({"epochs": 0, "lr": 0.1, "reg": 1e-5},
                      lambda loss, **m: reported.append((loss, m)))
    assert reported == []
    assert 0.0 <= final["val_acc"] <= 1.0
    one = objective({"epochs": 1, "lr": 0.1, "reg": 1e-5},
                    lambda loss, **m: reported.append((loss, m)))
    assert len(reported) == 1 and reported[0][1]["val_acc"] == one["val_acc"]
    assert one["val_acc"] > final["val_acc"] + 0.3  # one epoch of training helps a lot


def test_neuron_gates_hold_every_edge_of_the_graph():
    from tinygrad_lite.experiments.neuron import LECTURE, sigmoid_neuron

    r = sigmoid_neuron()
    assert [g.node.label for g in r.gates] == ["f", "z", "c", "w1*x1", "w0*x0"]
    assert sum(len(g.edges) for g in r.gates) == 9
    for gate in r.gates:  # downstream = upstream x local, and it is what the input received
        for edge in gate.edges:
            assert edge.upstream == gate.node.grad.item()
    assert abs(r.output - LECTURE["f"]) < 0.005
    assert r.grads["x1"] == pytest.approx(r.leaves["x1"].grad.item())


def test_sgd_epochs_calls_back_once_per_epoch_with_the_last_loss():
    from tinygrad_lite import nn
    from tinygrad_lite.experiments.common import accuracy, sgd_epochs

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = (X[:, 0] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(3, 2, rng=0))
    seen = []
    losses = sgd_epochs(model, X, y, 0.5, 3, batch_size=16,
                        on_epoch=lambda e, loss: seen.append((e, loss)))
    assert len(losses) == 3 * 3  # 40 rows in batches of 16: 3 steps an epoch
    assert [e for e, _ in seen] == [0, 1, 2] and seen[-1][1] == losses[-1]
    assert losses[-1] < losses[0]
    model.eval()
    assert accuracy(model, X, y) > 0.8 and model.training is False  # the mode is kept


def test_one_blas_thread_limits_blas_inside_the_block_only():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from tinygrad_lite.experiments.common import one_blas_thread

    def blas_threads():
        return [p["num_threads"] for p in threadpoolctl.threadpool_info()
                if p["user_api"] == "blas"]

    before = blas_threads()
    with one_blas_thread():
        assert set(blas_threads()) <= {1}
    assert blas_threads() == before
