"""What the engine does when an op fails, and the errors it raises: each names the op, the
shapes and what to do. Entered only when something goes wrong (or at a pole, see below)."""
from __future__ import annotations

import numpy as np

from .floatmath import floatmath
from .saved import saved_names


def forward_failed(op, ctx, inputs, kwargs, error):
    """``op.forward`` raised. On Python floats, at a pole (exp overflow, log(0), 1 / 0): rerun
    on numpy, which answers inf or NaN with a warning, as for arrays. On arrays: raise,
    naming the op and the input shapes."""
    if ctx.xp is floatmath and isinstance(error, (ArithmeticError, ValueError)):
        ctx.xp = np
        inputs = [np.array(x) for x in inputs]
        try:
            return op.forward(ctx, *inputs, **kwargs)
        except (ValueError, TypeError, IndexError) as e:
            error = e
    if isinstance(error, (ValueError, TypeError, IndexError)):
        raise op_error(op, error, inputs) from None
    raise error


def backward_failed(ctx, g, error):
    """``backward`` raised on Python floats at a pole (such as 0 ** -0.5): rerun on numpy
    with the saved floats as 0-d arrays, so the gradient is numpy's inf or NaN."""
    if ctx.xp is not floatmath:
        raise error
    for name in saved_names(ctx):
        value = getattr(ctx, name)
        if type(value) is float:
            setattr(ctx, name, np.array(value))
    ctx.xp = np
    return type(ctx).backward(ctx, np.array(g))


def op_error(op, e, arrays):
    """``e`` with the op's name and the input shapes in front of its message."""
    msg = str(e)
    if msg.startswith(f"{op.op}:"):
        return e
    shapes = ", ".join(str(np.shape(a)) for a in arrays)
    msg = f"{op.op}: {msg} (input shapes {shapes})"
    try:
        return type(e)(msg)
    except Exception:  # noqa: BLE001 - a subclass with another signature (numpy's UFuncTypeError)
        base = next(b for b in (IndexError, TypeError, ValueError) if isinstance(e, b))
        return base(msg)


def no_grad_root():
    return RuntimeError(
        "backward: this Value does not require grad (it was made under no_grad, from "
        "constants only, or by detach())")


def released(order):
    """A backward through nodes that a backward without retain_graph already went through."""
    ctx = next(n.ctx for n in order if n.ctx is not None and n.ctx.released)
    return RuntimeError(
        f"{ctx.op}: backward has already run through this part of the graph, and a second "
        f"pass would add every gradient again. Run the forward pass again (gradients "
        f"accumulate across passes), or pass retain_graph=True to the first backward() to "
        f"backpropagate through the same graph twice")


def wrong_count(ctx, grads):
    n = len(grads) if type(grads) is tuple else 1
    return RuntimeError(f"{ctx.op}: backward returned {n} gradients for {len(ctx.parents)} "
                        f"inputs ({type(ctx).__name__}.backward must return one per input, "
                        f"None where an input needs none)")


def missing_gradient(ctx, p):
    i = next(i for i, q in enumerate(ctx.parents) if q is p)
    name = f" {p.label!r}" if p.label is not None else ""
    return RuntimeError(f"{ctx.op}: backward returned None for input {i}{name} of shape "
                        f"{p.shape}, which requires grad ({type(ctx).__name__}.backward must "
                        f"return a gradient wherever ctx.needs_input_grad is True)")
