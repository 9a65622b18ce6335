"""Dead ReLUs: a too-high learning rate knocks units off the data for good.

A ReLU unit whose input is negative for every example outputs 0 everywhere, so its local
gradient is 0 everywhere: no gradient reaches its weights, and nothing brings it back. The
lecture: this happens with a bad initialization, or when a big update during training throws
the unit's weights off the data (sometimes a large fraction of a network ends up dead). Here
the same network is trained on the digits with a sane learning rate and two too-high ones;
the dead fraction of each hidden layer is measured on the whole training set after each epoch.

Run:  python examples/dead_relu.py [--quick] [--out DIR]
"""
import argparse
import os

import numpy as np

from tinygrad_lite import Value, nn, no_grad, optim
import tinygrad_lite.functional as F
from tinygrad_lite.data import Standardize, load_digits, minibatches
from tinygrad_lite.monitor import Monitor, watch_activations

LEARNING_RATES = {"sane (0.01)": 0.01, "too high (0.2)": 0.2, "far too high (1.0)": 1.0}


def make_model():
    """64 -> 100 ReLU -> 100 ReLU -> 10, He init, fixed seeds."""
    return nn.Sequential(
        nn.Linear(64, 100, init="he", rng=0), nn.ReLU(),
        nn.Linear(100, 100, init="he", rng=1), nn.ReLU(),
        nn.Linear(100, 10, rng=2))


def dead_fractions(model, X):
    """ActivationStats of every ReLU layer on all of X (one forward, no graph)."""
    with watch_activations(model) as watcher, no_grad():
        scores = model(Value(X, requires_grad=False))
    return watcher.last(), scores


def train(lr, X, y, epochs):
    """SGD with momentum; returns the Monitor (history) and the trained model."""
    model = make_model()
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    monitor = Monitor(model, warn=False)
    rng = np.random.default_rng(0)
    stats, _ = dead_fractions(model, X)
    monitor.log_epoch(activations=stats)  # epoch 0: before training
    with np.errstate(all="ignore"):
        for epoch in range(epochs):
            for Xb, yb in minibatches(X, y, 64, rng=rng):
                scores = model(Value(Xb, requires_grad=False))
                loss = F.softmax_cross_entropy(scores, yb)
                opt.zero_grad()
                loss.backward()
                with monitor.step(loss=loss):
                    opt.step()
            stats, scores = dead_fractions(model, X)
            accuracy = float(np.mean(scores.data.argmax(axis=1) == y))
            monitor.log_epoch(loss=loss, train_acc=accuracy, activations=stats)
    return monitor, model


def plot(monitors, path):
    """Dead fraction of each hidden layer per epoch, one line per learning rate."""
    from matplotlib.figure import Figure  # no pyplot: no window, no global state

    fig = Figure(figsize=(10, 3.6))
    axes = fig.subplots(1, 2, sharey=True)
    for (name, mon), color in zip(monitors.items(), ("tab:green", "tab:orange", "tab:red")):
        for ax, (layer, series) in zip(axes, mon.history.dead.items()):
            ax.plot(mon.history.epochs, series, "o-", color=color, label=name)
            ax.set_title(f"ReLU module {layer!r}: fraction of dead units")
            ax.set_xlabel("epoch (0 = at init)")
    axes[0].set_ylim(-0.05, 1.05)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return fig


def main(quick=False, out="figures"):
    """Train once per learning rate; returns dead fractions and accuracies."""
    X, y = load_digits()
    X = Standardize().fit_transform(X)
    epochs = 3 if quick else 8
    monitors = {}
    results = {}
    for name, lr in LEARNING_RATES.items():
        monitor, model = train(lr, X, y, epochs)
        monitors[name] = monitor
        final = {layer: series[-1] for layer, series in monitor.history.dead.items()}
        start = {layer: series[0] for layer, series in monitor.history.dead.items()}
        results[name] = {"lr": lr, "dead_at_init": start, "dead": final,
                         "train_acc": monitor.history.train_acc[-1]}
        layers = ", ".join(f"ReLU {k}: {start[k]:.0%} -> {v:.0%}" for k, v in final.items())
        print(f"{name:>19}: dead units {layers}; training accuracy "
              f"{monitor.history.train_acc[-1]:.1%}")

    # a dead unit receives exactly zero gradient: check it on the last (far too high) run
    inputs = Value(X, requires_grad=False)
    hidden1 = model[1](model[0](inputs))
    hidden2 = model[3](model[2](hidden1))
    dead_mask = np.all(hidden2.data == 0, axis=0)  # (100,): units at 0 for every example
    scores = model[4](hidden2)
    loss = F.softmax_cross_entropy(scores, y)
    model.zero_grad()
    loss.backward()
    grad_into_dead = model[2].weight.grad[:, dead_mask]  # (100, n_dead)
    grad_of_dead = float(np.abs(grad_into_dead).max()) if dead_mask.any() else None
    print()
    print("claim: after a too-high learning rate many ReLU units are dead; a sane one kills none")
    print(f"measured: {results['sane (0.01)']['dead']} dead with lr 0.01, "
          f"{results['too high (0.2)']['dead']} with lr 0.2, "
          f"{results['far too high (1.0)']['dead']} with lr 1.0")
    if grad_of_dead is not None:
        print(f"claim: a dead unit gets no gradient; measured: largest |dL/dW| into the "
              f"{int(dead_mask.sum())} dead units of ReLU 3 = {grad_of_dead:g}")

    figure = None
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("matplotlib is not installed (pip install tinygrad_lite[viz]): no figure")
    else:
        os.makedirs(out, exist_ok=True)
        figure = os.path.join(out, "dead_relu.png")
        plot(monitors, figure)
        print(f"figure: {figure}")
    return {"runs": results, "grad_into_dead": grad_of_dead, "figure": figure}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs (CI)")
    parser.add_argument("--out", default="figures", help="folder for the figure")
    args = parser.parse_args()
    main(quick=args.quick, out=args.out)
