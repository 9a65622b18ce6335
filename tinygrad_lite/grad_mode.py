"""Per-thread switches that every op reads: is the graph being recorded, is anomaly mode on,
is ``tinygrad_lite.jit`` recording a call."""
from __future__ import annotations

import functools
import threading
from typing import Any

__all__ = ["no_grad", "is_grad_enabled", "mode"]


class _Mode(threading.local):
    """This thread's settings; a new thread starts with the defaults below (as in PyTorch)."""

    grad_enabled = True  # False inside no_grad(): ops build no graph
    anomaly = False  # True inside detect_anomaly() (tinygrad_lite/anomaly.py)
    tape: Any = None  # a jit recording (tinygrad_lite/replay.py) while one runs, else None


mode = _Mode()


def is_grad_enabled() -> bool:
    """True when ops record the graph in this thread (False inside ``no_grad``)."""
    return mode.grad_enabled


class no_grad:
    """Context manager (and decorator) under which ops build no graph.

    Results are plain values with ``requires_grad=False``; nothing is saved for backward.
    The switch is per thread, like PyTorch's: another thread keeps recording.
    """

    def __init__(self):
        self._prev: list[bool] = []

    def __enter__(self):
        self._prev.append(mode.grad_enabled)
        mode.grad_enabled = False
        return self

    def __exit__(self, *exc):
        mode.grad_enabled = self._prev.pop()
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with no_grad():
                return fn(*args, **kwargs)

        return wrapper
