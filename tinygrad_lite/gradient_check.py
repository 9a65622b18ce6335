"""Compare analytic gradients with central finite differences, in float64."""
from __future__ import annotations

import numpy as np

from .engine import Value
from .function import no_grad

__all__ = ["gradcheck", "GradcheckError", "numerical_grad"]


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with the finite-difference one. The message is a
    sentence naming the input, the worst index, both values and the relative error."""


def _as_f64_copy(x):
    if isinstance(x, Value):
        if x.dtype.kind != "f":
            return x
        v = Value(x.data.astype(np.float64), requires_grad=x.requires_grad, label=x.label)
        return v
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        return Value(x.astype(np.float64), requires_grad=True)
    if isinstance(x, (float, int)) and not isinstance(x, bool):
        return Value(float(x), requires_grad=True)
    return x


def _scalarize(out, rng_seed=0):
    """The output itself if it has one element, else <out, r> for a fixed random r."""
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: fn must return a Value, got {type(out).__name__}")
    if out.size == 1:
        return out.sum() if out.ndim else out, None
    r = np.random.default_rng(rng_seed).standard_normal(out.shape)
    return (out * r).sum(), r


def numerical_grad(f, x: np.ndarray, eps=1e-6) -> np.ndarray:
    """Central differences of the scalar function f() with respect to array x, changed in place."""
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + eps
        fp = f()
        x[i] = old - eps
        fm = f()
        x[i] = old
        grad[i] = (fp - fm) / (2 * eps)
    return grad


def gradcheck(fn, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check ``fn``'s gradients with respect to every input that requires grad.

    fn maps Values to a Value. Inputs are copied to float64 (ndarrays and numbers become
    Values that require grad). A many-element output is reduced to <out, r> with a fixed
    random r, so every output element takes part. Returns True, or raises GradcheckError
    for the input with the worst element: |analytic - numeric| > atol + rtol * |numeric|.
    """
    vals = [_as_f64_copy(x) for x in inputs]
    out = fn(*vals)
    loss, r = _scalarize(out, seed)
    op = out.op or "the output"
    for v in vals:
        if isinstance(v, Value):
            v.zero_grad()
    loss.backward()

    def f():
        with no_grad():
            o = fn(*vals)
        d = o.data.astype(np.float64)
        return float(d.sum() if r is None else (d * r).sum())

    failures = []
    for pos, v in enumerate(vals):
        if not isinstance(v, Value) or not v.requires_grad or v.dtype.kind != "f":
            continue
        analytic = np.zeros(v.shape) if v.grad is None else np.asarray(v.grad, dtype=np.float64)
        x = v.data
        numeric = numerical_grad(f, x, eps)
        err = np.abs(analytic - numeric)
        bad = err > atol + rtol * np.abs(numeric)
        if bad.any():
            rel = err / np.maximum(np.abs(numeric), 1e-12)
            worst = np.unravel_index(np.argmax(np.where(bad, err, -1.0)), v.shape) if v.ndim else ()
            name = repr(v.label) if v.label is not None else f"at position {pos}"
            failures.append(
                f"gradcheck of {op}: input {name} (shape {v.shape}) at index "
                f"{tuple(int(i) for i in worst)}: "
                f"analytic {analytic[worst]:.6g}, numeric {numeric[worst]:.6g}, relative error "
                f"{rel[worst]:.3g} (atol={atol:g}, rtol={rtol:g}); {int(bad.sum())} of {v.size} "
                f"elements out of tolerance")
    if failures:
        raise GradcheckError("\n".join(failures))
    return True
