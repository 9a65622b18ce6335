"""The functional ops users call as ``F.name(...)``: activations, linear, softmax and losses.

Every function accepts Values, ndarrays or numbers and returns a Value. Each is a single
op of :mod:`tinygrad_lite.ops` (``linear`` is matmul then add, so a drawing shows both).
"""
from __future__ import annotations

import numpy as np

from . import ops
from .engine import Value

__all__ = [
    "sigmoid", "tanh", "relu", "leaky_relu", "elu", "prelu", "maxout",
    "linear", "softmax", "log_softmax", "softmax_cross_entropy", "cross_entropy", "svm_loss",
    "mse_loss",
]


def sigmoid(x):
    """1 / (1 + exp(-x)), stable for any |x|. Saturates: its gradient is at most 0.25."""
    return ops.Sigmoid.apply(x)


def tanh(x):
    """tanh(x): zero-centred, but saturates like sigmoid for large |x|."""
    return ops.Tanh.apply(x)


def relu(x):
    """max(0, x); relu'(0) = 0. Units whose input is <= 0 for every example are dead."""
    return ops.ReLU.apply(x)


def leaky_relu(x, slope=0.01):
    """x for x > 0, slope * x otherwise; derivative slope at 0. Never dies."""
    return ops.LeakyReLU.apply(x, slope=slope)


def elu(x, alpha=1.0):
    """x for x > 0, alpha (exp(x) - 1) otherwise; derivative alpha at 0 (PyTorch's)."""
    return ops.ELU.apply(x, alpha=alpha)


def prelu(x, alpha):
    """Leaky ReLU with a learned slope ``alpha``: a 0-d Value (one slope), shape (D,) for
    (N, D) input, or (C,) applied on axis 1 for (N, C, H, W) input."""
    return ops.PReLU.apply(x, alpha)


def maxout(z, k):
    """Max over k pieces: z's last axis (units * k) is split into (units, k), max over k.

    Shapes: z (..., units * k) -> (..., units). Ties: the first piece wins the gradient.
    """
    return ops.Maxout.apply(z, k=k)


def linear(x, W, b=None):
    """x @ W + b with W of shape (in, out). Shapes: x (N, in), W (in, out), b (out,) -> (N, out)."""
    W_shape = W.shape if hasattr(W, "shape") else np.shape(W)
    x_shape = x.shape if hasattr(x, "shape") else np.shape(x)
    if len(W_shape) != 2:
        raise ValueError(f"linear: W must have shape (in, out), got {W_shape}")
    if not x_shape or x_shape[-1] != W_shape[0]:
        raise ValueError(f"linear: x of shape {x_shape} and W of shape {W_shape} do not align "
                         f"(x's last axis must be {W_shape[0]})")
    out = ops.MatMul.apply(x, W)
    if b is not None:
        b_shape = b.shape if hasattr(b, "shape") else np.shape(b)
        if b_shape not in ((W_shape[1],), (), (1,)):
            raise ValueError(f"linear: bias of shape {b_shape} does not fit W of shape {W_shape}; "
                             f"expected ({W_shape[1]},)")
        out = ops.Add.apply(out, b)
    return out


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along axis, computed from x - max(x): stable for any logits."""
    return ops.Softmax.apply(x, axis=axis)


def log_softmax(x, axis=-1):
    """log(softmax(x)) as x - max - log(sum(exp(x - max))): finite for any logits."""
    return ops.LogSoftmax.apply(x, axis=axis)


def softmax_cross_entropy(logits, y):
    """Mean over the batch of -log softmax(logits)[y]. logits (N, C); y (N,) integer labels.

    With small random weights the scores are near 0 and the loss starts near ln C.
    """
    return ops.SoftmaxCrossEntropy.apply(logits, y=_labels(y))


cross_entropy = softmax_cross_entropy  # PyTorch's name for the same thing


def svm_loss(scores, y, margin=1.0):
    """Multiclass hinge loss, mean over the batch: sum_{j != y} max(0, s_j - s_y + margin).

    With scores near 0 it starts near (C - 1) * margin.
    """
    return ops.SVMLoss.apply(scores, y=_labels(y), margin=margin)


def mse_loss(pred, target):
    """mean((pred - target)**2); the shapes must match."""
    return ops.MSELoss.apply(pred, target)


def _labels(y):
    if isinstance(y, Value):  # Value() made integer labels float64: take them back if whole
        d = y.data
        if d.dtype.kind == "f" and np.all(np.isfinite(d)) and np.all(d == np.round(d)):
            return d.astype(np.int64)
        return d
    return y if isinstance(y, np.ndarray) else np.asarray(y)
