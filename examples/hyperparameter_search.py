"""Hyperparameter search: random beats grid, coarse to fine, and beware the edges.

The objective: a softmax classifier on the digits, trained for a few epochs of SGD; its
hyperparameters are the learning rate (which matters a lot) and the L2 regularization
strength (which, in the range searched, hardly matters).

1. Random against grid, 9 trials each. A 3 x 3 grid tries only 3 distinct learning rates;
   random search tries 9, so it samples the one that matters more densely.
2. Coarse to fine: a quick search over wide ranges, then the ranges are narrowed around the
   best trials and searched again. The learning-rate range here is deliberately too low, so
   the best value ends up at its upper edge and tune warns (EdgeWarning): the optimum may
   lie outside; widen the range.

Both sample the learning rate and the regularization in log space (LogUniform). Each trial
stops early if its loss passes 3x its first value.

The experiments (and their objective) are tinygrad_lite.experiments.search; this script prints
and plots them.

Run:  python examples/hyperparameter_search.py [--quick] [--out DIR]
"""
import argparse
import os

import numpy as np

from tinygrad_lite.experiments.common import one_blas_thread
from tinygrad_lite.experiments.search import coarse_to_fine_search, random_vs_grid


def plot(random_result, grid_result, rounds, path):
    """Three panels: random and grid trials in the (lr, reg) plane; accuracy against lr."""
    from matplotlib.figure import Figure  # no pyplot: no window, no global state

    fig = Figure(figsize=(14, 4))
    axes = fig.subplots(1, 3)
    results = (("random", random_result), ("grid", grid_result))
    for ax, (name, result) in zip(axes[:2], results, strict=True):
        lr = [t.config["lr"] for t in result.trials]
        reg = [t.config["reg"] for t in result.trials]
        acc = [t.metrics.get("val_acc", np.nan) for t in result.trials]
        sc = ax.scatter(lr, reg, c=acc, vmin=0, vmax=1, cmap="viridis", edgecolors="k")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("learning rate (matters)")
        ax.set_ylabel("regularization (hardly matters)")
        ax.set_title(f"{name}: {len(set(lr))} distinct learning rates")
        fig.colorbar(sc, ax=ax, label="validation accuracy")
    ax = axes[2]
    for r, result in enumerate(rounds):
        lr = [t.config["lr"] for t in result.trials if t.status == "ok"]
        acc = [t.metrics["val_acc"] for t in result.trials if t.status == "ok"]
        ax.scatter(lr, acc, label=f"round {r + 1}: lr in [{result.space['lr'].low:.1g}, "
                                  f"{result.space['lr'].high:.1g}]")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("validation accuracy")
    ax.set_title("coarse to fine (range too low: best at the edge)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return fig


def main(quick=False, out="figures"):
    """Run both experiments; returns the SearchResults and the numbers compared."""
    executor = "serial" if quick else None  # None: a local process pool
    versus = random_vs_grid(executor=executor, workers=2, progress=not quick)
    random_result, grid_result = versus.random, versus.grid
    print("claim: with one hyperparameter that matters, random search tries more of its values")
    print(f"measured: 9 trials each; random tried {versus.random_lrs} learning rates, grid "
          f"{versus.grid_lrs}; best validation accuracy {versus.random_best:.1%} (random, lr "
          f"{random_result.best.config['lr']:.3g}) against {versus.grid_best:.1%} (grid, lr "
          f"{grid_result.best.config['lr']:.3g})")

    # a trial takes a fraction of a second: quick mode keeps every trial
    search = coarse_to_fine_search(executor=executor, workers=2, progress=not quick)
    print()
    print("claim: coarse to fine narrows the ranges around the best trials")
    for r, result in enumerate(search.rounds):
        lr_space = result.space["lr"]
        print(f"measured: round {r + 1}: lr in [{lr_space.low:.3g}, {lr_space.high:.3g}], "
              f"best {result.best.metrics['val_acc']:.1%} at lr {result.best.config['lr']:.3g}")
    print("claim: a best value at the edge of its range means the range should be widened")
    for text in search.edge_warnings:
        print(f"measured: EdgeWarning: {text}")

    figure = None
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("matplotlib is not installed (from a clone: pip install -e \".[viz]\"; "
              "from a wheel: pip install \"tinygrad_lite[viz]\"): no figure")
    else:
        os.makedirs(out, exist_ok=True)
        figure = os.path.join(out, "hyperparameter_search.png")
        plot(random_result, grid_result, search.rounds, figure)
        random_result.to_csv(os.path.join(out, "random_search.csv"))
        grid_result.to_csv(os.path.join(out, "grid_search.csv"))
        print(f"figure: {figure}; tables: random_search.csv, grid_search.csv")
    return {"random": random_result, "grid": grid_result, "random_lrs": versus.random_lrs,
            "grid_lrs": versus.grid_lrs, "random_best": versus.random_best,
            "grid_best": versus.grid_best, "rounds": search.rounds,
            "edge_warnings": search.edge_warnings, "figure": figure}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer trials, in-process (CI)")
    parser.add_argument("--out", default="figures", help="folder for the figure and tables")
    args = parser.parse_args()
    with one_blas_thread():  # small matrices: a second BLAS thread only waits for a core
        main(quick=args.quick, out=args.out)
