"""Dead ReLUs: a too-high learning rate knocks units off the data for good.

A ReLU unit whose input is negative for every example outputs 0 everywhere, so its local
gradient is 0 everywhere: no gradient reaches its weights, and nothing brings it back. The
lecture: this happens with a bad initialization, or when a big update during training throws
the unit's weights off the data (sometimes a large fraction of a network ends up dead). Here
the same network is trained on the digits with a sane learning rate and two too-high ones;
the dead fraction of each hidden layer is measured on the whole training set after each epoch.

The experiment is tinygrad_lite.experiments.dead_relu; this script prints and plots it.

Run:  python examples/dead_relu.py [--quick] [--out DIR]
"""
import argparse
import os

from tinygrad_lite.data import Standardize, load_digits
from tinygrad_lite.experiments.common import one_blas_thread
from tinygrad_lite.experiments.dead_relu import compare_learning_rates, gradient_into_dead


def plot(runs, path):
    """Dead fraction of each hidden layer per epoch, one line per learning rate."""
    from matplotlib.figure import Figure  # no pyplot: no window, no global state

    fig = Figure(figsize=(10, 3.6))
    axes = fig.subplots(1, 2, sharey=True)
    # its own colour, marker and dash per run; open markers, largest first, so a line drawn
    # over another still shows
    styles = [("tab:green", "o", "-", 9), ("tab:orange", "s", "--", 6), ("tab:red", "^", ":", 4)]
    for (name, run), (color, marker, dash, size) in zip(runs.items(), styles, strict=True):
        for ax, series in zip(axes, run.history.dead.values(), strict=True):
            ax.plot(run.history.epochs, series, marker=marker, linestyle=dash, markersize=size,
                    markerfacecolor="none", color=color, label=name)
    for ax, layer in zip(axes, next(iter(runs.values())).history.dead, strict=True):
        ax.set_title(f"ReLU module {layer!r}: fraction of dead units")
        ax.set_xlabel("epoch (0 = at init)")
        never = [name for name, run in runs.items() if max(run.history.dead[layer]) == 0]
        if len(never) > 1:  # their lines lie on top of each other at 0
            ax.text(0.03, 0.6, "no unit died (lines on top of each other):\n" + "\n".join(never),
                    transform=ax.transAxes, fontsize=8)
    axes[0].set_ylim(-0.05, 1.05)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return fig


def main(quick=False, out="figures"):
    """Train once per learning rate; returns dead fractions and accuracies."""
    X, y = load_digits()
    X = Standardize().fit_transform(X)
    runs = compare_learning_rates(X, y, epochs=3 if quick else 8)
    results = {}
    for name, run in runs.items():
        start, final = run.dead_at_init, run.dead
        results[name] = {"lr": run.lr, "dead_at_init": start, "dead": final,
                         "train_acc": run.train_acc}
        layers = ", ".join(f"ReLU {k}: {start[k]:.0%} -> {v:.0%}" for k, v in final.items())
        print(f"{name:>19}: dead units {layers}; training accuracy {run.train_acc:.1%}")

    # a dead unit receives exactly zero gradient: check it on the far-too-high run
    dead = gradient_into_dead(runs["far too high (1.0)"].model, X, y)
    print()
    print("claim: after a too-high learning rate many ReLU units are dead; a sane one kills none")
    for numbers in results.values():
        dead_per_layer = ", ".join(f"ReLU {k} {v:.0%}" for k, v in numbers["dead"].items())
        print(f"measured: lr {numbers['lr']:g}: dead units {dead_per_layer}")
    if dead.max_grad is not None:
        print(f"claim: a dead unit gets no gradient; measured: largest |dL/dW| into the "
              f"{dead.n_dead} dead units of ReLU 3 = {dead.max_grad:g}")

    figure = None
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("matplotlib is not installed (from a clone: pip install -e \".[viz]\"; "
              "from a wheel: pip install \"tinygrad_lite[viz]\"): no figure")
    else:
        os.makedirs(out, exist_ok=True)
        figure = os.path.join(out, "dead_relu.png")
        plot(runs, figure)
        print(f"figure: {figure}")
    return {"runs": results, "grad_into_dead": dead.max_grad, "figure": figure}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs (CI)")
    parser.add_argument("--out", default="figures", help="folder for the figure")
    args = parser.parse_args()
    with one_blas_thread():  # small matrices: a second BLAS thread only waits for a core
        main(quick=args.quick, out=args.out)
