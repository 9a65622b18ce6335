"""One helper for writing results as strict JSON: numpy to Python, NaN and inf to null."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["to_jsonable"]


def to_jsonable(x: Any) -> Any:
    """Plain JSON data that ``json.dump(..., allow_nan=False)`` accepts.

    dicts (keys as str), lists, tuples and arrays become dicts and lists; numpy scalars become
    Python numbers; NaN, inf and -inf become None; str, int, bool and None stay; anything else
    becomes its str(). Walks iteratively, so deep data cannot exhaust the stack.
    """
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any]] = [(x, root, 0)]  # (value, container, key or index)
    while stack:
        value, parent, key = stack.pop()
        if isinstance(value, np.ndarray):
            value = value.tolist()
        elif isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, dict):
            out: Any = {}
            stack.extend((v, out, str(k)) for k, v in value.items())
            # str keys keep their order: insert placeholders now, fill them as we pop
            for k in value:
                out[str(k)] = None
        elif isinstance(value, (list, tuple)):
            out = [None] * len(value)
            stack.extend((v, out, i) for i, v in enumerate(value))
        elif isinstance(value, float):
            out = value if math.isfinite(value) else None
        elif value is None or isinstance(value, (str, int, bool)):
            out = value
        else:
            out = str(value)
        parent[key] = out
    return root[0]
