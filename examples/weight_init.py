"""Weight initialization: what the scale of W does to the activations of a deep network.

10 layers of 500 units on 1000 unit-gaussian inputs (CS231n lecture 6):

* tanh, W ~ N(0, 0.01^2): each layer multiplies the std by about sqrt(500) * 0.01 = 0.22, so
  by layer 10 the activations have collapsed toward 0 (and so have the weight gradients).
* tanh, W ~ N(0, 1): the pre-activations are huge, tanh sits at +-1 where its gradient is 0.
* tanh, Xavier (std 1/sqrt(fan_in)): the variance is kept, layer after layer keeps a spread.
* ReLU, Xavier: ReLU zeroes half its inputs, so the variance halves at every layer.
* ReLU, He (std sqrt(2/fan_in)): the factor 2 makes up for it; every layer keeps its std.

The experiment is tinygrad_lite.experiments.weight_init; this script prints and plots it.

Run:  python examples/weight_init.py [--quick] [--out DIR]
"""
import argparse
import os

from tinygrad_lite.experiments.common import one_blas_thread
from tinygrad_lite.experiments.weight_init import compare_schemes


def plot(results, path):
    """Histograms of every layer (rows: schemes, columns: layers); returns the figure."""
    from matplotlib.figure import Figure  # no pyplot: no window, no global state

    n_rows, n_cols = len(results), len(next(iter(results.values())))
    fig = Figure(figsize=(1.6 * n_cols, 1.5 * n_rows))
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    for r, (name, stats) in enumerate(results.items()):
        for c, s in enumerate(stats):
            ax = axes[r, c]
            ax.stairs(s.hist, s.bin_edges, fill=True,
                      color="tab:blue" if "tanh" in name else "tab:orange")
            ax.set_yticks([])
            if "ReLU" in name:  # cut the spike at 0 (half the units) so the rest shows
                ax.set_ylim(0, 1.1 * max(s.hist[1:].max(), 1))
            ax.tick_params(labelsize=6)
            ax.set_title(f"L{c + 1} std {s.std:.2g}", fontsize=7)
            if c == 0:
                ax.set_ylabel(name, fontsize=7)
    fig.suptitle("activations per layer, 10 layers of 500 units (ReLU rows: the spike at 0 is "
                 "cut off)", fontsize=9)
    fig.subplots_adjust(left=0.06, right=0.99, bottom=0.05, top=0.9, wspace=0.25, hspace=0.6)
    fig.savefig(path, dpi=90)
    return fig


def main(quick=False, out="figures"):
    """Measure every scheme; returns {scheme: {"std": [...], "mean": [...], "saturated": [...]}}."""
    result = compare_schemes(n_examples=200 if quick else 1000)
    numbers = {}
    for name, stats in result.stats.items():
        numbers[name] = {
            "std": [s.std for s in stats],
            "mean": [s.mean for s in stats],
            "saturated": [s.saturated for s in stats],
            "hist": [s.hist for s in stats],
            "bin_edges": [s.bin_edges for s in stats],
        }
        stds = " ".join(f"{s:.2g}" for s in numbers[name]["std"])
        print(f"{name:>15}: std per layer {stds}")

    large = result.saturated("tanh, std 1.0")
    xavier = result.std("tanh, Xavier")
    print()
    print("claim -> measured")
    print(f"std 0.01 collapses toward 0: layer 10 std / layer 1 std = {result.collapse:.2g}")
    print(f"std 1.0 saturates at +-1: fraction with |f'| < 0.01 from {min(large):.0%} to "
          f"{max(large):.0%}")
    print(f"Xavier keeps a spread (tanh): layer 10 std {xavier[-1]:.3f} (layer 1: {xavier[0]:.3f})")
    print(f"ReLU + Xavier halves the variance: mean variance ratio per layer "
          f"{result.relu_xavier_variance_ratio:.3f}")
    print(f"ReLU + He keeps it: every layer's std within a factor {result.he_spread:.2f} of "
          f"layer 1's")

    figure = None
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("matplotlib is not installed (from a clone: pip install -e \".[viz]\"; "
              "from a wheel: pip install \"tinygrad_lite[viz]\"): no figure")
    else:
        os.makedirs(out, exist_ok=True)
        figure = os.path.join(out, "weight_init.png")
        plot(result.stats, figure)
        print(f"histograms: {figure}")
    return {"schemes": numbers, "relu_xavier_variance_ratio": result.relu_xavier_variance_ratio,
            "he_spread": result.he_spread, "figure": figure}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer examples (CI)")
    parser.add_argument("--out", default="figures", help="folder for the figure")
    args = parser.parse_args()
    with one_blas_thread():  # small matrices: a second BLAS thread only waits for a core
        main(quick=args.quick, out=args.out)
