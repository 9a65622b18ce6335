"""Normalization and regularization layers as single ops: batch norm, layer norm, dropout.

Each is one Function with one fused backward formula (not a chain of small ops), so a drawing
shows one node per layer and the gradient of the whole layer is checked in one place.

Batch norm follows PyTorch's conventions (CS231n lecture 6): in training it normalizes with
the batch's mean and biased variance, and updates the running statistics in place as
``running = (1 - momentum) * running + momentum * batch_stat`` with the *unbiased* batch
variance for ``running_var``; in evaluation it uses the running statistics.
"""
import math

import numpy as np

from ..function import Function

__all__ = ["BatchNorm", "LayerNorm", "Dropout"]


def _channel_view(x, op):
    """x as (N, C, L): (N, C) -> (N, C, 1); (N, C, H, W) -> (N, C, H*W); (N, C, L) as is."""
    if x.ndim < 2:
        raise ValueError(f"{op}: expected input of shape (N, C) or (N, C, H, W), got {x.shape}")
    n, c = x.shape[:2]
    return x.reshape(n, c, math.prod(x.shape[2:]))  # not -1: that fails for an empty batch


def _stat_array(arr, name, c, op):
    """A running-statistics array to read or update in place: an ndarray of shape (C,)."""
    if arr is None:
        return None
    arr = getattr(arr, "data", arr) if not isinstance(arr, np.ndarray) else arr
    if not isinstance(arr, np.ndarray) or arr.dtype.kind != "f":
        raise TypeError(f"{op}: {name} must be a float ndarray of shape ({c},) (updated in "
                        f"place), got {type(arr).__name__}")
    if arr.shape != (c,):
        raise ValueError(f"{op}: {name} of shape {arr.shape} does not match the {c} channels "
                         f"of the input; expected ({c},)")
    return arr


class BatchNorm(Function):
    """Normalize each channel over the batch (and space), then scale and shift.

    y = gamma * x_hat + beta,  x_hat = (x - mean) / sqrt(var + eps),
    mean and biased var over N for x (N, D), over N, H, W for x (N, C, H, W).
    Shapes: x (N, C) or (N, C, H, W) (any (N, C, ...)), gamma (C,), beta (C,) -> y like x.

    Keyword-only: running_mean, running_var (ndarrays (C,) or None), training, momentum, eps.
    Training: batch statistics; running arrays, where given, are updated in place with the
    unbiased variance. Evaluation: the running statistics, which must be given.
    Backward (training), with g_hat = grad * gamma and means over the normalized axes:
        dx = (g_hat - mean(g_hat) - x_hat * mean(g_hat * x_hat)) / sqrt(var + eps)
    (evaluation: dx = g_hat / sqrt(running_var + eps), the statistics being constants);
    dgamma = sum(grad * x_hat), dbeta = sum(grad).
    """

    op = "batch_norm"
    vjp = ("(g_hat - mean(g_hat) - x_hat * mean(g_hat * x_hat)) / std, g_hat = grad * gamma",
           "sum(grad * x_hat) per channel", "sum(grad) per channel")

    @staticmethod
    def forward(ctx, x, gamma, beta, *, running_mean=None, running_var=None, training=True,
                momentum=0.1, eps=1e-5):
        op = BatchNorm.op
        x3 = _channel_view(x, op)  # (N, C, L)
        n, c, length = x3.shape
        for name, p in (("gamma", gamma), ("beta", beta)):
            if p.shape != (c,):
                raise ValueError(f"{op}: {name} of shape {p.shape} does not match the {c} "
                                 f"channels of input {x.shape}; expected ({c},)")
        rm = _stat_array(running_mean, "running_mean", c, op)
        rv = _stat_array(running_var, "running_var", c, op)
        count = n * length  # values per channel
        new_rm = new_rv = None
        if training:
            if count <= 1:
                raise ValueError(f"{op}: expected more than 1 value per channel when training, "
                                 f"got input of shape {x.shape}")
            mean = np.einsum("ncl->c", x3) / count  # (C,)
            centred = x3 - mean[:, None]  # (N, C, L)
            var = np.einsum("ncl,ncl->c", centred, centred) / count  # (C,) biased
            if rm is not None or rv is not None:
                m = float(momentum)
                if not 0.0 <= m <= 1.0:
                    raise ValueError(f"{op}: momentum must be in [0, 1], got {momentum}")
                # computed now, written once the output exists: an error on the way leaves
                # the running statistics untouched
                if rm is not None:
                    new_rm = (1.0 - m) * rm + m * mean
                if rv is not None:  # the unbiased variance, as PyTorch
                    new_rv = (1.0 - m) * rv + (m * count / (count - 1)) * var
        else:
            if rm is None or rv is None:
                raise ValueError(f"{op}: evaluation (training=False) needs running_mean and "
                                 f"running_var")
            centred = x3 - rm.astype(x.dtype, copy=False)[:, None]
            var = rv.astype(x.dtype, copy=False)
        inv_std = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)  # (C,)
        scale = inv_std * gamma  # (C,): y = centred * scale + beta, one pass and one add
        out = centred * scale[:, None]
        out += beta[:, None]
        if new_rm is not None:
            rm[...] = new_rm
        if new_rv is not None:
            rv[...] = new_rv
        ctx.save(centred=centred, inv_std=inv_std, gamma=gamma, training=bool(training),
                 in_shape=x.shape)
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad_out):
        g = grad_out.reshape(ctx.centred.shape)  # (N, C, L)
        centred, inv_std = ctx.centred, ctx.inv_std
        dbeta = np.einsum("ncl->c", g)  # (C,)
        dgamma = np.einsum("ncl,ncl->c", g, centred) * inv_std  # sum(grad * x_hat)
        scale = ctx.gamma * inv_std  # (C,)
        dx = g * scale[:, None]
        if ctx.training:
            count = g.shape[0] * g.shape[2]
            # (g_hat - mean(g_hat) - x_hat * mean(g_hat * x_hat)) * inv_std, with
            # x_hat = centred * inv_std, written as g * scale + centred * b + d per channel
            dx += centred * (-scale * inv_std * dgamma / count)[:, None]
            dx += (-scale * dbeta / count)[:, None]
        return dx.reshape(ctx.in_shape), dgamma, dbeta

    @property
    def x_hat(self):
        """The normalized input (x - mean) / sqrt(var + eps), recomputed for inspection."""
        return (self.centred * self.inv_std[:, None]).reshape(self.in_shape)


def _norm_axes(x, gamma, op):
    """The trailing axes that layer norm normalizes: as many as gamma has (at least one)."""
    k = max(gamma.ndim, 1)
    if x.ndim < k or (gamma.ndim and x.shape[-k:] != gamma.shape):
        raise ValueError(f"{op}: gamma of shape {gamma.shape} does not match the trailing axes "
                         f"of input {x.shape}")
    return tuple(range(x.ndim - k, x.ndim))


class LayerNorm(Function):
    """Normalize each example over its last axis (or trailing axes), then scale and shift.

    y = gamma * x_hat + beta,  x_hat = (x - mean(x)) / sqrt(var(x) + eps), over the last
    axis (the trailing axes of gamma's shape when gamma has several).
    Shapes: x (..., D), gamma (D,), beta (D,) -> y (..., D).
    Backward, with g_hat = grad * gamma and means over the normalized axes:
        dx = (g_hat - mean(g_hat) - x_hat * mean(g_hat * x_hat)) / sqrt(var + eps)
    dgamma = sum(grad * x_hat), dbeta = sum(grad) over the leading axes.
    """

    op = "layer_norm"
    vjp = ("(g_hat - mean(g_hat) - x_hat * mean(g_hat * x_hat)) / std, g_hat = grad * gamma",
           "sum(grad * x_hat) over the leading axes", "sum(grad) over the leading axes")

    @staticmethod
    def forward(ctx, x, gamma, beta, *, eps=1e-5):
        op = LayerNorm.op
        axes = _norm_axes(x, gamma, op)
        if beta.shape != gamma.shape:
            raise ValueError(f"{op}: beta of shape {beta.shape} differs from gamma's {gamma.shape}")
        mean = x.mean(axis=axes, keepdims=True)  # (..., 1)
        centred = x - mean
        inv_std = 1.0 / np.sqrt(np.square(centred).mean(axis=axes, keepdims=True) + eps)
        x_hat = centred * inv_std  # (..., D)
        ctx.save(x_hat=x_hat, inv_std=inv_std, gamma=gamma, axes=axes)
        return x_hat * gamma + beta

    @staticmethod
    def backward(ctx, grad_out):
        x_hat, axes = ctx.x_hat, ctx.axes
        g_hat = grad_out * ctx.gamma
        dx = ctx.inv_std * (g_hat - g_hat.mean(axis=axes, keepdims=True)
                            - x_hat * (g_hat * x_hat).mean(axis=axes, keepdims=True))
        lead = tuple(range(grad_out.ndim - len(axes)))
        dgamma = (grad_out * x_hat).sum(axis=lead)
        dbeta = grad_out.sum(axis=lead)
        return dx, dgamma, dbeta


class Dropout(Function):
    """Inverted dropout: drop each unit with probability p, scale the survivors by 1/(1-p).

    y = x * mask / (1 - p),  mask ~ Bernoulli(1 - p), so E[y] = x and evaluation needs no
    rescaling. p = 1 drops everything (y = 0).
    Shapes: x (any) -> y like x. Backward: grad * mask / (1 - p), the same mask.
    Keyword-only: p, rng (a numpy Generator, drawn from once per call).
    """

    op = "dropout"
    pointwise_inputs = (0,)  # d y / d x is the scaled mask: drawings show it as an array

    @staticmethod
    def forward(ctx, x, *, p, rng):
        keep = rng.random(x.shape, dtype=np.float32 if x.dtype == np.float32 else np.float64) >= p
        scale = 0.0 if p >= 1.0 else 1.0 / (1.0 - p)
        mask = keep * np.asarray(scale, dtype=x.dtype)  # (x.shape) 0 or 1/(1-p)
        ctx.mask = mask
        return x * mask

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out * ctx.mask
