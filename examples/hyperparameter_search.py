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

Run:  python examples/hyperparameter_search.py [--quick] [--out DIR]
"""
import argparse
import os
import warnings

import numpy as np

from tinygrad_lite import Value
import tinygrad_lite.functional as F
from tinygrad_lite.babysit import l2_penalty
from tinygrad_lite.data import Standardize, load_digits, minibatches, train_val_split
from tinygrad_lite.tune import EdgeWarning, LogUniform, coarse_to_fine, grid_search, random_search

_DATA = {}


def data():
    """The standardized digits split into training and validation (loaded once per process)."""
    if not _DATA:
        X, y = load_digits()
        X = Standardize().fit_transform(X)
        _DATA["split"] = train_val_split(X, y, 0.2, rng=0)
    return _DATA["split"]


def objective(config, report):
    """Train a linear softmax classifier for config["epochs"] epochs; report after each."""
    X_train, y_train, X_val, y_val = data()
    rng = np.random.default_rng(0)
    W = Value(rng.standard_normal((64, 10)) * 0.01, label="W")
    b = Value(np.zeros(10), label="b")
    for epoch in range(config["epochs"]):
        for Xb, yb in minibatches(X_train, y_train, 100, rng=rng):
            scores = F.linear(Value(Xb, requires_grad=False), W, b)
            loss = F.softmax_cross_entropy(scores, yb) + l2_penalty([W], config["reg"])
            W.zero_grad()
            b.zero_grad()
            loss.backward()
            W.data = W.data - config["lr"] * W.grad
            b.data = b.data - config["lr"] * b.grad
        val_scores = F.linear(Value(X_val, requires_grad=False), W, b)
        val_acc = float(np.mean(val_scores.data.argmax(axis=1) == y_val))
        report(loss.item(), val_acc=val_acc)
    return {"val_acc": val_acc}


def plot(random_result, grid_result, rounds, path):
    """Three panels: random and grid trials in the (lr, reg) plane; accuracy against lr."""
    from matplotlib.figure import Figure  # no pyplot: no window, no global state

    fig = Figure(figsize=(14, 4))
    axes = fig.subplots(1, 3)
    for ax, (name, result) in zip(axes[:2], (("random", random_result), ("grid", grid_result))):
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
    space = {"lr": LogUniform(1e-5, 10.0), "reg": LogUniform(1e-6, 1e-4)}
    random_result = random_search(objective, space, n_trials=9, seed=0, metric="val_acc",
                                  mode="max", fixed={"epochs": 2}, executor=executor,
                                  workers=2, progress=not quick, warn_edges=False)
    grid_result = grid_search(objective, space, 3, metric="val_acc", mode="max",
                              fixed={"epochs": 2}, executor=executor, workers=2,
                              progress=not quick, warn_edges=False)
    random_lrs = len({t.config["lr"] for t in random_result.trials})
    grid_lrs = len({t.config["lr"] for t in grid_result.trials})
    random_best = random_result.best.metrics["val_acc"]
    grid_best = grid_result.best.metrics["val_acc"]
    print("claim: with one hyperparameter that matters, random search tries more of its values")
    print(f"measured: 9 trials each; random tried {random_lrs} learning rates, grid {grid_lrs}; "
          f"best validation accuracy {random_best:.1%} (random, lr {random_result.best.config['lr']:.3g}) "
          f"against {grid_best:.1%} (grid, lr {grid_result.best.config['lr']:.3g})")

    narrow_space = {"lr": LogUniform(1e-6, 1e-2), "reg": LogUniform(1e-6, 1e-1)}
    n_trials = [16, 10]  # a trial takes a fraction of a second: quick mode keeps them all
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", EdgeWarning)
        rounds = coarse_to_fine(objective, narrow_space, rounds=2, n_trials=n_trials, top_k=3,
                                seed=0, metric="val_acc", mode="max",
                                fixed=[{"epochs": 1}, {"epochs": 3}], executor=executor,
                                workers=2, progress=not quick)
    edge = [str(w.message) for w in caught if issubclass(w.category, EdgeWarning)]
    print()
    print("claim: coarse to fine narrows the ranges around the best trials")
    for r, result in enumerate(rounds):
        lr_space = result.space["lr"]
        print(f"measured: round {r + 1}: lr in [{lr_space.low:.3g}, {lr_space.high:.3g}], "
              f"best {result.best.metrics['val_acc']:.1%} at lr {result.best.config['lr']:.3g}")
    print("claim: a best value at the edge of its range means the range should be widened")
    for text in edge:
        print(f"measured: EdgeWarning: {text}")

    figure = None
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("matplotlib is not installed (pip install tinygrad_lite[viz]): no figure")
    else:
        os.makedirs(out, exist_ok=True)
        figure = os.path.join(out, "hyperparameter_search.png")
        plot(random_result, grid_result, rounds, figure)
        random_result.to_csv(os.path.join(out, "random_search.csv"))
        grid_result.to_csv(os.path.join(out, "grid_search.csv"))
        print(f"figure: {figure}; tables: random_search.csv, grid_search.csv")
    return {"random": random_result, "grid": grid_result, "random_lrs": random_lrs,
            "grid_lrs": grid_lrs, "random_best": random_best, "grid_best": grid_best,
            "rounds": rounds, "edge_warnings": edge, "figure": figure}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer trials, in-process (CI)")
    parser.add_argument("--out", default="figures", help="folder for the figure and tables")
    args = parser.parse_args()
    main(quick=args.quick, out=args.out)
