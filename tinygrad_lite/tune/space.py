"""Search spaces: LogUniform, Uniform, IntUniform (sampled, gridded, narrowed) and Choice."""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np

__all__ = ["Space", "LogUniform", "Uniform", "IntUniform", "Choice"]


def _num(x) -> str:
    return f"{x:.6g}" if isinstance(x, float) else repr(x)


class Space:
    """A range of values for one hyperparameter.

    ``sample(rng)`` draws one value, ``grid(n)`` gives evenly spaced values, ``contains(v)``
    says whether v lies in the space, and ``narrow(values)`` returns a smaller space around
    good values (coarse-to-fine)."""

    def sample(self, rng: np.random.Generator):
        raise NotImplementedError

    def grid(self, n: int) -> list:
        raise NotImplementedError

    def contains(self, value) -> bool:
        raise NotImplementedError

    def narrow(self, values: Iterable, margin: float = 0.25) -> Space:
        raise NotImplementedError

    def to_dict(self) -> dict:
        raise NotImplementedError

    @staticmethod
    def from_dict(d: Mapping) -> Space:
        kinds = {"LogUniform": LogUniform, "Uniform": Uniform, "IntUniform": IntUniform}
        if d["type"] == "Choice":
            return Choice(d["options"])
        return kinds[d["type"]](d["low"], d["high"])


class _Range(Space):
    """A numeric interval [low, high]; subclasses choose the scale (linear or log)."""

    log = False

    def __init__(self, low, high):
        name = type(self).__name__
        for label, v in (("low", low), ("high", high)):
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
                raise TypeError(f"{name}: {label} must be a number, got {v!r}")
            if not math.isfinite(v):
                raise ValueError(f"{name}: {label} must be finite, got {v!r}")
        if not low < high:
            raise ValueError(f"{name}: needs low < high, got low={low!r}, high={high!r}")
        self.low, self.high = low, high

    def __repr__(self):
        return f"{type(self).__name__}({_num(self.low)}, {_num(self.high)})"

    def __eq__(self, other):
        return type(self) is type(other) and (self.low, self.high) == (other.low, other.high)

    def __hash__(self):
        return hash((type(self).__name__, self.low, self.high))

    def to_dict(self):
        return {"type": type(self).__name__, "low": self.low, "high": self.high}

    # position on the search scale: log10 for LogUniform, identity otherwise
    def _fwd(self, v):
        return math.log10(v) if self.log else float(v)

    def _inv(self, u):
        return 10.0 ** u if self.log else u

    def contains(self, value) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            return False
        return bool(self.low <= value <= self.high)

    def fraction(self, value) -> float:
        """Where value lies in the range: 0 at low, 1 at high (in log space for LogUniform)."""
        lo, hi = self._fwd(self.low), self._fwd(self.high)
        return (self._fwd(value) - lo) / (hi - lo)

    def _narrow_bounds(self, values, margin):
        """The interval around values, padded by margin * max(their spread, 20% of the range),
        clipped to this range; in log space for LogUniform."""
        vals = [self._fwd(v) for v in values]
        if not vals:
            raise ValueError(f"{self!r}.narrow: needs at least one value")
        lo, hi = self._fwd(self.low), self._fwd(self.high)
        spread = max(vals) - min(vals)
        pad = margin * max(spread, 0.2 * (hi - lo))
        new_lo = max(lo, min(vals) - pad)
        new_hi = min(hi, max(vals) + pad)
        return self._inv(new_lo), self._inv(new_hi)


class LogUniform(_Range):
    """Uniform in log space over [low, high], low > 0: for learning rates and regularization.

    log10(x) ~ U(log10(low), log10(high)), so each decade gets the same number of samples."""

    log = True

    def __init__(self, low: float, high: float):
        super().__init__(low, high)
        if low <= 0:
            raise ValueError(f"LogUniform: needs low > 0 (values are sampled in log space), "
                             f"got low={low!r}, high={high!r}")
        self.low, self.high = float(low), float(high)

    def sample(self, rng):
        v = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        return min(max(v, self.low), self.high)  # exp(log(x)) may be off by one ulp

    def grid(self, n):
        if n == 1:
            return [math.sqrt(self.low * self.high)]
        pts = np.geomspace(self.low, self.high, n)
        pts[0], pts[-1] = self.low, self.high
        return [float(p) for p in pts]

    def narrow(self, values, margin=0.25):
        return LogUniform(*self._narrow_bounds(values, margin))


class Uniform(_Range):
    """Uniform over [low, high]: for hyperparameters with additive effect (dropout, momentum)."""

    def __init__(self, low: float, high: float):
        super().__init__(low, high)
        self.low, self.high = float(low), float(high)

    def sample(self, rng):
        return float(rng.uniform(self.low, self.high))

    def grid(self, n):
        if n == 1:
            return [(self.low + self.high) / 2]
        return [float(p) for p in np.linspace(self.low, self.high, n)]

    def narrow(self, values, margin=0.25):
        return Uniform(*self._narrow_bounds(values, margin))


class IntUniform(_Range):
    """Integers low..high, both inclusive, equally likely: for sizes and counts."""

    def __init__(self, low: int, high: int):
        super().__init__(low, high)
        if int(low) != low or int(high) != high:
            raise ValueError(f"IntUniform: bounds must be integers, got low={low!r}, high={high!r}")
        self.low, self.high = int(low), int(high)

    def sample(self, rng):
        return int(rng.integers(self.low, self.high + 1))

    def grid(self, n):
        """n evenly spaced integers, rounded; fewer when the range holds fewer than n."""
        if n == 1:
            return [int(round((self.low + self.high) / 2))]
        pts = np.rint(np.linspace(self.low, self.high, n)).astype(int)
        return sorted({int(p) for p in pts})

    def contains(self, value):
        return super().contains(value) and int(value) == value

    def narrow(self, values, margin=0.25):
        lo, hi = self._narrow_bounds(values, margin)
        lo, hi = int(math.floor(lo)), int(math.ceil(hi))
        if lo == hi:  # keep a real range: one step toward whichever side has room
            hi = hi + 1 if hi < self.high else hi
            lo = lo - 1 if lo == hi else lo
        return IntUniform(lo, hi)


class Choice(Space):
    """One of a fixed list of options, equally likely: for categorical choices."""

    def __init__(self, options: Iterable):
        self.options = tuple(options)
        if not self.options:
            raise ValueError("Choice: needs at least one option, got options=()")

    def __repr__(self):
        return f"Choice({list(self.options)!r})"

    def __eq__(self, other):
        return type(other) is Choice and self.options == other.options

    def __hash__(self):
        return hash(("Choice", self.options))

    def to_dict(self):
        return {"type": "Choice", "options": list(self.options)}

    def sample(self, rng):
        return self.options[int(rng.integers(len(self.options)))]

    def grid(self, n=None):
        """All options (n is ignored: a categorical axis has no spacing)."""
        return list(self.options)

    def contains(self, value):
        return value in self.options

    def narrow(self, values, margin=None):
        """The options that appear in values, in their original order."""
        keep = [o for o in self.options if o in list(values)]
        if not keep:
            raise ValueError(f"{self!r}.narrow: none of {list(values)!r} is an option")
        return Choice(keep)
