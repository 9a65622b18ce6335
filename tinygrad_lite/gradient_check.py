"""Compare analytic gradients with central finite differences, in float64.

Users call it as ``tinygrad_lite.gradcheck``; the code lives in this module, under a name of
its own, so that ``tinygrad_lite.gradcheck`` is one thing: the function.
"""
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


def _nonfinite_mismatch(analytic, numeric):
    """Where one side is non-finite and the other is not the same value (NaN with NaN, or the
    same infinity)."""
    same = (np.isnan(analytic) & np.isnan(numeric)) | (np.isinf(analytic) & (analytic == numeric))
    return (~np.isfinite(analytic) | ~np.isfinite(numeric)) & ~same


def gradcheck(fn, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, nonfinite_ok=False):
    """Check ``fn``'s gradients with respect to every input that requires grad.

    fn maps Values to a Value. Inputs are copied to float64 (ndarrays and numbers become
    Values that require grad). A many-element output is reduced to <out, r> with a fixed
    random r (``seed``), so every output element takes part with its own weight and sign: a
    backward that ignores its upstream gradient, or an error that cancels in a plain sum,
    fails. Values are compared signed: |analytic - numeric| <= atol + rtol * |numeric|.

    A NaN or infinite gradient, analytic or numeric, fails. With ``nonfinite_ok=True`` (where
    non-finite values are expected) an element passes where both sides are NaN or both the
    same infinity; one side finite and the other not, or NaN against inf, still fails.
    Returns True, or raises GradcheckError with one sentence per failing input: its worst
    element (a non-finite one first), both values and the relative error.
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
        with np.errstate(all="ignore"):
            numeric = numerical_grad(f, v.data, eps)
            err = np.abs(analytic - numeric)  # signed values compared: a wrong sign shows
            ok = err <= atol + rtol * np.abs(numeric)  # False where err is NaN
        nonfinite = ~np.isfinite(analytic) | ~np.isfinite(numeric)
        bad = _nonfinite_mismatch(analytic, numeric) if nonfinite_ok else nonfinite
        bad = bad | (~ok & ~nonfinite)
        if bad.any():
            name = repr(v.label) if v.label is not None else f"at position {pos}"
            failures.append(_sentence(op, name, v, analytic, numeric, err, bad, nonfinite,
                                      nonfinite_ok, atol, rtol))
    if failures:
        raise GradcheckError("\n".join(failures))
    return True


def _sentence(op, name, v, analytic, numeric, err, bad, nonfinite, nonfinite_ok, atol, rtol):
    """The failure of one input, as a sentence about its worst element."""
    odd = bad & nonfinite
    score = np.where(odd, np.inf, np.where(bad, err, -1.0))  # a non-finite element first
    worst = np.unravel_index(int(np.argmax(score.ravel())), v.shape) if v.ndim else ()
    a, n = float(analytic[worst]), float(numeric[worst])
    head = (f"gradcheck of {op}: input {name} (shape {v.shape}) at index "
            f"{tuple(int(i) for i in worst)}: analytic {a:.6g}, numeric {n:.6g}")
    count = f"{int(bad.sum())} of {v.size} elements out of tolerance"
    if odd[worst]:
        why = ("the two sides are not the same non-finite value" if nonfinite_ok else
               "a non-finite gradient never passes (pass nonfinite_ok=True where NaN or inf "
               "is expected on both sides)")
        return f"{head}: {why}; {count}"
    rel = abs(a - n) / max(abs(n), 1e-12)
    return f"{head}, relative error {rel:.3g} (atol={atol:g}, rtol={rtol:g}); {count}"
