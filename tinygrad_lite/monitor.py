"""Watch a network train: per-layer activation statistics, gradient norms, update ratios.

The lecture's monitoring advice as numbers (never plots: ``viz.plots`` draws them):

* activations per layer: mean, std, a histogram, the fraction *saturated* (tanh or sigmoid
  outputs in their flat tails, where the local gradient is under 2% of its peak) and the
  fraction of *dead* units (ReLU units that output 0 for every example of the batch, so no
  gradient ever reaches their weights);
* the gradient norm of every parameter;
* the update-to-weight ratio ||W_after - W_before|| / ||W_before|| of every parameter at every
  step. The lecture's rule of thumb: near 1e-3. Far below, the learning rate is too low; far
  above, too high. :class:`Monitor` warns (``UpdateRatioWarning``) when a weight's ratio is
  orders of magnitude away;
* a :class:`History` of loss, training and validation accuracy and the ratios, for plotting.

Nothing here edits the model. Three ways to get activation statistics::

    stats = graph_activations(loss)               # plain Values: walk the graph after forward
    with watch_activations(model) as acts:        # nn.Module: forward hooks, removed on exit
        model(X)
    acts.last()                                   # {"1": ActivationStats(...), ...}
    activation_stats(h, kind="tanh")              # one array or Value

And the update ratios, around the optimizer's step::

    mon = Monitor(model)                          # or a dict name -> Value, or a list
    for X, y in batches:
        loss = F.softmax_cross_entropy(model(X), y)
        opt.zero_grad(); loss.backward()
        with mon.step(loss=loss):                 # snapshots before, measures after
            opt.step()
    mon.history.ratios["0.weight"]                # one ratio per step

Depends on numpy and the engine only.
"""
from __future__ import annotations

import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from ._json import to_jsonable
from .engine import Value, backward_order

__all__ = [
    "ActivationStats", "activation_stats", "graph_activations", "watch_activations",
    "ActivationWatcher", "grad_norms", "param_norms", "update_ratios", "Monitor", "History",
    "UpdateRatioWarning", "named_params", "ACTIVATION_OPS", "TARGET_RATIO",
]

TARGET_RATIO = 1e-3  # the lecture's update-to-weight ratio
SATURATION = 0.01  # saturated: local gradient |f'| below this (viz.draw_graph uses the same)

# ops whose outputs are activations (graph_activations collects these)
ACTIVATION_OPS = ("tanh", "sigmoid", "relu", "leaky_relu", "elu", "prelu", "maxout")
# module class names (lowercase) of activation layers, mapped to their op name
_MODULE_KINDS = {"tanh": "tanh", "sigmoid": "sigmoid", "relu": "relu", "leakyrelu": "leaky_relu",
                 "elu": "elu", "prelu": "prelu", "maxout": "maxout"}


class UpdateRatioWarning(UserWarning):
    """A weight's update-to-weight ratio is orders of magnitude away from about 1e-3."""


# ============================================================ activation statistics


@dataclass
class ActivationStats:
    """Summary of one layer's activations on one batch.

    name       the layer's name (module path, label, or "tanh_3" by position in the graph)
    kind       the activation ("tanh", "relu", ...; "" when unknown)
    shape      the activations' shape, batch axis first
    mean, std, min, max
    hist       histogram counts (bins entries); bin_edges has bins + 1 entries
    saturated  fraction of entries in a flat tail, where the local gradient |f'| < 0.01:
               1 - a**2 for tanh (|a| > 0.995), a (1 - a) for sigmoid; 0.0 for other kinds
    dead       fraction of units (everything but the batch axis) that are exactly 0 for every
               example of the batch: no gradient reaches them (ReLU; 0.0 for kinds that
               never output a constant 0, such as tanh, leaky ReLU and ELU)
    """

    name: str
    kind: str
    shape: tuple
    mean: float
    std: float
    min: float
    max: float
    hist: np.ndarray
    bin_edges: np.ndarray
    saturated: float
    dead: float

    def to_dict(self) -> dict:
        """Plain JSON-able data (lists instead of arrays)."""
        return {"name": self.name, "kind": self.kind, "shape": list(self.shape),
                "mean": self.mean, "std": self.std, "min": self.min, "max": self.max,
                "hist": self.hist.tolist(), "bin_edges": self.bin_edges.tolist(),
                "saturated": self.saturated, "dead": self.dead}

    def __repr__(self):
        return (f"ActivationStats({self.name!r}, {self.kind or '?'}, shape={self.shape}, "
                f"mean={self.mean:.3g}, std={self.std:.3g}, saturated={self.saturated:.1%}, "
                f"dead={self.dead:.1%})")


def _kind_of(x) -> str:
    return x.op if isinstance(x, Value) and x.op in ACTIVATION_OPS else ""


def activation_stats(a, kind: str | None = None, name: str = "", bins: int = 50,
                     range: tuple | None = None, saturation: float = SATURATION) -> ActivationStats:
    """Mean, std, histogram, saturated and dead fractions of one layer's activations.

    saturated = mean(1 - a**2 < s) for tanh, mean(a (1 - a) < s) for sigmoid (s = saturation,
                the local gradient below which a unit passes almost nothing back)
    dead      = fraction of units u with a[n, u] == 0 for every example n (batch axis 0)
    Shapes: a (N, ...) Value or ndarray; a 0-d or 1-d input counts each entry as a unit.

    kind: "tanh", "sigmoid", "relu", ...; None reads it from the Value's op. range: the
    histogram's range; None uses [-1, 1] for tanh, [0, 1] for sigmoid, else [min, max].
    """
    if kind is None:
        kind = _kind_of(a)
    arr = np.asarray(a.data if isinstance(a, Value) else a, dtype=np.float64)
    if arr.size == 0:
        raise ValueError(f"activation_stats: empty activations of shape {arr.shape}")
    finite = arr[np.isfinite(arr)]
    if range is None:
        if kind == "tanh":
            range = (-1.0, 1.0)
        elif kind == "sigmoid":
            range = (0.0, 1.0)
        elif finite.size:
            lo, hi = float(finite.min()), float(finite.max())
            range = (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)
        else:
            range = (-1.0, 1.0)
    hist, edges = np.histogram(finite, bins=bins, range=range)
    if kind == "tanh":
        saturated = float(np.mean(1.0 - arr * arr < saturation))
    elif kind == "sigmoid":
        saturated = float(np.mean(arr * (1.0 - arr) < saturation))
    else:
        saturated = 0.0
    units = arr.reshape(arr.shape[0], -1) if arr.ndim >= 2 else arr.reshape(1, -1)  # (N, units)
    if kind in ("tanh", "sigmoid", "leaky_relu", "elu"):
        dead = 0.0  # never a constant 0 (and tanh's stuck units show up as saturated)
    else:
        dead = float(np.mean(np.all(units == 0.0, axis=0)))
    return ActivationStats(
        name=name, kind=kind, shape=tuple(arr.shape), mean=float(arr.mean()),
        std=float(arr.std()), min=float(arr.min()), max=float(arr.max()), hist=hist,
        bin_edges=edges, saturated=saturated, dead=dead)


def graph_activations(root: Value, ops=ACTIVATION_OPS, **kwargs) -> list[ActivationStats]:
    """Statistics of every activation in the graph that produced ``root``, inputs first.

    Walks the graph (no hooks, no model changes); finds Values whose op is in ``ops``; names
    each by its label, else "op_i" (i counting that op from the input, from 1).
    Needs a recorded graph: call it on a result computed outside ``no_grad``.
    kwargs go to activation_stats (bins, saturation, ...).
    """
    counts: dict = {}
    out = []
    for v in backward_order(root):
        op = v.op
        if op not in ops:
            continue
        counts[op] = counts.get(op, 0) + 1
        name = v.label or f"{op}_{counts[op]}"
        out.append(activation_stats(v, kind=op, name=name, **kwargs))
    return out


class ActivationWatcher:
    """Forward hooks on a module's activation layers, recording ActivationStats per call.

    Use through :func:`watch_activations`. ``stats[name]`` is the list of ActivationStats of
    that layer, one per forward pass; ``last()`` maps each layer to its latest.
    """

    def __init__(self, model, modules="activations", **kwargs) -> None:
        if not hasattr(model, "named_modules"):
            raise TypeError(
                f"watch_activations: {type(model).__name__} has no named_modules(); pass an "
                f"nn.Module, or call graph_activations(output) on a plain-Value model")
        self.kwargs = kwargs
        self.stats: dict[str, list[ActivationStats]] = {}
        self._handles = []
        chosen = []
        for name, mod in model.named_modules():
            kind = _MODULE_KINDS.get(type(mod).__name__.lower(), "")
            if modules == "activations":
                keep = bool(kind)
            elif modules == "all":
                keep = name != "" and not list(_children(mod))
            else:
                keep = name in modules
            if keep:
                chosen.append((name or type(mod).__name__, mod, kind))
        if not chosen:
            warnings.warn(f"watch_activations: no module of {type(model).__name__} matched "
                          f"modules={modules!r}; nothing will be recorded", stacklevel=3)
        for name, mod, kind in chosen:
            self.stats[name] = []
            self._handles.append(mod.register_forward_hook(self._hook(name, kind)))

    def _hook(self, name, kind):
        def hook(module, inputs, output):
            k = kind or _kind_of(output)
            self.stats[name].append(activation_stats(output, kind=k, name=name, **self.kwargs))
        return hook

    def last(self) -> dict[str, ActivationStats]:
        """Each layer's statistics from the latest forward pass that reached it."""
        return {name: s[-1] for name, s in self.stats.items() if s}

    def remove(self):
        """Remove every hook (the model is as it was)."""
        for h in self._handles:
            h.remove()
        self._handles = []


def _children(mod):
    nm = getattr(mod, "named_modules", None)
    if nm is None:
        return []
    return [m for n, m in nm() if n != ""]


@contextmanager
def watch_activations(model, modules="activations", **kwargs):
    """Record activation statistics of ``model``'s layers for every forward pass inside.

    modules: "activations" (Tanh, ReLU, Sigmoid, ... layers), "all" (every leaf module) or
    a list of module names from named_modules(). kwargs go to activation_stats.
    Yields an ActivationWatcher; its hooks are removed on exit, even after an error.
    """
    watcher = ActivationWatcher(model, modules, **kwargs)
    try:
        yield watcher
    finally:
        watcher.remove()


# ============================================================ parameters


def named_params(params) -> dict[str, Value]:
    """Parameters as an ordered dict name -> Value.

    Accepts an nn.Module (its named_parameters()), a dict, or a list of Values (named by
    label, else "p0", "p1", ...).
    """
    if hasattr(params, "named_parameters"):
        return dict(params.named_parameters())
    if isinstance(params, dict):
        return dict(params)
    if isinstance(params, Value):
        params = [params]
    out = {}
    for i, p in enumerate(params):
        if not isinstance(p, Value):
            raise TypeError(f"named_params: entry {i} is a {type(p).__name__}, not a Value")
        name = p.label if p.label and p.label not in out else f"p{i}"
        out[name] = p
    return out


def grad_norms(params) -> dict[str, float | None]:
    """The L2 norm of each parameter's gradient (None where no backward pass reached it).

    norm = sqrt(sum(grad ** 2))
    Shapes: any -> a float per parameter.
    """
    return {name: (None if p.grad is None else float(np.linalg.norm(p.grad)))
            for name, p in named_params(params).items()}


def param_norms(params) -> dict[str, float]:
    """The L2 norm of each parameter's data."""
    return {name: float(np.linalg.norm(p.data)) for name, p in named_params(params).items()}


def update_ratios(before: dict, params) -> dict[str, float | None]:
    """||W_after - W_before|| / ||W_before|| for each parameter (the lecture: about 1e-3).

    before: name -> array, taken before the update (e.g. {n: p.data.copy() for ...}).
    A parameter whose norm was 0 before (a bias at its zero init) gets None.
    """
    out: dict[str, float | None] = {}
    for name, p in named_params(params).items():
        if name not in before:
            continue
        old = np.asarray(before[name], dtype=np.float64)
        w = float(np.linalg.norm(old))
        d = float(np.linalg.norm(np.asarray(p.data, dtype=np.float64) - old))
        out[name] = d / w if w > 0 else None
    return out


# ============================================================ history and monitor


@dataclass
class History:
    """What a training run recorded, step by step and epoch by epoch.

    steps       step indices (one per Monitor.step); loss holds the step's loss or None
    ratios      name -> update-to-weight ratio per step
    grad_norms  name -> gradient norm per step
    epochs      epoch indices (one per log_epoch); epoch_loss, train_acc, val_acc per epoch
    dead        layer name -> dead fraction per epoch (when logged); saturated likewise
    extra       any other series passed to log_epoch
    """

    steps: list = field(default_factory=list)
    loss: list = field(default_factory=list)
    ratios: dict = field(default_factory=dict)
    grad_norms: dict = field(default_factory=dict)
    epochs: list = field(default_factory=list)
    epoch_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    dead: dict = field(default_factory=dict)
    saturated: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    def median_ratio(self, name: str, last: int | None = None) -> float | None:
        """The median update ratio of one parameter (over the last `last` steps, or all)."""
        vals = [r for r in self.ratios.get(name, [])[-last if last else None:] if r is not None]
        return float(np.median(vals)) if vals else None

    def to_dict(self) -> dict:
        """Plain JSON-able data; NaN and inf become None."""
        return to_jsonable({k: getattr(self, k) for k in self.__dataclass_fields__})


def _item(x):
    if x is None:
        return None
    if isinstance(x, Value):
        return float(x.item())
    return float(x)


class Monitor:
    """Record gradient norms and update-to-weight ratios per parameter per step.

    ratio = ||W_after - W_before|| / ||W_before||, per parameter, per step
    Monitor(params, target=1e-3, tolerance=100.0, warn=True)

    params: an nn.Module, a dict name -> Value, or a list of Values. A UpdateRatioWarning is
    emitted (once per weight and direction) when a weight's ratio falls outside
    [target / tolerance, target * tolerance]: by default outside [1e-5, 1e-1], two orders of
    magnitude from the lecture's 1e-3, or when a weight does not move at all. Only weights
    (ndim >= 2) are checked: biases start at zero, where the ratio means little. ``history``
    collects everything.
    """

    def __init__(self, params, target: float = TARGET_RATIO, tolerance: float = 100.0,
                 warn: bool = True):
        self.params = named_params(params)
        if not self.params:
            raise ValueError("Monitor: no parameters to watch")
        if not (target > 0 and tolerance > 1):
            raise ValueError(f"Monitor: needs target > 0 and tolerance > 1, got target={target}, "
                             f"tolerance={tolerance}")
        self.target, self.tolerance, self.warn = target, tolerance, warn
        self.history = History()
        self._before = None
        self._warned: set = set()

    def before_step(self):
        """Snapshot the parameters (call just before optimizer.step())."""
        self._before = {n: np.array(p.data, dtype=np.float64) for n, p in self.params.items()}

    def after_step(self, loss=None, *, _stacklevel=3) -> dict[str, float]:
        """Measure each parameter's update ratio and gradient norm; returns the ratios."""
        if self._before is None:
            raise RuntimeError("Monitor.after_step: call before_step() before the update")
        ratios = update_ratios(self._before, self.params)
        norms = grad_norms(self.params)
        self._before = None
        h = self.history
        h.steps.append(len(h.steps))
        h.loss.append(_item(loss))
        for name in self.params:
            h.ratios.setdefault(name, []).append(ratios.get(name))
            h.grad_norms.setdefault(name, []).append(norms.get(name))
        if self.warn:
            self._check(ratios, _stacklevel)
        return ratios

    @contextmanager
    def step(self, loss=None):
        """``with mon.step(loss=loss): opt.step()`` snapshots before and measures after."""
        self.before_step()
        yield self
        self.after_step(loss, _stacklevel=5)  # warnings point at the user's with-statement

    def _check(self, ratios, stacklevel):
        lo, hi = self.target / self.tolerance, self.target * self.tolerance
        for name, r in ratios.items():
            if r is None or self.params[name].ndim < 2:
                continue
            step = len(self.history.steps) - 1
            if r == 0 and (name, "zero") not in self._warned:
                self._warned.add((name, "zero"))
                warnings.warn(
                    f"update ratio of {name!r} is 0 at step {step}: the weight did not move at "
                    f"all (a zero gradient: dead units, or no gradient reaching it)",
                    UpdateRatioWarning, stacklevel=stacklevel)
            elif 0 < r < lo and (name, "low") not in self._warned:
                self._warned.add((name, "low"))
                warnings.warn(
                    f"update ratio of {name!r} is {r:.2g} at step {step}, below {lo:.0e} "
                    f"(target about {self.target:.0e}): the learning rate is probably too low",
                    UpdateRatioWarning, stacklevel=stacklevel)
            elif r > hi and (name, "high") not in self._warned:
                self._warned.add((name, "high"))
                warnings.warn(
                    f"update ratio of {name!r} is {r:.2g} at step {step}, above {hi:.0e} "
                    f"(target about {self.target:.0e}): the learning rate is probably too high",
                    UpdateRatioWarning, stacklevel=stacklevel)

    def log_epoch(self, loss=None, train_acc=None, val_acc=None, activations=None, **extra):
        """Record one epoch: loss, accuracies, and optionally activation statistics.

        activations: a list or dict of ActivationStats (e.g. watcher.last()); their dead and
        saturated fractions go to history.dead / history.saturated under the layer's name.
        """
        h = self.history
        h.epochs.append(len(h.epochs))
        h.epoch_loss.append(_item(loss))
        h.train_acc.append(None if train_acc is None else float(train_acc))
        h.val_acc.append(None if val_acc is None else float(val_acc))
        if activations is not None:
            items = activations.values() if isinstance(activations, dict) else activations
            for s in items:
                h.dead.setdefault(s.name, []).append(s.dead)
                h.saturated.setdefault(s.name, []).append(s.saturated)
        for k, v in extra.items():
            h.extra.setdefault(k, []).append(_item(v) if isinstance(v, (Value, int, float,
                                                                         np.number)) else v)

    def summary(self, last: int = 20) -> dict[str, float | None]:
        """Median update ratio of each parameter over the last `last` steps."""
        return {name: self.history.median_ratio(name, last) for name in self.params}
