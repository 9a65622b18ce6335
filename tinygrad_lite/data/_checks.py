"""Input checks shared by the preprocessors and the datasets: arrays, seeds, counts."""
from __future__ import annotations

import operator

import numpy as np


def _to_array(X):
    """X as an ndarray: an ndarray as is, else np.asarray of X.data (a Value) or of X."""
    if isinstance(X, np.ndarray):
        return X
    return np.asarray(getattr(X, "data", X))


def _make_rng(rng, where, default_seed=None):
    """A numpy Generator from a Generator, an int seed, or None (default_seed, else fresh
    entropy)."""
    if rng is None:
        return np.random.default_rng(default_seed)
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, (bool, np.bool_)):
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"{where}: rng must be a numpy.random.Generator, an int seed or None, "
        f"got {type(rng).__name__}"
    )


def _positive_int(value, what, where):
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{where}: {what} must be an int, got bool")
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{where}: {what} must be an int, got {type(value).__name__}") from None
    if value < 1:
        raise ValueError(f"{where}: {what} must be >= 1, got {value}")
    return value
