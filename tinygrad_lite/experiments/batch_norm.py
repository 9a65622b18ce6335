"""Batch normalization: it trains where a bad init does not, over a wider range of learning
rates, and it behaves differently in training and in evaluation.

A deep tanh network (6 hidden layers of 100 units) on the digits:

1. With W ~ N(0, 0.01^2) the activations shrink layer after layer and the gradients with them:
   the loss stays near ln 10. A BatchNorm1d after every Linear rescales each feature's
   pre-activations to zero mean and unit variance over the batch, so the same init trains.
2. With Xavier init, sweep the learning rate: the batch-normalized network trains (at least 50%
   validation accuracy, chance being 10%) at more learning rates than the plain one.
3. In training, batch norm uses the current batch's statistics, so an example's output depends
   on the rest of its batch; in evaluation it uses the running averages: a fixed function.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import init, nn
from ..engine import Value
from ..function import no_grad
from .common import Split, accuracy, sgd_epochs

__all__ = ["LEARNING_RATES", "TRAINS", "small_init", "make_model", "BadInitResult", "bad_init",
           "SweepResult", "lr_sweep", "BatchDependence", "batch_dependence"]

LEARNING_RATES = [1e-3, 1e-2, 1e-1, 1.0, 3.0]
TRAINS = 0.5  # "trains": validation accuracy at least this (chance is 0.1)


def small_init(shape, rng=None) -> np.ndarray:
    """The lecture's "small random numbers": W ~ N(0, 0.01^2)."""
    return init.normal(shape, std=0.01, rng=rng)


def make_model(batch_norm: bool, weight_init, depth: int = 6, width: int = 100) -> nn.Sequential:
    """depth x (Linear [-> BatchNorm1d] -> Tanh), then Linear to 10 classes; 64 inputs."""
    layers: list[nn.Module] = []
    fan_in = 64
    for i in range(depth):
        layers.append(nn.Linear(fan_in, width, init=weight_init, rng=i))
        if batch_norm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(nn.Tanh())
        fan_in = width
    layers.append(nn.Linear(fan_in, 10, init=weight_init, rng=depth))
    return nn.Sequential(*layers)


@dataclass
class BadInitResult:
    """Both networks from W ~ N(0, 0.01^2): the loss of every step, the validation accuracy.

    bn_model is the trained batch-normalized network (batch_dependence measures it).
    """

    plain_losses: list[float]
    bn_losses: list[float]
    plain_acc: float
    bn_acc: float
    bn_model: nn.Sequential


def bad_init(data: Split, epochs: int, lr: float = 0.05) -> BadInitResult:
    """Train the plain and the batch-normalized network from small_init (SGD, momentum 0.9)."""
    plain = make_model(batch_norm=False, weight_init=small_init)
    plain_losses = sgd_epochs(plain, data.X_train, data.y_train, lr, epochs)
    normed = make_model(batch_norm=True, weight_init=small_init)
    normed_losses = sgd_epochs(normed, data.X_train, data.y_train, lr, epochs)
    return BadInitResult(plain_losses, normed_losses, accuracy(plain, data.X_val, data.y_val),
                         accuracy(normed, data.X_val, data.y_val), normed)


@dataclass
class SweepResult:
    """Validation accuracy per learning rate: accs["plain" | "batch norm"][i] at lrs[i]."""

    lrs: list[float]
    accs: dict[str, list[float]]

    @property
    def good_lrs(self) -> dict[str, list[float]]:
        """The learning rates at which each network trains (validation accuracy >= TRAINS)."""
        return {name: [lr for lr, a in zip(self.lrs, accs, strict=True) if a >= TRAINS]
                for name, accs in self.accs.items()}


def lr_sweep(data: Split, epochs: int, lrs=None) -> SweepResult:
    """Train both networks from Xavier init at every learning rate; validation accuracy each."""
    lrs = list(LEARNING_RATES if lrs is None else lrs)
    accs: dict[str, list[float]] = {"plain": [], "batch norm": []}
    for lr in lrs:
        for name, accs_of in accs.items():
            model = make_model(batch_norm=(name == "batch norm"), weight_init="xavier")
            sgd_epochs(model, data.X_train, data.y_train, lr, epochs)
            accs_of.append(accuracy(model, data.X_val, data.y_val))
    return SweepResult(lrs, accs)


@dataclass
class BatchDependence:
    """How far one example's output moves when the rest of its batch changes, per mode."""

    train_shift: float
    eval_shift: float


def batch_dependence(model, X: np.ndarray) -> BatchDependence:
    """Put X[0] in two batches (with X[1:64], then with X[64:127]); compare its outputs.

    max |out_a - out_b| over its 10 scores, in evaluation mode (running statistics) and in
    training mode (batch statistics). The model is left in training mode. Shapes: X (>=127, 64).
    """
    example = X[:1]
    batch_a = np.concatenate([example, X[1:64]])
    batch_b = np.concatenate([example, X[64:127]])
    shifts = {}
    for training in (False, True):
        model.train(training)
        with no_grad():
            out_a = model(Value(batch_a, requires_grad=False)).data[0]
            out_b = model(Value(batch_b, requires_grad=False)).data[0]
        shifts[training] = float(np.abs(out_a - out_b).max())
    model.train()
    return BatchDependence(train_shift=shifts[True], eval_shift=shifts[False])
