"""Matrix product with numpy's matmul rules: 1-D operands, batches, broadcast batch axes."""

from ..function import Function


def _swap(m):
    return m.swapaxes(-1, -2)


class MatMul(Function):
    """a @ b. For 2-D operands: d/da = grad @ b.T, d/db = a.T @ grad.

    A 1-D a is a row vector and a 1-D b a column vector (the added axis is removed from the
    result, as numpy does); batch axes broadcast, and the engine sums their gradients back.
    """

    __slots__ = ("a", "b")

    op = "matmul"
    vjp = ("grad @ b.T", "a.T @ grad")

    @staticmethod
    def forward(ctx, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: operands must have at least one dimension, got shapes "
                             f"{a.shape} and {b.shape}")
        ka = a.shape[-1]
        kb = b.shape[-2] if b.ndim >= 2 else b.shape[0]
        if ka != kb:
            raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not align ({ka} != {kb})")
        ctx.a, ctx.b = a, b
        try:
            return a @ b
        except ValueError:
            raise ValueError(f"matmul: batch axes of shapes {a.shape} and {b.shape} do not "
                             f"broadcast") from None

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.a, ctx.b
        need_a, need_b = ctx.needs_input_grad
        if a.ndim == 2 and b.ndim == 2:  # the common case, without reshaping
            return (g @ b.T if need_a else None), (a.T @ g if need_b else None)
        a2 = a[None, :] if a.ndim == 1 else a  # (..., n, k)
        b2 = b[:, None] if b.ndim == 1 else b  # (..., k, m)
        g2 = g
        if a.ndim == 1:
            g2 = g2[..., None, :] if b.ndim > 1 else g2[..., None]
        if b.ndim == 1:
            g2 = g2[..., None]  # g2: (..., n, m)
        ga = gb = None
        if need_a:
            ga = g2 @ _swap(b2)  # (..., n, k)
            if a.ndim == 1:
                ga = ga[..., 0, :]
        if need_b:
            gb = _swap(a2) @ g2  # (..., k, m)
            if b.ndim == 1:
                gb = gb[..., 0]
        return ga, gb
