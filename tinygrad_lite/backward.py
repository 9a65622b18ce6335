"""The backward pass: the graph's order, and one loop that runs each op's backward.

    for each node, outputs first:
        g = its complete gradient (the pending sum of what its consumers sent); node.grad += g
        grads = Op.backward(ctx, g)          one per input
        each input's pending gradient += grads[i], summed back to its shape (unbroadcast)

Pending gradients live in a dict local to the call, so passes in several threads never mix;
a Value's ``.grad``, the one shared thing, is updated under a lock (PyTorch's AccumulateGrad).
Every walk is iterative: a chain a million ops deep needs no recursion.
"""
from __future__ import annotations

import threading

import numpy as np

from . import anomaly, errors, hooks, versions
from .floatmath import floatmath
from .grad_mode import mode

__all__ = ["backward", "backward_order", "unbroadcast"]

_grad_lock = threading.Lock()  # one thread at a time adds to a .grad


def backward_order(root) -> list:
    """Every Value that requires grad and that ``root`` depends on, inputs before outputs.

    A depth-first walk with an explicit stack: a node is appended once all its inputs are;
    inputs are visited first to last, as a recursive walk (micrograd's) would.
    """
    order, seen, stack = [], set(), [(root, False)] if root.requires_grad else []
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))  # come back to it after its inputs
            for p in reversed(node.ctx.parents) if node.ctx is not None else ():
                if p.requires_grad and p not in seen:
                    stack.append((p, False))
    return order


def backward(root, grad=None, retain_graph=False):
    """Backpropagate from ``root`` into every Value it depends on (``Value.backward``)."""
    if not root.requires_grad:
        raise errors.no_grad_root()
    pending = {root: _seed(root, grad)}  # Value -> the sum of the gradients sent to it so far
    if mode.tape is not None:  # tinygrad_lite.jit is recording this call
        mode.tape.backward(root, grad, retain_graph)
    order = backward_order(root)
    if any(n.ctx is not None and n.ctx.released for n in order):  # checked before any change
        raise errors.released(order)
    for node in reversed(order):  # outputs first
        g = pending.pop(node)  # complete: every node that consumed this one came before it
        ctx = node.ctx
        if hooks.registered:
            g = hooks.run(node, g)
        with _grad_lock:
            node._grad = g if node._grad is None else node._grad + g
        if ctx is None:  # a leaf
            continue
        if ctx.stamp < versions.clock:  # some data changed since this op ran
            versions.check(ctx, node)
        try:
            grads = type(ctx).backward(ctx, g if ctx.xp is floatmath else np.asarray(g))
        except (ArithmeticError, ValueError) as e:
            grads = errors.backward_failed(ctx, g, e)
        if type(grads) is not tuple:
            grads = (grads,)
        if len(grads) != len(ctx.parents):
            raise errors.wrong_count(ctx, grads)
        if mode.anomaly:
            anomaly.check_backward(ctx, node, grads)
        for p, pg in zip(ctx.parents, grads, strict=True):
            if p.requires_grad:
                pg = _fit(pg, p, ctx, g)
                pending[p] = pending[p] + pg if p in pending else pg
        ctx.released = not retain_graph  # (a released ctx raised above)


def _seed(root, grad):
    """The gradient backward starts from: 1 for a one-element output, else ``grad``."""
    if grad is None and np.size(root._data) == 1:
        return 1.0 if type(root._data) is float else np.ones(root.shape, root.dtype)
    if grad is None:
        raise ValueError(f"backward: grad can be implied only for a one-element output, but "
                         f"this Value has shape {root.shape}; pass grad= an array of shape "
                         f"{root.shape}")
    g = np.array(getattr(grad, "data", grad), dtype=root.dtype)  # a copy: .grad keeps it
    if g.shape != root.shape:
        raise ValueError(f"backward: grad of shape {g.shape} does not match the output's "
                         f"shape {root.shape}")
    return float(g) if type(root._data) is float else g


def _fit(grad, p, ctx, g):
    """Input ``p``'s gradient as ``p`` stores it: summed back to its shape, in its dtype, and
    an array of its own (``g`` is the gradient of ``ctx``'s output, which its ``.grad`` keeps)."""
    if type(grad) is float and type(p._data) is float:  # the scalar path: already right
        return grad
    if grad is None:
        raise errors.missing_gradient(ctx, p)
    data, grad = p._data, np.asarray(grad)
    if type(data) is float:
        return float(unbroadcast(grad, (), ctx.op))
    if grad.shape != data.shape:
        grad = unbroadcast(grad, data.shape, ctx.op)
    if grad.dtype != data.dtype:
        return grad.astype(data.dtype)
    # ``+`` passes g on unchanged, reshape a view of it, sum a read-only broadcast: copied, so
    # that each Value's .grad is an array of its own that its owner may change
    return grad.copy() if not grad.flags.writeable or np.may_share_memory(grad, g) else grad


def unbroadcast(grad: np.ndarray, shape: tuple, op: str = "op") -> np.ndarray:
    """Sum ``grad`` back to ``shape``: the backward of numpy broadcasting.

    Leading axes that broadcasting added are summed away, and so are axes where ``shape`` has
    size 1 and ``grad`` does not. Raises ValueError naming the op and both shapes when ``grad``
    cannot have come from broadcasting an array of ``shape``.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra < 0 or any(n not in (1, gn) for n, gn in zip(shape, grad.shape[extra:], strict=True)):
        raise ValueError(
            f"{op}: gradient of shape {grad.shape} cannot be summed to input shape {shape}")
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and grad.shape[extra + i] != 1)
    return grad.sum(axis=axes, keepdims=True).reshape(shape)
