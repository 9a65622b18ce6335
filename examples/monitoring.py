"""Monitoring training: loss curve, train/val gap, update-to-weight ratios, dead units.

The lecture's advice while a network trains: watch the loss (a slow start, a plateau or an
explosion each say something about the learning rate), watch the gap between training and
validation accuracy (a large gap means overfitting: regularize more; none at all may mean the
model is too small), and watch, for each weight, how large the update is next to the weight
itself: ||lr * dW|| / ||W|| near 1e-3 is healthy; much smaller, the learning rate is too low;
much larger, too high. Here the same MLP is trained on the digits with a sane learning rate, a
too-low one and a too-high one, and the Monitor says which is which.

Run:  python examples/monitoring.py [--quick] [--out DIR]
"""
import argparse
import os
import warnings

import numpy as np

from tinygrad_lite import Value, nn, no_grad, optim
import tinygrad_lite.functional as F
from tinygrad_lite.data import Standardize, load_digits, minibatches, train_val_split
from tinygrad_lite.monitor import Monitor, UpdateRatioWarning, watch_activations

LEARNING_RATES = {"too low (1e-5)": 1e-5, "sane (0.05)": 0.05, "too high (3.0)": 3.0}


def make_model():
    """64 -> 64 ReLU -> 10, He init, fixed seeds."""
    return nn.Sequential(nn.Linear(64, 64, init="he", rng=0), nn.ReLU(),
                         nn.Linear(64, 10, rng=1))


def accuracy(model, X, y):
    """Fraction of correct predictions on (X, y), without building a graph."""
    with no_grad():
        scores = model(Value(X, requires_grad=False))
    return float(np.mean(scores.data.argmax(axis=1) == y))


def train(lr, data, epochs):
    """Plain SGD; returns the Monitor (its history) and the warnings it raised."""
    X_tr, y_tr, X_val, y_val = data
    model = make_model()
    opt = optim.SGD(model.parameters(), lr=lr)
    monitor = Monitor(model)
    rng = np.random.default_rng(0)
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always", UpdateRatioWarning)
        for epoch in range(epochs):
            for Xb, yb in minibatches(X_tr, y_tr, 64, rng=rng):
                scores = model(Value(Xb, requires_grad=False))
                loss = F.softmax_cross_entropy(scores, yb)
                opt.zero_grad()
                loss.backward()
                with monitor.step(loss=loss):
                    opt.step()
            with watch_activations(model) as watcher, no_grad():
                model(Value(X_tr, requires_grad=False))
            monitor.log_epoch(loss=loss, train_acc=accuracy(model, X_tr, y_tr),
                              val_acc=accuracy(model, X_val, y_val),
                              activations=watcher.last())
    return monitor, [str(w.message) for w in caught if issubclass(w.category, UpdateRatioWarning)]


def plot(monitors, path):
    """Loss per step, train/val accuracy, and the first weight's update ratio per step."""
    from matplotlib.figure import Figure  # no pyplot: no window, no global state

    fig = Figure(figsize=(13, 3.6))
    ax_loss, ax_acc, ax_ratio = fig.subplots(1, 3)
    for (name, mon), color in zip(monitors.items(), ("tab:blue", "tab:green", "tab:red")):
        h = mon.history
        loss = np.array([np.nan if v is None else v for v in h.loss], dtype=float)
        ax_loss.plot(h.steps, np.clip(loss, 0, 10), color=color, lw=0.8, label=name)
        ax_acc.plot(h.epochs, h.train_acc, "o-", color=color, label=f"{name} train")
        ax_acc.plot(h.epochs, h.val_acc, "s--", color=color, label=f"{name} val")
        weight = next(iter(h.ratios))
        ratios = np.array([np.nan if r is None or r <= 0 else r for r in h.ratios[weight]])
        ax_ratio.semilogy(h.steps, ratios, color=color, lw=0.8, label=name)
    ax_loss.set(title="loss per step (clipped at 10)", xlabel="step")
    ax_acc.set(title="accuracy: train (solid) and validation (dashed)", xlabel="epoch",
               ylim=(0, 1.02))
    ax_ratio.axhline(1e-3, color="k", ls=":", label="1e-3")
    ax_ratio.set(title="update / weight ratio, first layer's weight", xlabel="step")
    for ax in (ax_loss, ax_acc, ax_ratio):
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return fig


def main(quick=False, out="figures"):
    """Train once per learning rate; returns each run's ratios, accuracies and verdict."""
    X, y = load_digits()
    X_tr, y_tr, X_val, y_val = train_val_split(X, y, val_fraction=0.2, rng=0)
    scaler = Standardize().fit(X_tr)  # fitted on the training split, applied to both
    data = (scaler.transform(X_tr), y_tr, scaler.transform(X_val), y_val)
    epochs = 2 if quick else 6
    monitors, results = {}, {}
    for name, lr in LEARNING_RATES.items():
        monitor, caught = train(lr, data, epochs)
        monitors[name] = monitor
        h = monitor.history
        weight = next(iter(h.ratios))
        median_ratio = h.median_ratio(weight)
        gap = h.train_acc[-1] - h.val_acc[-1]
        results[name] = {"lr": lr, "median_ratio": median_ratio, "train_acc": h.train_acc[-1],
                         "val_acc": h.val_acc[-1], "gap": gap, "warnings": caught,
                         "dead": {k: v[-1] for k, v in h.dead.items()}}
        print(f"{name:>15}: median update/weight ratio of {weight!r} = {median_ratio:.2g}; "
              f"train {h.train_acc[-1]:.1%}, val {h.val_acc[-1]:.1%} (gap {gap:+.1%}); "
              f"{len(caught)} warning(s)")
        for message in caught[:2]:
            print(f"{'':>17}warning: {message}")
    print()
    print("claim: a healthy update/weight ratio is about 1e-3; far below, the learning rate is "
          "too low; far above, too high")
    print("measured: " + "; ".join(f"{k}: {v['median_ratio']:.1e}" for k, v in results.items()))

    figure = None
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("matplotlib is not installed (pip install tinygrad_lite[viz]): no figure")
    else:
        os.makedirs(out, exist_ok=True)
        figure = os.path.join(out, "monitoring.png")
        plot(monitors, figure)
        print(f"figure: {figure}")
    return {"runs": results, "figure": figure}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs (CI)")
    parser.add_argument("--out", default="figures", help="folder for the figure")
    args = parser.parse_args()
    main(quick=args.quick, out=args.out)
