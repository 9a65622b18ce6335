"""What several experiments share: the standardized digits, minibatch SGD, accuracy.

Nothing here prints or plots; every function returns numbers.
"""
from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np

from .. import functional as F
from ..data import Standardize, load_digits, minibatches, train_val_split
from ..engine import Value
from ..function import no_grad
from ..optim import SGD

__all__ = ["Split", "digits_split", "sgd_epochs", "accuracy", "one_blas_thread"]


class Split(NamedTuple):
    """Training and validation data. Shapes: X_* (N, D), y_* (N,) integer labels."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray


@functools.lru_cache(maxsize=2)
def digits_split(val_fraction: float = 0.2, seed: int = 0) -> Split:
    """scikit-learn's 8x8 digits split 80/20, standardized with the training split's statistics.

    x' = (x - mean_train) / std_train, applied unchanged to the validation split.
    Shapes: X_train (1438, 64), X_val (359, 64) for the default fraction. Loaded once per
    process (the arrays are shared: do not write into them).
    """
    X, y = load_digits()
    X_train, y_train, X_val, y_val = train_val_split(X, y, val_fraction, rng=seed)
    scaler = Standardize().fit(X_train)
    return Split(scaler.transform(X_train), y_train, scaler.transform(X_val), y_val)


def sgd_epochs(model, X: np.ndarray, y: np.ndarray, lr: float, epochs: int, *,
               momentum: float = 0.9, batch_size: int = 64, seed: int = 0, monitor=None,
               on_epoch: Callable[[int, float], Any] | None = None) -> list[float]:
    """Train an nn model with minibatch SGD on the softmax loss; returns every step's loss.

    Each step: loss = softmax_cross_entropy(model(Xb), yb), backward, SGD update (inside
    ``monitor.step`` when a Monitor is given). on_epoch(epoch, last_loss) runs after each epoch.
    Overflow is expected at too-high learning rates: non-finite losses are kept, not raised.
    Shapes: X (N, D), y (N,).
    """
    opt = SGD(list(model.parameters()), lr=lr, momentum=momentum)
    rng = np.random.default_rng(seed)
    losses: list[float] = []
    with np.errstate(all="ignore"):
        for epoch in range(epochs):
            for Xb, yb in minibatches(X, y, batch_size, rng=rng):
                scores = model(Value(Xb, requires_grad=False))
                loss = F.softmax_cross_entropy(scores, yb)
                opt.zero_grad()
                loss.backward()
                if monitor is not None:
                    with monitor.step(loss=loss):
                        opt.step()
                else:
                    opt.step()
                losses.append(loss.item())
            if on_epoch is not None:
                on_epoch(epoch, losses[-1] if losses else float("nan"))
    return losses


def accuracy(model, X: np.ndarray, y: np.ndarray) -> float:
    """Fraction of rows whose highest score is the label, in evaluation mode, without a graph.

    The model's training flag is restored afterwards. Shapes: X (N, D), y (N,).
    """
    was_training = getattr(model, "training", True)
    model.eval()
    with no_grad(), np.errstate(all="ignore"):
        scores = model(Value(X, requires_grad=False))
    model.train(was_training)
    return float(np.mean(scores.data.argmax(axis=1) == y))


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the block with one BLAS thread (through threadpoolctl; as it is without it).

    These experiments multiply small matrices. On a busy 2-core machine a second OpenBLAS
    thread spins while it waits for a core: examples/batch_norm.py --quick took 36 to 80 s
    that way instead of 4 s. threadpoolctl comes with scikit-learn (the data extra).
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
