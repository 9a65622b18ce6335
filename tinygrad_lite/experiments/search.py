"""Hyperparameter search: random beats grid, coarse to fine, and beware the edges.

The objective: a linear softmax classifier on the digits, trained for a few epochs of SGD. Its
hyperparameters are the learning rate (which matters a lot) and the L2 regularization strength
(which, in the ranges searched, hardly matters). Both are sampled in log space (LogUniform);
a trial stops early when its loss passes 3x its first value.

1. Random against grid, 9 trials each: a 3 x 3 grid tries only 3 distinct learning rates,
   random search tries 9, so it samples the one that matters more densely.
2. Coarse to fine: a quick search over wide ranges, then the ranges narrowed around the best
   trials and searched again. The learning-rate range is deliberately too low, so the best
   value ends up at its upper edge and tune warns (EdgeWarning): widen the range.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .. import functional as F
from ..babysit import l2_penalty
from ..data import minibatches
from ..engine import Value
from ..tune import (
    EdgeWarning,
    LogUniform,
    SearchResult,
    Trial,
    coarse_to_fine,
    grid_search,
    random_search,
)
from .common import digits_split

__all__ = ["SPACE", "NARROW_SPACE", "objective", "RandomVsGrid", "random_vs_grid",
           "best_trial", "CoarseToFine", "coarse_to_fine_search"]

#: lr matters over these decades; reg hardly does
SPACE = {"lr": LogUniform(1e-5, 10.0), "reg": LogUniform(1e-6, 1e-4)}
#: an lr range that stops too low: its best value sits at the upper edge
NARROW_SPACE = {"lr": LogUniform(1e-6, 1e-2), "reg": LogUniform(1e-6, 1e-1)}


def _val_acc(W: Value, b: Value, X_val: np.ndarray, y_val: np.ndarray) -> float:
    scores = F.linear(Value(X_val, requires_grad=False), W, b)  # (N_val, 10)
    return float(np.mean(scores.data.argmax(axis=1) == y_val))


def objective(config: dict, report) -> dict:
    """Train a softmax classifier for config["epochs"] epochs; report after each.

    loss = softmax_cross_entropy(X W + b, y) + 0.5 reg ||W||^2, SGD with lr, batches of 100.
    report(loss, val_acc=...) after every epoch; returns the final validation accuracy (that
    of the initial weights when epochs is 0). Module level, so worker processes can unpickle it.
    Shapes: W (64, 10), b (10,).
    """
    X_train, y_train, X_val, y_val = digits_split()
    rng = np.random.default_rng(0)
    W = Value(rng.standard_normal((64, 10)) * 0.01, label="W")
    b = Value(np.zeros(10), label="b")
    val_acc = _val_acc(W, b, X_val, y_val)
    with np.errstate(all="ignore"):  # a too-high learning rate overflows: tune aborts it
        for _ in range(config["epochs"]):
            for Xb, yb in minibatches(X_train, y_train, 100, rng=rng):
                scores = F.linear(Value(Xb, requires_grad=False), W, b)
                loss = F.softmax_cross_entropy(scores, yb) + l2_penalty([W], config["reg"])
                W.zero_grad()
                b.zero_grad()
                loss.backward()
                W.data = W.data - config["lr"] * W.grad
                b.data = b.data - config["lr"] * b.grad
            val_acc = _val_acc(W, b, X_val, y_val)
            report(loss.item(), val_acc=val_acc)
    return {"val_acc": val_acc}


def _options(executor, workers: int, progress: bool) -> dict:
    return {"metric": "val_acc", "mode": "max", "executor": executor, "workers": workers,
            "progress": progress}


@dataclass
class RandomVsGrid:
    """Random and grid search with the same number of trials over SPACE."""

    random: SearchResult
    grid: SearchResult

    @staticmethod
    def _n_lrs(result: SearchResult) -> int:
        return len({t.config["lr"] for t in result.trials})

    @property
    def random_lrs(self) -> int:
        """How many distinct learning rates random search tried."""
        return self._n_lrs(self.random)

    @property
    def grid_lrs(self) -> int:
        return self._n_lrs(self.grid)

    @property
    def random_best(self) -> float:
        return _best_metric(self.random)

    @property
    def grid_best(self) -> float:
        return _best_metric(self.grid)


def best_trial(result: SearchResult) -> Trial:
    """The best ok trial of a search; ValueError when no ok trial reported the metric."""
    best = result.best
    if best is None:
        raise ValueError(f"search: no ok trial reported {result.metric!r}: {result!r}")
    return best


def _best_metric(result: SearchResult) -> float:
    return float(best_trial(result).metrics[result.metric])


def random_vs_grid(n_side: int = 3, epochs: int = 2, executor=None, workers: int = 2,
                   progress: bool = False) -> RandomVsGrid:
    """n_side**2 random trials against an n_side x n_side grid (seed 0, epochs each).

    executor: None for a local process pool of `workers`, "serial" for this process.
    """
    opts = _options(executor, workers, progress)
    rnd = random_search(objective, SPACE, n_side * n_side, seed=0, fixed={"epochs": epochs},
                        warn_edges=False, **opts)
    grd = grid_search(objective, SPACE, n_side, fixed={"epochs": epochs}, warn_edges=False,
                      **opts)
    return RandomVsGrid(rnd, grd)


@dataclass
class CoarseToFine:
    """The rounds of a coarse-to-fine search and the EdgeWarnings it raised (their text)."""

    rounds: list[SearchResult]
    edge_warnings: list[str]

    @property
    def lr_ranges(self) -> list[tuple[float, float]]:
        """The learning-rate range searched in each round, (low, high)."""
        return [(r.space["lr"].low, r.space["lr"].high) for r in self.rounds]


def coarse_to_fine_search(n_trials=(16, 10), epochs=(1, 3), top_k: int = 3, executor=None,
                          workers: int = 2, progress: bool = False) -> CoarseToFine:
    """Two rounds over NARROW_SPACE: n_trials[i] trials of epochs[i] epochs each (seed 0)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", EdgeWarning)
        rounds = coarse_to_fine(objective, NARROW_SPACE, rounds=len(n_trials),
                                n_trials=list(n_trials), top_k=top_k, seed=0,
                                fixed=[{"epochs": e} for e in epochs],
                                **_options(executor, workers, progress))
    edges = [str(w.message) for w in caught if issubclass(w.category, EdgeWarning)]
    return CoarseToFine(list(rounds), edges)
