"""Softmax, log-softmax and the losses: softmax cross-entropy, multiclass hinge (SVM), MSE.

Everything is computed from logits shifted by their maximum, so no exp overflows, whatever
their size. The losses are fused: one op, one backward formula.

At the dtype's limits (logits spanning more than the largest float, such as -3e38 and 3e38
in float32) a shift below -finfo.max rounds to -inf, silently: its probability is exactly 0
and its log-probability -inf (as PyTorch); gradients stay finite.
"""
import numpy as np

from ..function import Function


class LabelError(IndexError, ValueError):
    """A class label out of range: an IndexError as in PyTorch, and a ValueError (bad input)."""


class OneHotLabelsError(ValueError, TypeError):
    """One-hot labels where class indices are expected: a ValueError (their shape) and a
    TypeError (float one-hot labels were reported as such before)."""


def check_labels(op, y, n, c):
    """Labels as an int64 array of shape (n,) with values in [0, c); clear errors otherwise."""
    y = np.asarray(y.data if hasattr(y, "data") and not isinstance(y, np.ndarray) else y)
    if y.ndim == 2 and y.shape == (n, c):  # one row per example, one column per class
        raise OneHotLabelsError(f"{op}: labels of shape {y.shape} look one-hot; pass class indices "
                         f"of shape ({n},): y.argmax(axis=1)")
    if y.dtype.kind not in "iu":
        raise TypeError(f"{op}: labels must be integers, got dtype {y.dtype}; "
                        f"convert with y.astype(np.int64)")
    if y.shape != (n,):
        raise ValueError(f"{op}: labels of shape {y.shape} do not match scores of shape "
                         f"({n}, {c}); expected ({n},)")
    if n and (y.min() < 0 or y.max() >= c):
        bad = y[(y < 0) | (y >= c)][0]
        raise LabelError(f"{op}: label {bad} is out of range for {c} classes (expected 0..{c - 1})")
    return y.astype(np.int64, copy=False)


def _check_scores(op, x):
    if x.ndim != 2:
        raise ValueError(f"{op}: scores must have shape (N, C), got {x.shape}")
    if x.shape[0] == 0:
        raise ValueError(f"{op}: empty batch (scores of shape {x.shape})")
    if x.shape[1] == 0:
        raise ValueError(f"{op}: no classes (scores of shape {x.shape})")


def _shift(x, axis):
    """x - max(x) along axis; a difference beyond the dtype's range is -inf, without a warning."""
    with np.errstate(over="ignore"):
        return x - x.max(axis=axis, keepdims=True)


class Softmax(Function):
    """p = exp(x - max) / sum(exp(x - max)) along axis. Backward: p * (g - sum(g * p))."""

    __slots__ = ("p", "axis")

    op = "softmax"
    vjp = ("p * (grad - sum(grad * p, axis))",)

    @staticmethod
    def forward(ctx, x, *, axis=-1):
        e = np.exp(_shift(x, axis))
        p = e / e.sum(axis=axis, keepdims=True)
        ctx.p, ctx.axis = p, axis
        return p

    @staticmethod
    def backward(ctx, g):
        p = ctx.p
        return p * (g - (g * p).sum(axis=ctx.axis, keepdims=True))


class LogSoftmax(Function):
    """x - max - log(sum(exp(x - max))) along axis. Backward: g - softmax * sum(g)."""

    __slots__ = ("out", "axis")

    op = "log_softmax"
    vjp = ("grad - softmax(x) * sum(grad, axis)",)

    @staticmethod
    def forward(ctx, x, *, axis=-1):
        shifted = _shift(x, axis)
        out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        ctx.out, ctx.axis = out, axis
        return out

    @staticmethod
    def backward(ctx, g):
        return g - np.exp(ctx.out) * g.sum(axis=ctx.axis, keepdims=True)


class SoftmaxCrossEntropy(Function):
    """L = -mean_i log softmax(x_i)[y_i]. Shapes: x (N, C), y (N,) ints -> scalar.

    Backward: (softmax(x) - onehot(y)) / N.
    """

    __slots__ = ("log_probs", "y", "rows")

    op = "softmax_cross_entropy"
    vjp = ("(softmax(x) - onehot(y)) / N * grad",)

    @staticmethod
    def forward(ctx, x, *, y):
        _check_scores(SoftmaxCrossEntropy.op, x)
        n, c = x.shape
        y = check_labels(SoftmaxCrossEntropy.op, y, n, c)
        shifted = _shift(x, 1)  # (N, C)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        rows = np.arange(n)
        ctx.log_probs, ctx.y, ctx.rows = log_probs, y, rows
        return -log_probs[rows, y].mean()

    @staticmethod
    def backward(ctx, g):
        dx = np.exp(ctx.log_probs)
        dx[ctx.rows, ctx.y] -= 1
        dx *= g / len(ctx.y)
        return dx


class SVMLoss(Function):
    """Multiclass hinge: L = mean_i sum_{j != y_i} max(0, x_ij - x_iy_i + margin).

    Shapes: x (N, C), y (N,) ints -> scalar. At a margin of exactly 0 the gradient is 0.
    """

    __slots__ = ("active", "y", "rows")

    op = "svm_loss"
    vjp = ("(1[margin > 0] - onehot(y) * count) / N * grad",)

    @staticmethod
    def forward(ctx, x, *, y, margin=1.0):
        _check_scores(SVMLoss.op, x)
        n, c = x.shape
        y = check_labels(SVMLoss.op, y, n, c)
        rows = np.arange(n)
        margins = np.maximum(0, x - x[rows, y][:, None] + margin)  # (N, C)
        margins[rows, y] = 0
        ctx.active, ctx.y, ctx.rows = margins > 0, y, rows
        return margins.sum() / n

    @staticmethod
    def backward(ctx, g):
        d = ctx.active.astype(g.dtype if g.dtype.kind == "f" else np.float64)
        d[ctx.rows, ctx.y] = -d.sum(axis=1)
        d *= g / len(ctx.y)
        return d


class MSELoss(Function):
    """L = mean((pred - target)**2). Shapes must match exactly (no silent broadcasting)."""

    __slots__ = ("diff",)

    op = "mse_loss"
    pointwise_inputs = (0, 1)  # d loss / d pred is an array of pred's shape

    @staticmethod
    def forward(ctx, pred, target):
        if pred.shape != target.shape:
            raise ValueError(f"mse_loss: pred of shape {pred.shape} and target of shape "
                             f"{target.shape} differ (broadcasting here is usually a bug)")
        if pred.size == 0:
            raise ValueError(f"mse_loss: empty input of shape {pred.shape}")
        diff = pred - target
        ctx.diff = diff
        return np.mean(diff * diff)

    @staticmethod
    def backward(ctx, g):
        d = ctx.diff * (g * 2.0 / ctx.diff.size)
        return d, -d
