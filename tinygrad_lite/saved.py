"""What an op's forward saved on its context, and short descriptions of it (for reprs and
error messages)."""
from __future__ import annotations

import numpy as np

# the attributes the engine sets on every context (Function's own slots)
ENGINE_NAMES = frozenset({"parents", "kwargs", "needs_input_grad", "xp", "stamp", "released",
                          "_site", "saved_copies", "__weakref__", "__dict__"})


def declared_slots(cls) -> tuple:
    """The names an op's own classes declare in ``__slots__`` (what its forward saves)."""
    return tuple(n for c in reversed(cls.__mro__) if c.__name__ != "Function" and c is not object
                 for n in c.__dict__.get("__slots__", ()) if n not in ENGINE_NAMES)


def saved_names(ctx) -> list:
    """What forward saved on ``ctx`` (set names only): its op's slots and its __dict__."""
    names = list(declared_slots(type(ctx))) + list(getattr(ctx, "__dict__", {}))
    return [n for n in dict.fromkeys(names) if hasattr(ctx, n) and n not in ENGINE_NAMES]


def describe(x) -> str:
    """A short description of a saved value: shape and dtype for arrays, the value otherwise."""
    if isinstance(x, np.ndarray) and x.ndim:
        return f"{x.dtype}{list(x.shape)}"
    if isinstance(x, (float, np.floating, np.ndarray)):
        return f"{float(x):.4g}"
    text = repr(x)
    return text if len(text) <= 40 else text[:37] + "..."
