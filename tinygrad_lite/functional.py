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


# -- layers: normalization, dropout, convolution, pooling ---------------------------------

__all__ += ["batch_norm", "layer_norm", "dropout", "conv2d", "max_pool2d"]


def _shape_of(x):
    return x.shape if hasattr(x, "shape") else np.shape(x)


def _dtype_of(x):
    d = x.dtype if hasattr(x, "dtype") else np.asarray(x).dtype
    return d if d.kind == "f" else np.dtype(np.float64)


def batch_norm(x, gamma, beta, running_mean=None, running_var=None, training=True,
               momentum=0.1, eps=1e-5):
    """Batch normalization: one mean and one std per feature (N, D) or per channel (N, C, H, W).

    y = gamma * (x - mean) / sqrt(var + eps) + beta, statistics over N (and H, W).
    Shapes: x (N, C) or (N, C, H, W), gamma (C,), beta (C,), running_* (C,) -> y like x.

    Training uses the batch mean and biased variance and, where running arrays (ndarrays) are
    given, updates them in place: running = (1 - momentum) * running + momentum * batch_stat,
    with the unbiased variance for running_var (PyTorch's convention). A training batch with a
    single value per channel raises ValueError, as in PyTorch. Evaluation (training=False)
    uses the running statistics. gamma or beta None means 1 or 0 (no learned scale or shift).
    One op with a fused backward formula.
    """
    shape = _shape_of(x)
    if len(shape) < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C) or (N, C, H, W), got {shape}")
    if gamma is None:
        gamma = np.ones(shape[1], dtype=_dtype_of(x))
    if beta is None:
        beta = np.zeros(shape[1], dtype=_dtype_of(x))
    return ops.BatchNorm.apply(x, gamma, beta, running_mean=running_mean,
                               running_var=running_var, training=bool(training),
                               momentum=momentum, eps=eps)


def layer_norm(x, gamma, beta, eps=1e-5):
    """Layer normalization over the last axis of each example (no batch statistics).

    y = gamma * (x - mean) / sqrt(var + eps) + beta, mean and biased var over the last axis
    (over the trailing axes of gamma's shape when gamma has several, as PyTorch's
    normalized_shape). Shapes: x (..., D), gamma (D,), beta (D,) -> y (..., D).
    Behaves the same in training and evaluation. gamma or beta None means 1 or 0.
    """
    shape = _shape_of(x)
    if not shape:
        raise ValueError("layer_norm: expected input with at least one axis, got shape ()")
    if gamma is None:
        gamma = np.ones(shape[-1] if beta is None else _shape_of(beta), dtype=_dtype_of(x))
    if beta is None:
        beta = np.zeros(_shape_of(gamma), dtype=_dtype_of(x))
    return ops.LayerNorm.apply(x, gamma, beta, eps=eps)


def dropout(x, p=0.5, training=True, rng=None):
    """Inverted dropout: zero each unit with probability p, scale the rest by 1 / (1 - p).

    y = x * mask / (1 - p), mask ~ Bernoulli(1 - p); E[y] = x, so evaluation is the identity.
    Shapes: x (any) -> y like x.
    p is the probability of dropping (PyTorch's meaning). With p = 0 or training=False, x is
    returned unchanged (the same Value: no node in the graph). rng: a numpy Generator (or an
    int seed) for a reproducible mask; None draws fresh entropy.
    """
    try:
        p = float(p)
    except (TypeError, ValueError):
        raise TypeError(f"dropout: p must be a number, got {type(p).__name__}") from None
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p is the probability of dropping a unit and must be in "
                         f"[0, 1], got {p}")
    if not training or p == 0.0:
        return x if isinstance(x, Value) else Value(x, requires_grad=False)
    if not isinstance(rng, np.random.Generator):
        if rng is not None and (isinstance(rng, bool) or not isinstance(rng, (int, np.integer))):
            raise TypeError(f"dropout: rng must be a numpy.random.Generator, an int seed or "
                            f"None, got {type(rng).__name__}")
        rng = np.random.default_rng(rng)
    return ops.Dropout.apply(x, p=p, rng=rng)


def conv2d(x, w, b=None, stride=1, padding=0):
    """2-D convolution (cross-correlation, as in every deep learning library), NCHW.

    y[n, f] = b[f] + sum_c w[f, c] (*) xp[n, c], xp = x zero-padded;
    Ho = (H + 2 padding - kh) // stride + 1, Wo likewise.
    Shapes: x (N, C, H, W), w (F, C, kh, kw), b (F,) or None -> y (N, F, Ho, Wo).
    stride and padding: an int or a pair (vertical, horizontal). Vectorised with im2col.
    """
    if b is None:
        return ops.Conv2d.apply(x, w, stride=stride, padding=padding)
    return ops.Conv2d.apply(x, w, b, stride=stride, padding=padding)


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """Max pooling over kernel windows of each channel, NCHW.

    y[n, c, r, q] = max over the window at (r * stride, q * stride);
    Ho = (H + 2 padding - kh) // stride + 1 (floor), Wo likewise.
    Shapes: x (N, C, H, W) -> y (N, C, Ho, Wo). stride None means the kernel size.
    Gradient: to each window's maximum; on ties the first maximum in row-major window order
    takes it all (as PyTorch).
    """
    return ops.MaxPool2d.apply(x, kernel_size=kernel_size, stride=stride, padding=padding)
