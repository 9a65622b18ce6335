"""Optimizers: SGD (momentum, Nesterov, weight decay) and Adam, with PyTorch's conventions.

    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for X, y in batches:
        opt.zero_grad()
        loss = F.cross_entropy(model(X), y)
        loss.backward()
        opt.step()

``step()`` updates each parameter's ``.data`` in place and skips parameters whose ``.grad`` is
None (not reached by the last backward pass). Every gradient is checked before any parameter
changes, so a bad gradient never leaves the model half updated. ``lr`` is a plain attribute:
change it between steps to schedule the learning rate. ``state[p]`` holds each parameter's
buffers under PyTorch's names (``momentum_buffer``; ``step``, ``exp_avg``, ``exp_avg_sq``).
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from . import versions
from .value import Value

__all__ = ["Optimizer", "SGD", "Adam"]


def _number(value, name, where, low=0.0, high=None, high_open=False):
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{where}: {name} must be a number, got {type(value).__name__}") from None
    above = high is not None and (x >= high if high_open else x > high)
    if not math.isfinite(x) or x < low or above:
        bound = "" if high is None else f" and {'<' if high_open else '<='} {high}"
        raise ValueError(f"{where}: {name} must be >= {low}{bound}, got {value}")
    return x


class Optimizer:
    """Base class: holds the parameters, ``lr``, ``state``; ``zero_grad()`` and ``step()``.

    Subclasses write ``_update(p, w, g)``: given the parameter, its data as an array and its
    gradient, return the new data (an array of the same shape).
    """

    def __init__(self, params, lr):
        where = type(self).__name__
        if isinstance(params, Value):
            raise TypeError(f"{where}: params must be an iterable of Values (such as "
                            f"model.parameters()), got a single Value; wrap it in a list")
        if callable(params) and not hasattr(params, "__iter__"):
            name = getattr(params, "__name__", "it")
            raise TypeError(f"{where}: params must be an iterable of Values, got the "
                            f"{type(params).__name__} {name} itself; call it: "
                            f"{where}(model.{name}(), ...)")
        try:
            items = list(params)  # a generator is consumed once, here
        except TypeError:
            raise TypeError(f"{where}: params must be an iterable of Values, got "
                            f"{type(params).__name__}") from None
        for i, p in enumerate(items):
            if not isinstance(p, Value):
                raise TypeError(f"{where}: params item {i} is a {type(p).__name__}, not a Value")
            if p.dtype.kind != "f":
                raise TypeError(f"{where}: params item {i} has dtype {p.dtype}; only float "
                                f"Values can be optimized")
        if not items:
            raise ValueError(f"{where}: got an empty list of parameters")
        unique = list({id(p): p for p in items}.values())
        if len(unique) != len(items):
            warnings.warn(f"{where}: {len(items) - len(unique)} parameters were given more than "
                          f"once; each is updated once per step", stacklevel=3)
        self.params = unique
        self.lr = _number(lr, "lr", where)
        self.state = {}  # Value (hashed by identity) -> dict of buffers

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient (None, or zeros with set_to_none=False)."""
        for p in self.params:
            p.zero_grad(set_to_none)

    def step(self) -> None:
        """One update of every parameter that has a gradient.

        All or nothing: gradients and optimizer state are checked before any parameter is
        written, so a bad gradient or state leaves every parameter unchanged. The built-in
        updates then cannot fail and are applied in place, one parameter at a time (no copy of
        every weight); a subclass's own _update, or numpy set to raise (np.errstate), gets
        every step computed before the first write instead.
        """
        where = type(self).__name__
        self.lr = _number(self.lr, "lr", where)
        todo = []
        for i, p in enumerate(self.params):
            g = p.grad
            if g is None:
                continue
            label = f" ({p.label!r})" if p.label is not None else ""
            if g.shape != p.shape:
                raise ValueError(f"{where}.step: parameter {i}{label} of shape {p.shape} has a "
                                 f"gradient of shape {g.shape}; no parameter was updated")
            for key, buf in self.state.get(p, {}).items():
                if isinstance(buf, np.ndarray) and buf.shape != p.shape:
                    raise ValueError(f"{where}.step: parameter {i}{label} of shape {p.shape} has "
                                     f"optimizer state {key!r} of shape {buf.shape} (the "
                                     f"parameter changed shape after a step); no parameter "
                                     f"was updated")
            todo.append((p, g))
        if self._update_can_fail():
            # a custom _update, or numpy set to raise: compute every new value first, then
            # copy them in (a copy cannot fail)
            new = []
            for p, g in todo:
                w = self._weight(p)
                new.append(w - self._update(p, w, self._grad(p, g)))
            for (p, _), value in zip(todo, new, strict=True):
                if p.ndim == 0:
                    p.data = float(value) if p.dtype == np.float64 else np.asarray(value, p.dtype)
                else:
                    p.data[...] = value
                    versions.mark_changed(p)  # a backward through ops that saved p must raise
        else:
            # the built-in arithmetic on checked arrays cannot fail: update in place, one
            # parameter at a time, so no second copy of every weight is ever held
            for p, g in todo:
                self._write(p, self._update(p, self._weight(p), self._grad(p, g)))

    @staticmethod
    def _weight(p):
        # a scalar: item() keeps the engine's fast float storage
        return np.asarray(p.item(), dtype=p.dtype) if p.ndim == 0 else p.data

    @staticmethod
    def _grad(p, g):
        return np.asarray(g, dtype=p.dtype) if p.ndim == 0 else g

    @staticmethod
    def _write(p, step):
        """w -= step, in place for arrays; a float64 scalar goes back on the fast float path."""
        if p.ndim == 0:
            value = np.asarray(p.item(), dtype=p.dtype) - step
            p.data = float(value) if p.dtype == np.float64 else np.asarray(value, dtype=p.dtype)
        else:
            w = p.data
            np.subtract(w, step, out=w, casting="same_kind")
            versions.mark_changed(p)  # a backward through ops that saved p must raise

    def _update_can_fail(self) -> bool:
        """True for a subclass's own _update, or when numpy would raise on a bad number."""
        custom = type(self)._update not in (SGD._update, Adam._update)
        return custom or any(v in ("raise", "call") for v in np.geterr().values())

    def _update(self, p, w, g):
        """The step to subtract from w (same shape), updating this parameter's state."""
        raise NotImplementedError

    def __repr__(self):
        opts = ", ".join(f"{k}={v}" for k, v in self._options().items())
        return f"{type(self).__name__}({len(self.params)} parameters, {opts})"

    def _options(self):
        return {"lr": self.lr}


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum, Nesterov momentum and weight decay.

    g = grad + weight_decay * w;  v = momentum * v + g;
    w -= lr * v                    (momentum; plain SGD when momentum = 0)
    w -= lr * (g + momentum * v)   (nesterov=True)
    PyTorch's convention: the velocity accumulates gradients and lr scales the step (the
    lecture's v = rho * v - lr * dx is the same update with v scaled by -lr).
    Shapes: each parameter's update has its shape; state[p]["momentum_buffer"] likewise.
    """

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(params, lr)
        self.momentum = _number(momentum, "momentum", "SGD")
        self.weight_decay = _number(weight_decay, "weight_decay", "SGD")
        self.nesterov = bool(nesterov)
        if self.nesterov and self.momentum == 0.0:
            raise ValueError("SGD: Nesterov momentum needs momentum > 0")

    def _update(self, p, w, g):
        if self.weight_decay:
            g = g + self.weight_decay * w
        if self.momentum:
            st = self.state.setdefault(p, {})
            v = st.get("momentum_buffer")
            if v is None:
                v = st["momentum_buffer"] = np.array(g, dtype=w.dtype, copy=True)
            else:
                v *= self.momentum
                v += g
            g = g + self.momentum * v if self.nesterov else v
        return self.lr * g

    def _options(self):
        return {"lr": self.lr, "momentum": self.momentum, "weight_decay": self.weight_decay,
                "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam with bias correction (Kingma and Ba), as torch.optim.Adam.

    g = grad + weight_decay * w;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
    w -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps),  t = this parameter's step.
    Shapes: state[p]["exp_avg"] and ["exp_avg_sq"] have the parameter's shape.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        try:
            b1, b2 = betas
        except (TypeError, ValueError):
            raise TypeError(f"Adam: betas must be a pair of numbers, got {betas!r}") from None
        self.betas = (_number(b1, "betas[0]", "Adam", high=1.0, high_open=True),
                      _number(b2, "betas[1]", "Adam", high=1.0, high_open=True))
        self.eps = _number(eps, "eps", "Adam")
        self.weight_decay = _number(weight_decay, "weight_decay", "Adam")

    def _update(self, p, w, g):
        b1, b2 = self.betas
        if self.weight_decay:
            g = g + self.weight_decay * w
        st = self.state.setdefault(p, {})
        if not st:
            st["step"] = 0
            st["exp_avg"] = np.zeros_like(w)
            st["exp_avg_sq"] = np.zeros_like(w)
        st["step"] += 1
        t = st["step"]
        m, v = st["exp_avg"], st["exp_avg_sq"]
        m *= b1
        m += (1.0 - b1) * g
        v *= b2
        v += (1.0 - b2) * np.square(g)
        step_size = self.lr / (1.0 - b1 ** t)
        denom = np.sqrt(v) / math.sqrt(1.0 - b2 ** t) + self.eps
        return step_size * m / denom

    def _options(self):
        return {"lr": self.lr, "betas": self.betas, "eps": self.eps,
                "weight_decay": self.weight_decay}
