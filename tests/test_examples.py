"""Every example in quick mode, asserting the lecture's claim with the numbers it measured."""
import importlib.util
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
ROOT = EXAMPLES.parent

try:
    import matplotlib  # noqa: F401
    HAVE_MPL = True
except ImportError:
    HAVE_MPL = False

try:
    import sklearn  # noqa: F401
    HAVE_SKLEARN = True
except ImportError:
    HAVE_SKLEARN = False

needs_digits = pytest.mark.skipif(not HAVE_SKLEARN, reason="the digits need scikit-learn")


@pytest.fixture(autouse=True)
def one_blas_thread():
    """Small matrices on a shared 2-core machine: one BLAS thread is much faster."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # worker processes unpickle objectives by module name
    spec.loader.exec_module(module)
    return module


def assert_figure(result, tmp_path):
    if HAVE_MPL:
        assert result["figure"] is not None
        assert os.path.getsize(result["figure"]) > 1000
        assert Path(result["figure"]).parent == tmp_path


def test_every_example_has_main_and_a_main_guard():
    scripts = sorted(p.stem for p in EXAMPLES.glob("*.py"))
    assert {"neuron", "activations", "dead_relu", "preprocessing", "weight_init",
            "batch_norm", "babysitting", "hyperparameter_search"} <= set(scripts)
    for name in scripts:
        text = (EXAMPLES / f"{name}.py").read_text()
        assert "def main(" in text, name
        assert 'if __name__ == "__main__":' in text, name


def test_examples_that_multiply_matrices_run_on_one_blas_thread():
    """Two OpenBLAS threads on a busy 2-core machine spin against each other: batch_norm.py
    --quick took 36 to 80 s that way, 4 s on one thread."""
    for path in sorted(EXAMPLES.glob("*.py")):
        if path.stem == "neuron":  # scalars only
            continue
        guard = path.read_text().split('if __name__ == "__main__":')[1]
        assert "with one_blas_thread():" in guard, path.name


def test_neuron(tmp_path, capsys):
    r = load("neuron").main(quick=True, out=str(tmp_path))
    assert round(r["f"], 2) == 0.73
    expected = {"w0": -0.20, "x0": 0.39, "w1": -0.39, "x1": -0.59, "w2": 0.20}
    for k, v in expected.items():
        assert round(r["grads"][k], 2) == v, k
    out = capsys.readouterr().out
    assert "local grad" in out and "upstream grad" in out
    try:
        import viz  # noqa: F401
    except ImportError:
        return
    assert r["svg"] and Path(r["svg"]).read_text().lstrip().startswith(("<?xml", "<svg"))


def test_activations(tmp_path):
    r = load("activations").main(quick=True, out=str(tmp_path))
    g = r["grads"]
    # saturated at +-10: almost no gradient; sigmoid at most 0.25; relu 0 for x < 0
    assert g["sigmoid"][0] < 1e-4 and g["sigmoid"][2] < 1e-4
    assert g["tanh"][0] < 1e-4 and g["tanh"][2] < 1e-4
    assert g["sigmoid"][1] == pytest.approx(0.25) and g["tanh"][1] == pytest.approx(1.0)
    assert g["relu"] == [0.0, 0.0, 1.0]
    assert g["leaky_relu"][0] == pytest.approx(0.01)
    assert g["elu"][0] == pytest.approx(math.exp(-10), rel=1e-6)
    # the zig-zag: every update of a neuron with all-positive inputs has one sign
    assert r["same_sign_positive"] == 1.0
    assert r["same_sign_centred"] < 0.8
    assert r["zigzag_positive"] > 1.5 * r["zigzag_centred"]
    assert_figure(r, tmp_path)


@needs_digits
def test_dead_relu(tmp_path):
    r = load("dead_relu").main(quick=True, out=str(tmp_path))
    runs = r["runs"]
    sane = runs["sane (0.01)"]
    assert max(sane["dead"].values()) == 0.0
    assert sane["train_acc"] > 0.9
    assert all(v == 0.0 for v in sane["dead_at_init"].values())
    assert max(runs["too high (0.2)"]["dead"].values()) > 0.2
    assert max(runs["far too high (1.0)"]["dead"].values()) > 0.9
    assert r["grad_into_dead"] == 0.0  # dead units get exactly no gradient
    assert_figure(r, tmp_path)


def test_preprocessing(tmp_path):
    r = load("preprocessing").main(quick=True, out=str(tmp_path))
    s = r["stats"]
    assert np.abs(s["original"]["mean"]).min() > 1.0  # the cloud starts off-centre
    assert np.abs(s["zero-centred"]["mean"]).max() < 1e-10
    assert np.allclose(s["normalized"]["std"], 1.0)
    assert abs(s["original"]["cov"][0, 1]) > 0.5  # correlated before PCA
    assert abs(s["decorrelated (PCA)"]["cov"][0, 1]) < 1e-10
    assert np.allclose(s["whitened"]["cov"], np.eye(2), atol=1e-3)
    assert np.allclose(s["whitened test"]["cov"], np.eye(2), atol=0.3)
    assert_figure(r, tmp_path)


def test_weight_init(tmp_path):
    r = load("weight_init").main(quick=True, out=str(tmp_path))
    s = r["schemes"]
    small = s["tanh, std 0.01"]["std"]
    assert small[9] < 1e-3 * small[0]  # collapses toward 0 by layer 10
    assert all(f > 0.5 for f in s["tanh, std 1.0"]["saturated"])  # most |a| > 0.99
    xavier = s["tanh, Xavier"]["std"]
    assert xavier[9] > 0.1 and max(s["tanh, Xavier"]["saturated"][1:]) < 0.05
    relu = np.array(s["ReLU, Xavier"]["std"])
    ratios = (relu[1:] / relu[:-1]) ** 2  # the variance halves each layer
    assert np.all((ratios > 0.35) & (ratios < 0.65))
    assert 0.4 < r["relu_xavier_variance_ratio"] < 0.6
    he = np.array(s["ReLU, He"]["std"])
    assert np.all(he / he[0] < 2.0) and np.all(he / he[0] > 0.5)  # within a factor 2
    assert r["he_spread"] < 2.0
    assert_figure(r, tmp_path)


@needs_digits
def test_batch_norm(tmp_path):
    r = load("batch_norm").main(quick=True, out=str(tmp_path))
    bad = r["bad_init"]
    assert bad["plain_acc"] < 0.3  # the plain network does not train from std 0.01
    assert abs(bad["plain_losses"][-1] - math.log(10)) < 0.1
    assert bad["bn_acc"] > 0.7  # batch norm trains from the same init
    assert len(r["good_lrs"]["batch norm"]) > len(r["good_lrs"]["plain"])
    assert r["train_shift"] > 1e-3 and r["eval_shift"] == 0.0
    assert_figure(r, tmp_path)


@needs_digits
def test_babysitting(tmp_path):
    r = load("babysitting").main(quick=True, out=str(tmp_path))
    report = r["report"]
    initial = report["initial loss"]
    assert abs(initial.numbers["loss"] - math.log(10)) < 0.1
    reg = report["regularization"]
    assert reg.numbers["loss_with_reg"] > reg.numbers["loss"]
    assert report["overfit"].numbers["train_acc"] == 1.0
    probes = {v.numbers["lr"]: v for v in report.verdicts if v.check == "learning rate"}
    low = probes[1e-6]
    assert low.status == "too low"
    assert abs(low.numbers["last_loss"] - low.numbers["first_loss"]) < 0.01
    high = probes[1e6]
    assert high.status == "too high" and high.numbers["aborted"]
    assert not math.isfinite(high.history[-1]) or high.history[-1] > 3 * high.history[0]
    assert report.reasonable_lrs
    assert report.passed
    assert_figure(r, tmp_path)


@needs_digits
def test_hyperparameter_search(tmp_path):
    r = load("hyperparameter_search").main(quick=True, out=str(tmp_path))
    assert r["random_lrs"] == 9 and r["grid_lrs"] == 3
    assert r["random_best"] >= r["grid_best"]
    rounds = r["rounds"]
    assert len(rounds) == 2
    lr0, lr1 = rounds[0].space["lr"], rounds[1].space["lr"]
    assert lr0.low <= lr1.low < lr1.high <= lr0.high
    assert lr1.high / lr1.low < lr0.high / lr0.low  # narrowed
    assert any("lr" in w and "upper" in w for w in r["edge_warnings"])
    assert_figure(r, tmp_path)
    if HAVE_MPL:
        assert (tmp_path / "random_search.csv").read_text().startswith("id,status,lr,reg")


@needs_digits
def test_monitoring(tmp_path):
    """Update/weight ratio near 1e-3 for a sane rate, orders of magnitude off otherwise."""
    r = load("monitoring").main(quick=True, out=str(tmp_path))
    runs = r["runs"]
    low, sane, high = runs["too low (1e-5)"], runs["sane (0.05)"], runs["too high (3.0)"]
    assert 1e-4 < sane["median_ratio"] < 1e-2 and not sane["warnings"]
    assert low["median_ratio"] < 1e-5 and any("too low" in w for w in low["warnings"])
    assert high["median_ratio"] > 1e-1 and any("too high" in w for w in high["warnings"])
    assert sane["val_acc"] > 0.8 > high["val_acc"] and low["val_acc"] < 0.5
    assert abs(sane["gap"]) < 0.1
    assert_figure(r, tmp_path)


def test_an_example_runs_as_a_script(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, str(EXAMPLES / "neuron.py"), "--out", str(tmp_path)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "0.7311" in proc.stdout
