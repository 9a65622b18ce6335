"""Monitoring training: loss curve, train/val gap, update-to-weight ratios, dead units.

While a network trains, watch the loss (a slow start, a plateau or an explosion each say
something about the learning rate), the gap between training and validation accuracy (a large
gap means overfitting: regularize more; none at low accuracy may mean the model is too small),
and, for each weight, the size of its update next to its own size: ||lr * dW|| / ||W|| near
1e-3 is healthy; far below, the learning rate is too low; far above, too high. The Monitor
warns (UpdateRatioWarning) when a ratio is two orders of magnitude off.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from .. import nn
from ..engine import Value
from ..function import no_grad
from ..monitor import History, Monitor, UpdateRatioWarning, watch_activations
from .common import Split, accuracy, sgd_epochs

__all__ = ["LEARNING_RATES", "make_model", "MonitoredRun", "train_monitored",
           "compare_learning_rates"]

LEARNING_RATES = {"too low (1e-5)": 1e-5, "sane (0.05)": 0.05, "too high (3.0)": 3.0}


def make_model() -> nn.Sequential:
    """64 -> 64 ReLU -> 10, He init, fixed seeds."""
    return nn.Sequential(nn.Linear(64, 64, init="he", rng=0), nn.ReLU(),
                         nn.Linear(64, 10, rng=1))


@dataclass
class MonitoredRun:
    """One training run under a Monitor.

    history    the Monitor's History: loss, ratios and gradient norms per step; loss,
               accuracies and dead fractions per epoch
    warnings   the text of every UpdateRatioWarning the Monitor raised
    """

    lr: float
    model: nn.Module
    history: History
    warnings: list[str] = field(default_factory=list)

    @property
    def weights(self) -> list[str]:
        """Names of the weight matrices (the parameters whose ratio the lecture watches)."""
        return [name for name in self.history.ratios if name.endswith("weight")]

    def median_ratios(self) -> dict[str, float | None]:
        """Median update-to-weight ratio of every weight matrix over all steps."""
        return {name: self.history.median_ratio(name) for name in self.weights}

    @property
    def gap(self) -> float:
        """Training minus validation accuracy after the last epoch."""
        train, val = self.history.train_acc[-1], self.history.val_acc[-1]
        if train is None or val is None:
            raise ValueError("MonitoredRun.gap: no epoch logged an accuracy")
        return train - val


def train_monitored(model, data: Split, lr: float, epochs: int, *, momentum: float = 0.0,
                    batch_size: int = 64, warn: bool = True) -> MonitoredRun:
    """Minibatch SGD under a Monitor; after each epoch log loss, accuracies and dead units.

    Every step records each parameter's ||W_after - W_before|| / ||W_before||; with warn the
    Monitor's UpdateRatioWarnings are caught and returned (as text), never shown.
    """
    monitor = Monitor(model, warn=warn)
    X_train, y_train, X_val, y_val = data

    def log(epoch: int, loss: float) -> None:
        with watch_activations(model) as watcher, no_grad(), np.errstate(all="ignore"):
            model(Value(X_train, requires_grad=False))
        monitor.log_epoch(loss=loss, train_acc=accuracy(model, X_train, y_train),
                          val_acc=accuracy(model, X_val, y_val), activations=watcher.last())

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UpdateRatioWarning)
        sgd_epochs(model, X_train, y_train, lr, epochs, momentum=momentum,
                   batch_size=batch_size, monitor=monitor, on_epoch=log)
    texts = [str(w.message) for w in caught if issubclass(w.category, UpdateRatioWarning)]
    return MonitoredRun(lr, model, monitor.history, texts)


def compare_learning_rates(data: Split, epochs: int,
                           lrs: dict[str, float] | None = None) -> dict[str, MonitoredRun]:
    """Plain SGD on make_model() at each learning rate (default LEARNING_RATES)."""
    lrs = LEARNING_RATES if lrs is None else lrs
    return {name: train_monitored(make_model(), data, lr, epochs) for name, lr in lrs.items()}
