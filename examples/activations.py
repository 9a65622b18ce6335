"""Activation functions: where their gradients vanish, and why zero-centred outputs matter.

Part 1. The gradient of each activation at x = -10, 0 and 10. Sigmoid and tanh are flat at
both ends: a saturated unit passes almost no gradient back (sigmoid's is at most 0.25 even at
0). ReLU passes 1 for x > 0 and nothing for x < 0 (a unit stuck there is dead); leaky ReLU
and ELU keep a small gradient on the negative side.

Part 2. The zig-zag. A neuron w . x with every input positive (such as sigmoid outputs) gets
dL/dw = (dL/d(w . x)) * x: every component has the sign of the one upstream number. All
weights go up together or down together, so reaching a w* with mixed signs takes a zig-zag
path. Zero-centred inputs allow any direction.

The experiments are tinygrad_lite.experiments.activations; this script prints and plots them.

Run:  python examples/activations.py [--quick] [--out DIR]
"""
import argparse
import os

import numpy as np

from tinygrad_lite.experiments.activations import gradient_curves, gradients_at, zigzag_experiment
from tinygrad_lite.experiments.common import one_blas_thread


def plot(curves, zig, path):
    """Left: each activation's local gradient. Right: the two SGD paths."""
    from matplotlib.figure import Figure  # no pyplot: no window, no global state

    fig = Figure(figsize=(11, 4))
    ax1, ax2 = fig.subplots(1, 2)
    for (name, (xs, grad)), dash in zip(curves.items(), ("-", "--", ":", "-.", (0, (5, 1, 1, 1))),
                                        strict=False):
        ax1.plot(xs, grad, linestyle=dash, label=name)  # relu, leaky_relu, elu: all 1 at x > 0
    for x in (-10, 0, 10):
        ax1.axvline(x, color="grey", lw=0.5, ls=":")
    ax1.set_title("local gradient f'(x)")
    ax1.set_xlabel("x")
    ax1.legend(fontsize=8)
    for (name, p), color in zip(zig.paths.items(), ("tab:red", "tab:green"), strict=True):
        ax2.plot(p[:, 0], p[:, 1], ".-", color=color, ms=3, lw=0.8, label=name)
    ax2.plot(*zig.w_true, "k*", ms=12, label="w* (the target)")
    ax2.set_title("SGD path of w = (w1, w2)")
    ax2.set_xlabel("w1")
    ax2.set_ylabel("w2")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return fig


def main(quick=False, out="figures"):
    """Print and return the gradients and the zig-zag numbers."""
    points = (-10.0, 0.0, 10.0)
    grads = gradients_at(points)
    print(f"{'gradient at':>12} {'x=-10':>10} {'x=0':>10} {'x=10':>10}")
    for name, g in grads.items():
        print(f"{name:>12} {g[0]:>10.3g} {g[1]:>10.3g} {g[2]:>10.3g}")
    print("claim: sigmoid and tanh pass almost nothing at +-10 (saturated); sigmoid at most "
          "0.25; ReLU passes nothing for x < 0, 1 for x > 0")
    print()

    zig = zigzag_experiment(steps=100 if quick else 300)
    same_pos, same_cen = zig.same_sign["all-positive inputs"], zig.same_sign["zero-centred inputs"]
    zigzag_pos, zigzag_cen = zig.zigzag["all-positive inputs"], zig.zigzag["zero-centred inputs"]
    print("claim: with all-positive inputs every update moves both weights the same way")
    print(f"measured: same-sign updates {same_pos:.0%} with positive inputs, "
          f"{same_cen:.0%} with zero-centred inputs")
    print(f"path walked / straight distance: {zigzag_pos:.2f} (positive), "
          f"{zigzag_cen:.2f} (zero-centred)")

    figure = None
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("matplotlib is not installed (from a clone: pip install -e \".[viz]\"; "
              "from a wheel: pip install \"tinygrad_lite[viz]\"): no figure")
    else:
        os.makedirs(out, exist_ok=True)
        figure = os.path.join(out, "activations.png")
        xs = np.linspace(-10, 10, 401)
        curves = {name: (xs, grad) for name, grad in gradient_curves(xs).items()}
        plot(curves, zig, figure)
        print(f"figure: {figure}")
    return {"points": points, "grads": grads, "same_sign_positive": same_pos,
            "same_sign_centred": same_cen, "zigzag_positive": zigzag_pos,
            "zigzag_centred": zigzag_cen, "figure": figure}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer SGD steps (CI)")
    parser.add_argument("--out", default="figures", help="folder for the figure")
    args = parser.parse_args()
    with one_blas_thread():  # small matrices: a second BLAS thread only waits for a core
        main(quick=args.quick, out=args.out)
