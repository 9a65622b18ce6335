"""Activation functions: where their gradients vanish, and why zero-centred outputs matter.

Part 1. The local gradient of each activation. Sigmoid and tanh are flat at both ends (a
saturated unit passes almost nothing back; sigmoid's gradient is at most 0.25); ReLU passes 1
for x > 0 and nothing for x < 0; leaky ReLU and ELU keep some gradient for x < 0.

Part 2. The zig-zag. A neuron w . x whose inputs are all positive (as sigmoid outputs are) gets
dL/dw = (dL/d(w . x)) * x: every component has the sign of one upstream number, so all weights
rise together or fall together, and reaching a w* of mixed signs takes a zig-zag path.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .. import functional as F
from ..engine import Value

__all__ = ["ACTIVATIONS", "gradient_at", "gradients_at", "gradient_curves", "sgd_path",
           "zigzag", "ZigzagResult", "zigzag_experiment"]

ACTIVATIONS: dict[str, Callable[[Value], Value]] = {
    "sigmoid": F.sigmoid,
    "tanh": F.tanh,
    "relu": F.relu,
    "leaky_relu": F.leaky_relu,
    "elu": F.elu,
}


def gradient_at(fn: Callable[[Value], Value], x: float) -> float:
    """d fn(x) / dx at one point, by backward through fn."""
    v = Value(float(x))
    out = fn(v)
    out.backward()
    return v.grad.item()


def gradients_at(points=(-10.0, 0.0, 10.0)) -> dict[str, list[float]]:
    """{activation: [f'(x) for x in points]} for every activation in ACTIVATIONS."""
    return {name: [gradient_at(fn, x) for x in points] for name, fn in ACTIVATIONS.items()}


def gradient_curves(xs: np.ndarray) -> dict[str, np.ndarray]:
    """{activation: f'(xs)}, elementwise, by one backward per activation. Shapes: xs (N,)."""
    curves = {}
    for name, fn in ACTIVATIONS.items():
        v = Value(xs)
        out = fn(v)
        out.backward(np.ones_like(xs))
        curves[name] = v.grad
    return curves


def sgd_path(X: np.ndarray, w_true: np.ndarray, steps: int, lr: float,
             rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """Per-example SGD of a linear neuron w . x fitted to w_true . x, from w = 0.

    loss = (w . x - w_true . x)^2 on one random row per step. Returns the w's visited and the
    fraction of updates whose two components share one sign. Shapes: X (N, 2), path (steps+1, 2).
    """
    w = Value(np.zeros(2), label="w")
    path = [w.data.copy()]
    same_sign = []
    for _ in range(steps):
        x = X[rng.integers(len(X))]
        target = float(x @ w_true)
        loss = (w @ x - target) ** 2
        w.zero_grad()
        loss.backward()
        update = -lr * w.grad
        if np.all(update != 0):
            same_sign.append(bool(np.sign(update[0]) == np.sign(update[1])))
        w.data = w.data + update
        path.append(w.data.copy())
    return np.array(path), float(np.mean(same_sign))


def zigzag(path: np.ndarray) -> float:
    """Length of the path walked divided by the straight distance from its start to its end."""
    walked = np.linalg.norm(np.diff(path, axis=0), axis=1).sum()
    return float(walked / np.linalg.norm(path[-1] - path[0]))


@dataclass
class ZigzagResult:
    """SGD paths of one neuron on all-positive and on zero-centred inputs.

    paths, same_sign and zigzag are keyed by "all-positive inputs" and "zero-centred inputs".
    """

    w_true: np.ndarray
    paths: dict[str, np.ndarray]
    same_sign: dict[str, float]
    zigzag: dict[str, float]


def zigzag_experiment(steps: int = 300, lr: float = 0.5, n: int = 500,
                      w_true=(1.0, -1.0)) -> ZigzagResult:
    """Fit w_true = (1, -1) from uniform(0, 1) inputs and from the same inputs centred.

    Both runs draw the same rows in the same order (seed 1); the data is seed 0.
    """
    target = np.array(w_true, dtype=float)
    positive = np.random.default_rng(0).uniform(0.0, 1.0, size=(n, 2))
    inputs = {"all-positive inputs": positive,
              "zero-centred inputs": positive - positive.mean(axis=0)}
    paths, same = {}, {}
    for name, X in inputs.items():
        paths[name], same[name] = sgd_path(X, target, steps, lr, np.random.default_rng(1))
    return ZigzagResult(target, paths, same, {k: zigzag(p) for k, p in paths.items()})
