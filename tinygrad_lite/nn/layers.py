"""The layers: Linear, Conv2d, pooling, activations, PReLU, Maxout, normalization, dropout.

Each layer is a Module (``module.py``) that owns its parameters and calls ``functional`` in
``forward``; none defines its own gradient.
"""
from __future__ import annotations

import numpy as np

from .. import functional as F
from .. import init as _init
from ..engine import Value
from .module import Module

__all__ = [
    "Identity", "Linear", "Conv2d", "MaxPool2d", "Flatten", "ReLU", "Tanh", "Sigmoid",
    "LeakyReLU", "ELU", "PReLU", "Maxout", "BatchNorm1d", "BatchNorm2d", "LayerNorm", "Dropout",
]


def _make_rng(rng, where):
    """A numpy Generator from a Generator, an int seed or None (fresh entropy)."""
    if rng is None or isinstance(rng, np.random.Generator):
        return rng if rng is not None else np.random.default_rng()
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, (bool, np.bool_)):
        return np.random.default_rng(int(rng))
    raise TypeError(f"{where}: rng must be a numpy.random.Generator, an int seed or None, "
                    f"got {type(rng).__name__}")


def _param(data, label):
    return Value(data, requires_grad=True, label=label)


class Identity(Module):
    """y = x."""

    def forward(self, x):
        return x


class Linear(Module):
    """Fully connected layer.

    y = x @ W + b
    Shapes: x (N, in_features) -> y (N, out_features); weight (in_features, out_features),
    bias (out_features,).

    init: "xavier" (default, the lecture's std 1/sqrt(fan_in)), "glorot", "he" (for ReLU
    nets), "normal", "zeros", or a callable called as init(shape, rng=rng). bias_init: the
    bias's starting value (0; the lecture mentions a small positive bias such as 0.01 for ReLU
    nets, so that units start active). rng: a Generator or an int seed for reproducible init.
    """

    def __init__(self, in_features, out_features, bias=True, init="xavier", rng=None,
                 bias_init=0.0):
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        gen = _make_rng(rng, "Linear")
        W = np.asarray(_init.get(init)((self.in_features, self.out_features), rng=gen))
        if W.shape != (self.in_features, self.out_features):
            raise ValueError(f"Linear: init returned shape {W.shape}, expected "
                             f"{(self.in_features, self.out_features)}")
        self.weight = _param(W, "weight")
        self.bias = _param(np.full(self.out_features, float(bias_init)), "bias") if bias else None

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Conv2d(Module):
    """2-D convolution over NCHW input.

    y = conv2d(x, weight, bias, stride, padding)
    Shapes: x (N, in_channels, H, W) -> y (N, out_channels, Ho, Wo); weight
    (out_channels, in_channels, kh, kw), bias (out_channels,).

    init: as Linear's, "xavier" by default (std 1/sqrt(fan_in), fan_in = C * kh * kw), the
    same default for every layer; pass init="he" for ReLU networks. PyTorch's default is a
    uniform of similar scale (std 1/sqrt(3 fan_in)).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True,
                 init="xavier", rng=None, bias_init=0.0):
        super().__init__()
        from ..ops.conv import pair

        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = pair(kernel_size, "kernel_size", "Conv2d")
        self.stride = pair(stride, "stride", "Conv2d")
        self.padding = pair(padding, "padding", "Conv2d", minimum=0)
        shape = (self.out_channels, self.in_channels) + self.kernel_size
        gen = _make_rng(rng, "Conv2d")
        W = np.asarray(_init.get(init)(shape, rng=gen))
        if W.shape != shape:
            raise ValueError(f"Conv2d: init returned shape {W.shape}, expected {shape}")
        self.weight = _param(W, "weight")
        self.bias = _param(np.full(self.out_channels, float(bias_init)), "bias") if bias else None

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.bias is None:
            s += ", bias=False"
        return s


class MaxPool2d(Module):
    """Max pooling: y = max over each kernel window (stride defaults to the kernel size).

    Shapes: x (N, C, H, W) -> y (N, C, Ho, Wo). Ties: the first maximum takes the gradient."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self):
        stride = self.kernel_size if self.stride is None else self.stride
        return f"kernel_size={self.kernel_size}, stride={stride}, padding={self.padding}"


class Flatten(Module):
    """Keep the batch axis and flatten the rest: (N, d1, d2, ...) -> (N, d1 * d2 * ...)."""

    def __init__(self, start_dim=1):
        super().__init__()
        self.start_dim = int(start_dim)

    def forward(self, x):
        if not isinstance(x, Value):
            x = Value(x, requires_grad=False)
        return x.flatten(self.start_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}"


class ReLU(Module):
    """y = max(0, x)."""

    def forward(self, x):
        return F.relu(x)


class Tanh(Module):
    """y = tanh(x)."""

    def forward(self, x):
        return F.tanh(x)


class Sigmoid(Module):
    """y = 1 / (1 + exp(-x))."""

    def forward(self, x):
        return F.sigmoid(x)


class LeakyReLU(Module):
    """y = x for x > 0, slope * x otherwise (PyTorch's negative_slope)."""

    def __init__(self, slope=0.01):
        super().__init__()
        self.slope = float(slope)

    def forward(self, x):
        return F.leaky_relu(x, self.slope)

    def extra_repr(self):
        return f"slope={self.slope}"


class ELU(Module):
    """y = x for x > 0, alpha (exp(x) - 1) otherwise."""

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = float(alpha)

    def forward(self, x):
        return F.elu(x, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class PReLU(Module):
    """Leaky ReLU with a learned slope: y = x for x > 0, a * x otherwise.

    num_parameters=1: one slope shared by all units (weight of shape ()); num_parameters=C:
    one per feature of (N, C) input or per channel (axis 1) of (N, C, H, W) input (weight
    (C,)). init: the slopes' starting value (0.25, as PyTorch). The count is kept as
    ``num_slopes``: ``num_parameters()`` is Module's method (how many numbers it holds).
    """

    def __init__(self, num_parameters=1, init=0.25):
        super().__init__()
        self.num_slopes = int(num_parameters)
        if self.num_slopes < 1:
            raise ValueError(f"PReLU: num_parameters must be >= 1, got {num_parameters}")
        shape = () if self.num_slopes == 1 else (self.num_slopes,)
        self.weight = _param(np.full(shape, float(init)), "weight")

    def forward(self, x):
        return F.prelu(x, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_slopes}"


class Maxout(Module):
    """Maxout unit layer (Goodfellow et al.): the max of k linear pieces per output unit.

    y[:, u] = max_{t < k} (x @ W + b)[:, u * k + t]
    Shapes: x (N, in_features) -> y (N, out_features); weight (in_features,
    out_features * k), bias (out_features * k,). Doubles (k times) the parameters per unit.
    """

    def __init__(self, in_features, out_features, k=2, bias=True, init="xavier", rng=None):
        super().__init__()
        self.in_features, self.out_features, self.k = int(in_features), int(out_features), int(k)
        if self.k < 1:
            raise ValueError(f"Maxout: k must be >= 1, got {k}")
        shape = (self.in_features, self.out_features * self.k)
        self.weight = _param(np.asarray(_init.get(init)(shape, rng=_make_rng(rng, "Maxout"))),
                             "weight")
        self.bias = _param(np.zeros(shape[1]), "bias") if bias else None

    def forward(self, x):
        return F.maxout(F.linear(x, self.weight, self.bias), self.k)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, k={self.k}"


class _BatchNorm(Module):
    _ndims: tuple = ()
    _layout = ""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True):
        super().__init__()
        self.num_features = int(num_features)
        self.eps, self.momentum = float(eps), float(momentum)
        if not 0.0 <= self.momentum <= 1.0:
            raise ValueError(f"{type(self).__name__}: momentum must be in [0, 1], got {momentum}")
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        c = self.num_features
        self.weight = _param(np.ones(c), "weight") if affine else None    # gamma
        self.bias = _param(np.zeros(c), "bias") if affine else None       # beta
        self.register_buffer("running_mean", np.zeros(c) if track_running_stats else None)
        self.register_buffer("running_var", np.ones(c) if track_running_stats else None)

    @property
    def gamma(self):
        """The learned scale (the lecture's gamma), also called weight."""
        return self.weight

    @property
    def beta(self):
        """The learned shift (the lecture's beta), also called bias."""
        return self.bias

    def forward(self, x):
        shape = x.shape if hasattr(x, "shape") else np.shape(x)
        if len(shape) not in self._ndims:
            raise ValueError(f"{type(self).__name__}: expected input of shape {self._layout}, "
                             f"got {tuple(shape)}")
        if shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}: input of shape {tuple(shape)} has "
                             f"{shape[1]} features/channels on axis 1, expected "
                             f"{self.num_features}")
        use_batch = self.training or self.running_mean is None
        return F.batch_norm(x, self.weight, self.bias, self.running_mean, self.running_var,
                            training=use_batch, momentum=self.momentum, eps=self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm per feature: y = gamma * (x - mean) / sqrt(var + eps) + beta.

    Shapes: x (N, C) or (N, C, L) -> y like x; weight (gamma) ones (C,), bias (beta) zeros
    (C,); buffers running_mean zeros (C,), running_var ones (C,). Training: batch statistics,
    running statistics updated with momentum; eval(): the running statistics.
    """

    _ndims = (2, 3)
    _layout = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Spatial batch norm: one mean and one std per channel, over N, H and W.

    Shapes: x (N, C, H, W) -> y like x; parameters and buffers as BatchNorm1d's, (C,).
    """

    _ndims = (4,)
    _layout = "(N, C, H, W)"


class LayerNorm(Module):
    """Layer norm over the trailing axes given by normalized_shape (an int: the last axis).

    y = gamma * (x - mean) / sqrt(var + eps) + beta, statistics per example
    Shapes: x (..., *normalized_shape) -> y like x; weight ones, bias zeros of
    normalized_shape. The same in training and evaluation.
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) \
            else tuple(normalized_shape)
        self.normalized_shape = tuple(int(s) for s in shape)
        self.eps = float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        if elementwise_affine:
            self.weight = _param(np.ones(self.normalized_shape), "weight")
            self.bias = _param(np.zeros(self.normalized_shape), "bias")
        else:
            self.weight = self.bias = None

    def forward(self, x):
        gamma, beta = self.weight, self.bias
        if gamma is None:
            dt = x.dtype if hasattr(x, "dtype") and x.dtype.kind == "f" else np.float64
            gamma = np.ones(self.normalized_shape, dtype=dt)
            beta = np.zeros(self.normalized_shape, dtype=dt)
        return F.layer_norm(x, gamma, beta, eps=self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class Dropout(Module):
    """Inverted dropout with drop probability p while training; the identity in eval().

    y = x * mask / (1 - p), mask ~ Bernoulli(1 - p). rng: a Generator or an int seed, kept
    by the module, so a seeded model draws the same masks run after run.
    """

    def __init__(self, p=0.5, rng=None):
        super().__init__()
        p = float(p)
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p is the probability of dropping a unit and must be in "
                             f"[0, 1], got {p}")
        self.p = p
        self.rng = _make_rng(rng, "Dropout")

    def forward(self, x):
        return F.dropout(x, self.p, training=self.training, rng=self.rng)

    def extra_repr(self):
        return f"p={self.p}"
