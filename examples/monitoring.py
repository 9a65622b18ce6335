"""Monitoring training: loss curve, train/val gap, update-to-weight ratios, dead units.

The lecture's advice while a network trains: watch the loss (a slow start, a plateau or an
explosion each say something about the learning rate), watch the gap between training and
validation accuracy (a large gap means overfitting: regularize more; none at all may mean the
model is too small), and watch, for each weight, how large the update is next to the weight
itself: ||lr * dW|| / ||W|| near 1e-3 is healthy; much smaller, the learning rate is too low;
much larger, too high. Here the same MLP is trained on the digits with a sane learning rate, a
too-low one and a too-high one, and the Monitor says which is which.

The experiment is tinygrad_lite.experiments.monitoring; this script prints and plots it.

Run:  python examples/monitoring.py [--quick] [--out DIR]
"""
import argparse
import os

import numpy as np

from tinygrad_lite.data import Standardize, load_digits, train_val_split
from tinygrad_lite.experiments.common import Split, one_blas_thread
from tinygrad_lite.experiments.monitoring import compare_learning_rates


def plot(runs, path):
    """Loss per step, train/val accuracy, and the first weight's update ratio per step."""
    from matplotlib.figure import Figure  # no pyplot: no window, no global state

    fig = Figure(figsize=(13, 3.6))
    ax_loss, ax_acc, ax_ratio = fig.subplots(1, 3)
    for (name, run), color in zip(runs.items(), ("tab:blue", "tab:green", "tab:red"),
                                  strict=True):
        h = run.history
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
    data = Split(scaler.transform(X_tr), y_tr, scaler.transform(X_val), y_val)
    runs = compare_learning_rates(data, epochs=2 if quick else 6)
    results = {}
    for name, run in runs.items():
        h = run.history
        weight = next(iter(h.ratios))
        median_ratio = h.median_ratio(weight)
        results[name] = {"lr": run.lr, "median_ratio": median_ratio,
                         "train_acc": h.train_acc[-1], "val_acc": h.val_acc[-1], "gap": run.gap,
                         "warnings": run.warnings, "dead": {k: v[-1] for k, v in h.dead.items()}}
        print(f"{name:>15}: median update/weight ratio of {weight!r} = {median_ratio:.2g}; "
              f"train {h.train_acc[-1]:.1%}, val {h.val_acc[-1]:.1%} (gap {run.gap:+.1%}); "
              f"{len(run.warnings)} warning(s)")
        for message in run.warnings[:2]:
            print(f"{'':>17}warning: {message}")
    print()
    print("claim: a healthy update/weight ratio is about 1e-3; far below, the learning rate is "
          "too low; far above, too high")
    print("measured: " + "; ".join(f"{k}: {v['median_ratio']:.1e}" for k, v in results.items()))

    figure = None
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("matplotlib is not installed (from a clone: pip install -e \".[viz]\"; "
              "from a wheel: pip install \"tinygrad_lite[viz]\"): no figure")
    else:
        os.makedirs(out, exist_ok=True)
        figure = os.path.join(out, "monitoring.png")
        plot(runs, figure)
        print(f"figure: {figure}")
    return {"runs": results, "figure": figure}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs (CI)")
    parser.add_argument("--out", default="figures", help="folder for the figure")
    args = parser.parse_args()
    with one_blas_thread():  # small matrices: a second BLAS thread only waits for a core
        main(quick=args.quick, out=args.out)
