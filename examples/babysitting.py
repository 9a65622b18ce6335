"""Babysitting the learning process on 10-class data (the digits), step by step.

The lecture's order, before any long run:

1. Initial loss, no regularization, small weights: every class gets probability ~1/10, so
   the softmax loss starts at ln 10 = 2.30.
2. Turn regularization up: the loss must go up.
3. Take 20 examples, no regularization: the network must overfit them (100% training
   accuracy, loss near 0). If it cannot, something is broken.
4. Find a learning rate with a small regularization: 1e-6 barely moves the loss (too low),
   1e6 makes it explode (NaN, inf, or past 3x its first value: stopped early); somewhere in
   between the loss falls.

The experiment is tinygrad_lite.experiments.babysitting (each check is one function of
tinygrad_lite.babysit); this script prints each verdict and plots the training runs.

Run:  python examples/babysitting.py [--quick] [--out DIR]
"""
import argparse
import math
import os

import numpy as np

from tinygrad_lite.data import Standardize, load_digits
from tinygrad_lite.experiments.babysitting import checklist
from tinygrad_lite.experiments.common import one_blas_thread


def plot(overfit, probes, path):
    """Left: the 20-example overfit. Right: the loss per step of each learning rate."""
    from matplotlib.figure import Figure  # no pyplot: no window, no global state

    fig = Figure(figsize=(10, 3.6))
    ax1, ax2 = fig.subplots(1, 2)
    ax1.plot(overfit.history, color="tab:blue")
    ax1.set_title(f"overfit {overfit.numbers['n']} examples: "
                  f"{overfit.numbers['train_acc']:.0%} train accuracy")
    ax1.set_xlabel("step")
    ax1.set_ylabel("loss")
    for v in probes:
        losses = np.array(v.history, dtype=float)
        ax2.plot(np.where(np.isfinite(losses), losses, np.nan),
                 label=f"lr {v.numbers['lr']:g}: {v.status}")
    ax2.set_yscale("log")
    ax2.set_title("learning-rate probe (loss per step)")
    ax2.set_xlabel("step")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return fig


def main(quick=False, out="figures"):
    """Run the four checks in order; returns the BabysitReport."""
    X, y = load_digits()
    X = Standardize().fit_transform(X)
    if quick:
        X, y = X[:500], y[:500]
    report = checklist(X, y)

    for name in ("initial loss", "regularization", "overfit"):
        verdict = report[name]
        print(verdict.claim)
        print(f"  {verdict}")
    probes = [v for v in report.verdicts if v.check == "learning rate"]
    print("Too low a learning rate barely moves the loss; too high makes it explode.")
    for v in probes:
        print(f"  {v}")

    print()
    print(f"ln 10 = {math.log(10):.4f}; reasonable learning rates here: "
          f"{', '.join(f'{lr:g}' for lr in report.reasonable_lrs) or 'none'}")

    figure = None
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("matplotlib is not installed (from a clone: pip install -e \".[viz]\"; "
              "from a wheel: pip install \"tinygrad_lite[viz]\"): no figure")
    else:
        os.makedirs(out, exist_ok=True)
        figure = os.path.join(out, "babysitting.png")
        plot(report["overfit"], probes, figure)
        print(f"figure: {figure}")
    return {"report": report, "figure": figure}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="500 examples (CI)")
    parser.add_argument("--out", default="figures", help="folder for the figure")
    args = parser.parse_args()
    with one_blas_thread():  # small matrices: a second BLAS thread only waits for a core
        main(quick=args.quick, out=args.out)
