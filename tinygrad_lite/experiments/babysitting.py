"""Babysitting the learning process on the digits: the lecture's checklist, in its order.

1. Initial loss, no regularization, small weights: every class gets probability ~1/10, so the
   softmax loss starts at ln 10 = 2.30.
2. Turn regularization up: the loss must go up.
3. Take 20 examples, no regularization: the network must overfit them (100% training accuracy).
4. Find a learning rate with a small regularization: 1e-6 barely moves the loss (too low), 1e6
   makes it explode (NaN, inf, or past 3x its first value: stopped early); in between the loss
   falls.
"""
from __future__ import annotations

import numpy as np

from .. import nn
from ..babysit import BabysitReport, babysit

__all__ = ["PROBE_LRS", "make_model", "checklist"]

PROBE_LRS = (1e-6, 1e-2, 1e-1, 1.0, 1e6)


def make_model() -> nn.Sequential:
    """64 -> 50 ReLU -> 10 with small weights (std 0.01), the same every call."""
    return nn.Sequential(
        nn.Linear(64, 50, init="normal", rng=0), nn.ReLU(),
        nn.Linear(50, 10, init="normal", rng=1))


def checklist(X: np.ndarray, y: np.ndarray, *, reg: float = 1e3, overfit_n: int = 20,
              overfit_steps: int = 300, overfit_lr: float = 0.1, lrs=PROBE_LRS,
              probe_steps: int = 30, probe_reg: float = 1e-6,
              batch_size: int = 100) -> BabysitReport:
    """tinygrad_lite.babysit's four checks in order, on make_model(); their verdicts.

    report.verdicts: initial loss, regularization (reg), overfit (the first overfit_n rows,
    no regularization), then one verdict per learning rate (probe_reg). Shapes: X (N, 64),
    y (N,).
    """
    return babysit(make_model, X, y, reg=reg, overfit_n=overfit_n, overfit_steps=overfit_steps,
                   overfit_lr=overfit_lr, lrs=lrs, probe_steps=probe_steps, probe_reg=probe_reg,
                   batch_size=batch_size, progress=False)
