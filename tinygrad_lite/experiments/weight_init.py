"""Weight initialization: what the scale of W does to the activations of a deep network.

10 layers of 500 units on 1000 unit-gaussian inputs:

* tanh, W ~ N(0, 0.01^2): each layer multiplies the std by about sqrt(500) * 0.01 = 0.22, so by
  layer 10 the activations have collapsed toward 0 (and so have the weight gradients).
* tanh, W ~ N(0, 1): the pre-activations are huge, tanh sits at +-1 where its gradient is 0.
* tanh, Xavier (std 1/sqrt(fan_in)): the variance is kept, layer after layer keeps a spread.
* ReLU, Xavier: ReLU zeroes half its inputs, so the variance halves at every layer.
* ReLU, He (std sqrt(2/fan_in)): the factor 2 makes up for it; every layer keeps its std.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .. import functional as F
from .. import init, nn
from ..engine import Value
from ..function import no_grad
from ..monitor import ActivationStats, activation_stats

__all__ = ["SCHEMES", "forward_stats", "InitResult", "compare_schemes", "weight_grad_norms",
           "saturated_tanh_net"]

WeightInit = Callable[[tuple, np.random.Generator], np.ndarray]


def _normal(std: float) -> WeightInit:
    """W ~ N(0, std^2) as an init function of (shape, rng)."""
    def make(shape, rng):
        return init.normal(shape, std=std, rng=rng)
    return make


#: name: (activation, init function of shape and rng)
SCHEMES: dict[str, tuple[str, WeightInit]] = {
    "tanh, std 0.01": ("tanh", _normal(0.01)),
    "tanh, std 1.0": ("tanh", _normal(1.0)),
    "tanh, Xavier": ("tanh", init.xavier),
    "ReLU, Xavier": ("relu", init.xavier),
    "ReLU, He": ("relu", init.he),
}


def forward_stats(X: np.ndarray, activation: str, make_weight: WeightInit, n_layers: int,
                  width: int, rng: np.random.Generator) -> list[ActivationStats]:
    """Run X through n_layers of width units (no biases, no graph); stats of every output.

    h_l = act(h_{l-1} @ W_l),  W_l = make_weight((fan_in, width), rng). Shapes: X (N, D),
    every h_l (N, width). The histograms share one range per activation across layers.
    """
    h = Value(X, requires_grad=False)
    stats = []
    with no_grad():
        for layer in range(n_layers):
            W = Value(make_weight((h.shape[1], width), rng), requires_grad=False)
            z = h @ W
            h = F.tanh(z) if activation == "tanh" else F.relu(z)
            value_range = (-1.0, 1.0) if activation == "tanh" else (0.0, 3.0)
            stats.append(activation_stats(h, kind=activation, name=f"layer {layer + 1}",
                                          range=value_range))
    return stats


@dataclass
class InitResult:
    """Activation statistics per scheme and layer, and the numbers the lecture's claims need.

    inputs   the unit-gaussian inputs (N, 1000)
    stats    {scheme: [ActivationStats of layer 1, ..., layer 10]}
    """

    inputs: np.ndarray
    stats: dict[str, list[ActivationStats]]

    def std(self, scheme: str) -> np.ndarray:
        """Activation std per layer. Shapes: (n_layers,)."""
        return np.array([s.std for s in self.stats[scheme]])

    def saturated(self, scheme: str) -> list[float]:
        """Fraction of saturated units (|f'| < 0.01) per layer."""
        return [s.saturated for s in self.stats[scheme]]

    @property
    def collapse(self) -> float:
        """std 0.01 with tanh: layer 10's std over layer 1's (far below 1: collapsed)."""
        small = self.std("tanh, std 0.01")
        return float(small[-1] / small[0])

    @property
    def relu_xavier_variance_ratio(self) -> float:
        """ReLU with Xavier: the mean of var(layer l+1) / var(layer l) (about 1/2)."""
        std = self.std("ReLU, Xavier")
        return float(np.mean((std[1:] / std[:-1]) ** 2))

    @property
    def he_spread(self) -> float:
        """ReLU with He: the largest factor between a layer's std and layer 1's (about 1)."""
        std = self.std("ReLU, He")
        return float(max(std.max() / std[0], std[0] / std.min()))


def compare_schemes(n_examples: int = 1000, n_layers: int = 10, width: int = 500,
                    seed: int = 0) -> InitResult:
    """forward_stats for every scheme in SCHEMES on one set of inputs (one rng, in order)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_examples, 1000))
    stats = {name: forward_stats(X, activation, make_weight, n_layers, width, rng)
             for name, (activation, make_weight) in SCHEMES.items()}
    return InitResult(X, stats)


def weight_grad_norms(X: np.ndarray, schemes=("tanh, std 0.01", "tanh, Xavier"),
                      n_layers: int = 10, width: int = 500,
                      n_classes: int = 10) -> dict[str, list[float]]:
    """||dL/dW_l|| per layer for tanh nets initialized by each scheme, on random labels.

    L = softmax_cross_entropy(h_10 @ W_head, y), y ~ uniform labels (seed 2); weights seed 3.
    The weights' gradients are proportional to each layer's inputs: they collapse with them.
    Shapes: X (N, D).
    """
    y = np.random.default_rng(2).integers(0, n_classes, len(X))
    norms = {}
    for name in schemes:
        make = SCHEMES[name][1]
        rng = np.random.default_rng(3)
        h = Value(X, requires_grad=False)
        weights = []
        for _ in range(n_layers):
            W = Value(make((h.shape[1], width), rng))
            weights.append(W)
            h = F.tanh(h @ W)
        head = Value(make((width, n_classes), rng))
        F.softmax_cross_entropy(h @ head, y).backward()
        norms[name] = [float(np.linalg.norm(W.grad)) for W in weights]
    return norms


def saturated_tanh_net(batch: int = 32) -> tuple[Value, nn.Sequential]:
    """A small tanh net (20-30-30-10) initialized with std 1.0, after backward on one batch.

    Returns (loss, net): most of its tanh units sit in the flat tails (saturated).
    """
    rng = np.random.default_rng(1)
    net = nn.Sequential(nn.Linear(20, 30, init=_normal(1.0), rng=2), nn.Tanh(),
                        nn.Linear(30, 30, init=_normal(1.0), rng=3), nn.Tanh(),
                        nn.Linear(30, 10, rng=4))
    x = Value(rng.standard_normal((batch, 20)), requires_grad=False, label="x")
    loss = F.softmax_cross_entropy(net(x), rng.integers(0, 10, batch))
    loss.backward()
    return loss, net
