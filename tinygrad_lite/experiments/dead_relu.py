"""Dead ReLUs: a too-high learning rate knocks units off the data for good.

A ReLU unit whose input is negative for every example outputs 0 everywhere, so its local
gradient is 0 everywhere: no gradient reaches its weights, and nothing brings it back. The same
network (64-100-100-10, He init) is trained at a sane learning rate and at too-high ones; the
dead fraction of each ReLU layer is measured on all the training data at init and after each
epoch.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import functional as F
from .. import nn
from ..engine import Value
from ..function import no_grad
from ..monitor import ActivationStats, History, Monitor, watch_activations
from .common import sgd_epochs

__all__ = ["LEARNING_RATES", "make_model", "dead_fractions", "DeadReluRun", "train_run",
           "compare_learning_rates", "DeadGradient", "gradient_into_dead"]

LEARNING_RATES = {"sane (0.01)": 0.01, "too high (0.2)": 0.2, "far too high (1.0)": 1.0}


def make_model(seed: int = 0) -> nn.Sequential:
    """64 -> 100 ReLU -> 100 ReLU -> 10, He init; the layers seeded seed, seed+1, seed+2."""
    return nn.Sequential(
        nn.Linear(64, 100, init="he", rng=seed), nn.ReLU(),
        nn.Linear(100, 100, init="he", rng=seed + 1), nn.ReLU(),
        nn.Linear(100, 10, rng=seed + 2))


def dead_fractions(model, X: np.ndarray) -> tuple[dict[str, ActivationStats], Value]:
    """ActivationStats of every ReLU layer on all of X (one forward, no graph), and the scores.

    Shapes: X (N, 64) -> scores (N, 10).
    """
    with watch_activations(model) as watcher, no_grad(), np.errstate(all="ignore"):
        scores = model(Value(X, requires_grad=False))
    return watcher.last(), scores


@dataclass
class DeadReluRun:
    """One training run: the model and its history (dead fractions per epoch, epoch 0 = init).

    history.dead[layer] is the dead fraction of ReLU module ``layer`` per epoch;
    history.train_acc the training accuracy per epoch (None at epoch 0).
    """

    lr: float
    model: nn.Sequential
    history: History

    @property
    def dead_at_init(self) -> dict[str, float]:
        return {layer: series[0] for layer, series in self.history.dead.items()}

    @property
    def dead(self) -> dict[str, float]:
        """Dead fraction per ReLU layer after the last epoch."""
        return {layer: series[-1] for layer, series in self.history.dead.items()}

    @property
    def train_acc(self) -> float | None:
        return self.history.train_acc[-1]


def train_run(lr: float, X: np.ndarray, y: np.ndarray, epochs: int,
              seed: int = 0) -> DeadReluRun:
    """Train make_model(seed) with SGD (momentum 0.9, batches of 64), measuring every epoch."""
    model = make_model(seed)
    monitor = Monitor(model, warn=False)
    stats, _ = dead_fractions(model, X)
    monitor.log_epoch(activations=stats)  # epoch 0: before training

    def measure(epoch: int, loss: float) -> None:
        stats, scores = dead_fractions(model, X)
        train_acc = float(np.mean(scores.data.argmax(axis=1) == y))
        monitor.log_epoch(loss=loss, train_acc=train_acc, activations=stats)

    sgd_epochs(model, X, y, lr, epochs, momentum=0.9, batch_size=64, monitor=monitor,
               on_epoch=measure)
    return DeadReluRun(lr, model, monitor.history)


def compare_learning_rates(X: np.ndarray, y: np.ndarray, epochs: int,
                           lrs: dict[str, float] | None = None) -> dict[str, DeadReluRun]:
    """One train_run per learning rate (default LEARNING_RATES), each from the same init."""
    lrs = LEARNING_RATES if lrs is None else lrs
    return {name: train_run(lr, X, y, epochs) for name, lr in lrs.items()}


@dataclass
class DeadGradient:
    """The gradient that reaches the dead units of the second ReLU layer.

    loss       the softmax loss of the batch (the root of its graph, for drawing)
    dead       (100,) bool: units of ReLU '3' at 0 for every row of the batch
    max_grad   largest |dL/dW| over the weights into those units (None when none is dead)
    """

    loss: Value
    dead: np.ndarray
    max_grad: float | None

    @property
    def n_dead(self) -> int:
        return int(self.dead.sum())


def gradient_into_dead(model, X: np.ndarray, y: np.ndarray) -> DeadGradient:
    """Backprop the softmax loss of (X, y) through a make_model() network; measure the dead.

    Shapes: X (N, 64), y (N,); the second Linear's weight is (100, 100), its column j feeds
    unit j.
    """
    inputs = Value(X, requires_grad=False)
    hidden1 = model[1](model[0](inputs))
    hidden2 = model[3](model[2](hidden1))
    dead = np.all(hidden2.data == 0, axis=0)  # (100,): units at 0 for every row
    scores = model[4](hidden2)
    loss = F.softmax_cross_entropy(scores, y)
    model.zero_grad()
    loss.backward()
    grad_into_dead = model[2].weight.grad[:, dead]  # (100, n_dead)
    max_grad = float(np.abs(grad_into_dead).max()) if dead.any() else None
    return DeadGradient(loss, dead, max_grad)
