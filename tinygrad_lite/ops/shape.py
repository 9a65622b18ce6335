"""Shape ops: reshape, transpose, indexing. They move numbers, so backward moves them back."""
import numpy as np

from ..function import Function


class Reshape(Function):
    """x.reshape(shape) (-1 allowed). Backward: grad reshaped to x's shape."""

    __slots__ = ("in_shape",)

    op = "reshape"
    vjp = ("grad.reshape(x.shape)",)

    @staticmethod
    def forward(ctx, x, *, shape):
        ctx.in_shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape shape {x.shape} ({x.size} elements) "
                             f"into {tuple(shape)}") from None

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape)


class Transpose(Function):
    """Permute axes (None: reverse them). Backward: the inverse permutation."""

    __slots__ = ("axes",)

    op = "transpose"
    vjp = ("grad.transpose(inverse axes)",)

    @staticmethod
    def forward(ctx, x, *, axes=None):
        if axes is not None and (
                sorted(int(a) % max(x.ndim, 1) for a in axes) != list(range(x.ndim))):
            raise ValueError(f"transpose: axes {tuple(axes)} are not a permutation of the "
                             f"{x.ndim} axes of shape {x.shape}")
        ctx.axes = axes
        return x.transpose(axes)

    @staticmethod
    def backward(ctx, g):
        if ctx.axes is None:
            return g.transpose()
        return g.transpose(np.argsort([a % g.ndim for a in ctx.axes]))


def _is_advanced(idx):
    """True when an index holds integer arrays, so positions can repeat (needs add.at)."""
    items = idx if isinstance(idx, tuple) else (idx,)
    return any(isinstance(i, np.ndarray) and i.dtype.kind in "iu" for i in items)


class GetItem(Function):
    """x[idx]: ints, slices, None, Ellipsis, integer arrays, boolean masks.

    Backward: the gradient is scattered back into zeros of x's shape; with integer arrays a
    repeated position receives the sum of its gradients.
    """

    __slots__ = ("shape", "idx")

    op = "getitem"
    vjp = ("zeros(x.shape) with grad added at [idx]",)

    @staticmethod
    def forward(ctx, x, *, idx):
        ctx.shape, ctx.idx = x.shape, idx
        try:
            return x[idx]
        except IndexError as e:
            raise IndexError(f"getitem: {e} (indexing shape {x.shape})") from None

    @staticmethod
    def backward(ctx, g):
        out = np.zeros(ctx.shape, dtype=g.dtype)
        if _is_advanced(ctx.idx):
            np.add.at(out, ctx.idx, g)
        else:
            out[ctx.idx] = g
        return out
