"""Convolution and max pooling on NCHW arrays, vectorised: no Python loop over examples or
pixels. The only loops run over the kh * kw offsets of a kernel window (9 for a 3x3).

conv2d uses im2col: the receptive fields are gathered into columns (one copy of a strided
view of the padded input) and the convolution is one batched matrix product. Its backward is
two more products plus col2im, which adds each kernel offset's columns back into place.
"""
import operator

import numpy as np

from ..function import Function

__all__ = ["Conv2d", "MaxPool2d", "pair"]


def pair(v, name, op, minimum=1):
    """An int or a pair of ints as a tuple (a, b), each >= minimum; clear errors otherwise."""
    items = v if isinstance(v, (tuple, list)) else (v, v)
    try:
        a, b = (operator.index(i) for i in items)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {v!r}") from None
    if isinstance(v, bool) or a < minimum or b < minimum:
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {v!r}")
    return a, b


def _out_size(size, k, s, op, what):
    if size < k:
        raise ValueError(f"{op}: the {what} ({k}) is larger than the padded input ({size})")
    return (size - k) // s + 1


def _pad(x, ph, pw, fill):
    """x (N, C, H, W) with ph rows and pw columns of ``fill`` on each side (faster than np.pad)."""
    n, c, h, w = x.shape
    xp = np.full((n, c, h + 2 * ph, w + 2 * pw), fill, dtype=x.dtype)
    xp[:, :, ph:ph + h, pw:pw + w] = x
    return xp


def _windows(xp, kh, kw, sh, sw, ho, wo):
    """For each kernel offset (i, j), the strided slice of xp that the offset sees.

    Shapes: xp (N, C, Hp, Wp) -> yields (i, j, view (N, C, ho, wo)).
    """
    for i in range(kh):
        for j in range(kw):
            yield i, j, xp[:, :, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw]


class Conv2d(Function):
    """2-D cross-correlation (what deep learning calls convolution), with stride and padding.

    y[n, f, r, c] = b[f] + sum_{ch, i, j} w[f, ch, i, j] * xp[n, ch, r*sh + i, c*sw + j],
    xp = x zero-padded by (ph, pw); Ho = (H + 2ph - kh) // sh + 1, Wo likewise.
    Shapes: x (N, C, H, W), w (F, C, kh, kw), b (F,) or absent -> y (N, F, Ho, Wo).
    Keyword-only: stride, padding (an int or a pair).
    Backward: dw = sum_n grad_n @ cols_n^T, db = sum of grad over N, Ho, Wo,
    dx = col2im(w^T @ grad) with the padding cut away.
    """

    op = "conv2d"
    vjp = ("col2im(w^T @ grad)", "sum_n grad_n @ cols_n^T", "sum(grad) per filter")

    @staticmethod
    def forward(ctx, x, w, b=None, *, stride=1, padding=0):
        op = Conv2d.op
        if x.ndim != 4:
            raise ValueError(f"{op}: expected input of shape (N, C, H, W), got {x.shape}")
        if w.ndim != 4:
            raise ValueError(f"{op}: expected weight of shape (F, C, kh, kw), got {w.shape}")
        n, c, h, wd = x.shape
        f, cw, kh, kw = w.shape
        if c != cw:
            raise ValueError(f"{op}: input of shape {x.shape} has {c} channels but weight of "
                             f"shape {w.shape} expects {cw}")
        if b is not None and b.shape != (f,):
            raise ValueError(f"{op}: bias of shape {b.shape} does not match the {f} filters "
                             f"of weight {w.shape}; expected ({f},)")
        sh, sw = pair(stride, "stride", op)
        ph, pw = pair(padding, "padding", op, minimum=0)
        ho = _out_size(h + 2 * ph, kh, sh, op, "kernel height")
        wo = _out_size(wd + 2 * pw, kw, sw, op, "kernel width")
        xp = _pad(x, ph, pw, 0) if ph or pw else x
        dtype = np.result_type(x, w)
        cols = np.empty((n, c, kh, kw, ho, wo), dtype=dtype)  # im2col
        for i, j, view in _windows(xp, kh, kw, sh, sw, ho, wo):
            cols[:, :, i, j] = view
        cols = cols.reshape(n, c * kh * kw, ho * wo)  # (N, K, P)
        w2 = w.reshape(f, -1).astype(dtype, copy=False)  # (F, K)
        out = np.matmul(w2, cols)  # (N, F, P)
        if b is not None:
            out += b.astype(dtype, copy=False)[:, None]
        ctx.save(cols=cols, w2=w2, x_shape=x.shape, w_shape=w.shape, stride=(sh, sw),
                 padding=(ph, pw), out_hw=(ho, wo), has_bias=b is not None)
        return out.reshape(n, f, ho, wo)

    @staticmethod
    def backward(ctx, grad_out):
        n, c, h, wd = ctx.x_shape
        f, _, kh, kw = ctx.w_shape
        ho, wo = ctx.out_hw
        sh, sw = ctx.stride
        ph, pw = ctx.padding
        g = grad_out.reshape(n, f, ho * wo)  # (N, F, P)
        needs = ctx.needs_input_grad
        dw = db = dx = None
        if needs[1]:
            # sum over examples of grad_n (F, P) @ cols_n^T (P, K): batched products, then a
            # sum (faster than tensordot, which copies both operands into one big matrix)
            dw = np.matmul(g, ctx.cols.transpose(0, 2, 1)).sum(axis=0).reshape(ctx.w_shape)
        if ctx.has_bias and needs[2]:
            db = np.einsum("nfp->f", g)
        if needs[0]:
            dcols = np.matmul(ctx.w2.T, g).reshape(n, c, kh, kw, ho, wo)  # (N, C, kh, kw, Ho, Wo)
            dxp = np.zeros((n, c, h + 2 * ph, wd + 2 * pw), dtype=dcols.dtype)  # col2im
            for i, j, view in _windows(dxp, kh, kw, sh, sw, ho, wo):
                view += dcols[:, :, i, j]
            dx = dxp[:, :, ph:ph + h, pw:pw + wd]
        return (dx, dw, db) if ctx.has_bias else (dx, dw)


class MaxPool2d(Function):
    """Max over each kernel window of each channel.

    y[n, c, r, q] = max_{i, j} xp[n, c, r*sh + i, q*sw + j], xp = x padded with -inf;
    Ho = (H + 2ph - kh) // sh + 1 (PyTorch's floor mode), Wo likewise.
    Shapes: x (N, C, H, W) -> y (N, C, Ho, Wo). Keyword-only: kernel_size, stride (None: the
    kernel size), padding (an int or a pair, at most half the kernel).
    Backward: each window's gradient goes to its maximum. Ties: the first maximum in the
    window's row-major order takes all of it (as PyTorch does), so the gradient still sums to
    the upstream one. Overlapping windows (stride < kernel) add up where they share an input.
    """

    op = "max_pool2d"
    vjp = ("grad routed to each window's first maximum",)

    @staticmethod
    def forward(ctx, x, *, kernel_size, stride=None, padding=0):
        op = MaxPool2d.op
        if x.ndim != 4:
            raise ValueError(f"{op}: expected input of shape (N, C, H, W), got {x.shape}")
        kh, kw = pair(kernel_size, "kernel_size", op)
        sh, sw = (kh, kw) if stride is None else pair(stride, "stride", op)
        ph, pw = pair(padding, "padding", op, minimum=0)
        if 2 * ph > kh or 2 * pw > kw:
            raise ValueError(f"{op}: padding {padding!r} must be at most half the kernel size "
                             f"{(kh, kw)}")
        n, c, h, wd = x.shape
        ho = _out_size(h + 2 * ph, kh, sh, op, "kernel height")
        wo = _out_size(wd + 2 * pw, kw, sw, op, "kernel width")
        if ph or pw:
            xp = _pad(x, ph, pw, -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min)
        else:
            xp = x
        views = [view for _, _, view in _windows(xp, kh, kw, sh, sw, ho, wo)]
        out = views[0].copy()  # (N, C, Ho, Wo)
        for view in views[1:]:
            np.maximum(out, view, out=out)
        # the first maximum of each window, in row-major window order, takes the gradient
        winners = []
        taken = None
        for view in views[:-1]:
            win = view == out
            if taken is None:
                taken = win.copy()
            else:
                win &= ~taken
                taken |= win
            winners.append(win)
        winners.append(~taken if taken is not None else np.ones(out.shape, dtype=bool))
        ctx.save(winners=winners, x_shape=x.shape, kernel=(kh, kw), stride=(sh, sw),
                 padding=(ph, pw), out_hw=(ho, wo))
        return out

    @staticmethod
    def backward(ctx, grad_out):
        n, c, h, wd = ctx.x_shape
        kh, kw = ctx.kernel
        sh, sw = ctx.stride
        ph, pw = ctx.padding
        ho, wo = ctx.out_hw
        tiled = (sh, sw) == (kh, kw) and not (ph or pw) and h == ho * kh and wd == wo * kw
        if tiled:  # the windows cover every input exactly once: write, no zeros, no sums
            dxp = np.empty((n, c, h, wd), dtype=grad_out.dtype)
        else:
            dxp = np.zeros((n, c, h + 2 * ph, wd + 2 * pw), dtype=grad_out.dtype)
        views = _windows(dxp, kh, kw, sh, sw, ho, wo)
        for win, (_, _, view) in zip(ctx.winners, views, strict=True):
            if tiled:
                np.multiply(grad_out, win, out=view)
            else:
                view += grad_out * win  # overlapping windows add up where they share an input
        return dxp[:, :, ph:ph + h, pw:pw + wd]
