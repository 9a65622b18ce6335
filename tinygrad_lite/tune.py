"""Hyperparameter search the way CS231n lecture 6 teaches it.

* Random search beats grid search when only some hyperparameters matter: with n trials it
  tries n distinct values of the important one, a grid only n ** (1 / dims).
* Sample the learning rate and the regularization strength in log space (``LogUniform``).
* Go coarse to fine: a few epochs over wide ranges, then narrow the ranges around the best
  trials and search again for longer (``coarse_to_fine``).
* Abort a run as soon as its loss exceeds 3x the first loss, or turns NaN (``report``).
* Beware a best value at the edge of its range: the optimum may lie outside, widen the range
  (an ``EdgeWarning`` after each search).

The objective
-------------
You write ``objective(config, report)``. ``config`` is a dict of sampled values; call
``report(loss, **metrics)`` after each step or epoch; return a dict of final metrics (or
None). ``report`` stops the trial when the loss explodes; the trial is kept, with status
"aborted" and its loss history. ``report.trial_id`` is the trial's id (for per-trial logs). A trial that raises is kept with status "failed" and the
error text; the other trials go on.

Trials run in worker processes by default, so the objective must be picklable: define it at
module level (no lambdas, no nested functions) and guard the script with
``if __name__ == "__main__":``. Pass ``executor="serial"`` (or ``workers=1``) to run
in-process, which is what tests and debuggers want.

Random search on this machine::

    from tinygrad_lite.tune import LogUniform, random_search

    def objective(config, report):                  # module level: picklable
        model = make_model(reg=config["reg"])
        for epoch in range(5):
            loss = train_one_epoch(model, lr=config["lr"])
            report(loss, val_acc=evaluate(model))   # aborts if loss > 3x first loss, or NaN
        return {"val_acc": evaluate(model)}

    if __name__ == "__main__":
        space = {"lr": LogUniform(1e-6, 1e-1), "reg": LogUniform(1e-5, 1.0)}
        result = random_search(objective, space, n_trials=50, metric="val_acc", mode="max")
        print(result.best)                          # Trial(id=..., config=..., ...)
        result.to_csv("sweep.csv")                  # one row per trial

The same search on a remote Dask cluster (workers need tinygrad_lite installed, and the
module that defines the objective, e.g. via ``client.upload_file("my_objective.py")``)::

    from dask.distributed import Client

    client = Client("tcp://scheduler-host:8786")
    result = random_search(objective, space, n_trials=200, metric="val_acc", mode="max",
                           client=client)

Configs are drawn up front from the seed, and trials are sorted by id, so a search gives
the same trials whatever runs it (serial, process pool, Dask) and in whatever order they
finish. Ctrl-C while a search waits cancels the pending trials and returns the finished ones
in a ``SearchResult`` with ``interrupted = True`` (and a warning).
"""
from __future__ import annotations

import csv
import itertools
import json
import math
import os
import pickle
import sys
import time
import warnings
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable, Mapping

import numpy as np

__all__ = [
    "Space", "LogUniform", "Uniform", "IntUniform", "Choice",
    "Trial", "SearchResult", "TrialAborted", "EdgeWarning",
    "random_search", "grid_search", "coarse_to_fine", "run_trial",
]

EDGE_FRACTION = 0.1  # a best value in the outer 10% of its range is "at the edge"


class EdgeWarning(UserWarning):
    """The best trial's value lies at the edge of its range: the optimum may lie outside."""


class TrialAborted(BaseException):
    """Raised by ``report`` to stop a diverging trial; the runner catches it.

    A BaseException (like KeyboardInterrupt) so that an ``except Exception`` inside the
    user's training loop does not swallow it."""


# --------------------------------------------------------------------------- spaces


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

    def narrow(self, values: Iterable, margin: float = 0.25) -> "Space":
        raise NotImplementedError

    def to_dict(self) -> dict:
        raise NotImplementedError

    @staticmethod
    def from_dict(d: Mapping) -> "Space":
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
        """Where value lies in the range: 0 at low, 1 at high (measured in log space for LogUniform)."""
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


# --------------------------------------------------------------------------- trials


@dataclass
class Trial:
    """One run of the objective.

    id       position in the search (configs are drawn up front, in id order)
    config   the sampled hyperparameters (plus any fixed values)
    status   "ok", "aborted" (loss exploded or NaN) or "failed" (the objective raised)
    metrics  the last reported metrics, "loss" (the last reported loss), then the returned dict
    history  every loss passed to report, in order
    error    "" when ok; the reason when aborted; "TypeName: message" when failed
    seconds  wall time of the trial
    """

    id: int
    config: dict
    status: str = "ok"
    metrics: dict = field(default_factory=dict)
    history: list = field(default_factory=list)
    error: str = ""
    seconds: float = 0.0


class _Reporter:
    """The ``report(loss, **metrics)`` callable handed to the objective."""

    def __init__(self, trial_id: int, abort_factor: float | None):
        self.trial_id = trial_id
        self.abort_factor = abort_factor
        self.history: list[float] = []
        self.metrics: dict = {}

    def __call__(self, loss, **metrics):
        loss = float(loss)
        self.history.append(loss)
        self.metrics = {"loss": loss, **{k: _plain(v) for k, v in metrics.items()}}
        step = len(self.history)
        if not math.isfinite(loss):
            raise TrialAborted(f"loss is {loss} at step {step}")
        first = self.history[0]
        if self.abort_factor is not None and first > 0 and loss > self.abort_factor * first:
            raise TrialAborted(f"loss {loss:.4g} at step {step} exceeds "
                               f"{self.abort_factor:g}x the first loss {first:.4g}")


def _plain(v):
    """numpy scalars to Python numbers, so metrics pickle small and serialize to JSON."""
    return v.item() if isinstance(v, np.generic) else v


def run_trial(objective: Callable, trial_id: int, config: dict,
              abort_factor: float | None = 3.0) -> Trial:
    """Run objective(config, report) once and record it as a Trial; never raises on an
    objective error (only on KeyboardInterrupt/SystemExit)."""
    report = _Reporter(trial_id, abort_factor)
    trial = Trial(id=trial_id, config=dict(config))
    start = time.perf_counter()
    try:
        final = objective(dict(config), report)
        if final is not None and not isinstance(final, Mapping):
            raise TypeError(f"objective returned {type(final).__name__}; "
                            f"expected a dict of final metrics or None")
        trial.metrics = {**report.metrics, **{k: _plain(v) for k, v in (final or {}).items()}}
    except TrialAborted as e:
        trial.status, trial.error, trial.metrics = "aborted", str(e), dict(report.metrics)
    except Exception as e:  # the objective's bug: keep it, the other trials go on
        trial.status, trial.metrics = "failed", dict(report.metrics)
        trial.error = f"{type(e).__name__}: {e}"
    trial.history = list(report.history)
    trial.seconds = time.perf_counter() - start
    return trial


# --------------------------------------------------------------------------- results


def _finite_or_none(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


class SearchResult:
    """The trials of one search, sorted by id, and what to do with them.

    trials       list of Trial
    space        the dict of Space searched
    metric, mode the key that ranks trials and whether lower ("min") or higher ("max") wins
    interrupted  True when the search was stopped by Ctrl-C: trials holds the finished ones
    edge_space   the ranges edge_warnings() measures against: space itself, except in the
                 last round of coarse_to_fine, where it is the space the user gave
    """

    def __init__(self, trials, space, metric="val_loss", mode="min", kind="random",
                 interrupted=False, n_planned=None, edge_space=None):
        self.trials: list[Trial] = sorted(trials, key=lambda t: t.id)
        self.space: dict = dict(space)
        self.edge_space: dict = dict(space if edge_space is None else edge_space)
        self.metric, self.mode, self.kind = metric, mode, kind
        self.interrupted = interrupted
        self.n_planned = len(self.trials) if n_planned is None else n_planned

    def __repr__(self):
        counts = {s: sum(t.status == s for t in self.trials) for s in ("ok", "aborted", "failed")}
        text = ", ".join(f"{n} {s}" for s, n in counts.items())
        best = self.best
        where = (f"best {self.metric}={best.metrics[self.metric]:.4g} at trial {best.id}"
                 if best else f"no ok trial reported {self.metric!r}")
        stop = ", interrupted" if self.interrupted else ""
        return f"SearchResult({self.kind}, {len(self.trials)}/{self.n_planned} trials: {text}; {where}{stop})"

    def value(self, trial: Trial):
        """The trial's metric as a float, or None when missing or not a finite number."""
        v = trial.metrics.get(self.metric)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            return None
        return float(v)

    def top(self, k: int) -> list[Trial]:
        """The k best ok trials by metric (ties: lower id first)."""
        scored = [t for t in self.trials if t.status == "ok" and self.value(t) is not None]
        sign = 1.0 if self.mode == "min" else -1.0
        return sorted(scored, key=lambda t: (sign * self.value(t), t.id))[:k]

    @property
    def best(self) -> Trial | None:
        """The best ok trial by metric, or None when no ok trial reported it."""
        top = self.top(1)
        return top[0] if top else None

    def edge_warnings(self, fraction: float = EDGE_FRACTION) -> list[str]:
        """A sentence for each numeric hyperparameter whose best value lies in the outer
        `fraction` of its range in edge_space (in log space for LogUniform)."""
        best = self.best
        if best is None:
            return []
        out = []
        for key, space in self.edge_space.items():
            if not isinstance(space, _Range) or key not in best.config:
                continue
            value = best.config[key]
            where = space.fraction(value)
            if where <= fraction or where >= 1 - fraction:
                side, bound = ("lower", "below") if where <= fraction else ("upper", "above")
                scale = " (in log space)" if space.log else ""
                out.append(f"best {key}={_num(value)} (trial {best.id}) lies in the {side} "
                           f"{fraction:.0%} of {space!r}{scale}; the optimum may lie outside the "
                           f"range: widen it {bound} {_num(space.low if side == 'lower' else space.high)}")
        return out

    def records(self) -> list[dict]:
        """One flat dict per trial, every dict with the same keys in this order:
        id, status, each config key, each metric key, steps (len(history)), seconds, error.
        Missing values are None. A metric named like an earlier column gets a "metric_" prefix."""
        config_keys = list(self.space)
        for t in self.trials:
            config_keys += [k for k in t.config if k not in config_keys]
        reserved = {"id", "status", "steps", "seconds", "error", *config_keys}
        metric_keys: list[str] = []
        for t in self.trials:
            metric_keys += [k for k in t.metrics if k not in metric_keys]
        column = {k: (f"metric_{k}" if k in reserved else k) for k in metric_keys}
        rows = []
        for t in self.trials:
            row = {"id": t.id, "status": t.status}
            row.update({k: t.config.get(k) for k in config_keys})
            row.update({column[k]: t.metrics.get(k) for k in metric_keys})
            row.update(steps=len(t.history), seconds=t.seconds, error=t.error)
            rows.append(row)
        return rows

    def to_csv(self, path) -> str:
        """Write records() as CSV (None as an empty cell); returns path."""
        rows = self.records()
        with open(path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["id", "status"])
            writer.writeheader()
            for row in rows:
                writer.writerow({k: "" if v is None else v for k, v in row.items()})
        return path

    def to_dict(self) -> dict:
        """Everything as plain JSON-able data; NaN and inf become None."""
        def clean(x):
            if isinstance(x, dict):
                return {str(k): clean(v) for k, v in x.items()}
            if isinstance(x, (list, tuple)):
                return [clean(v) for v in x]
            return _finite_or_none(_plain(x))

        best = self.best
        return clean({
            "kind": self.kind, "metric": self.metric, "mode": self.mode,
            "interrupted": self.interrupted, "n_planned": self.n_planned,
            "space": {k: s.to_dict() for k, s in self.space.items()},
            "edge_space": {k: s.to_dict() for k, s in self.edge_space.items()},
            "best_id": best.id if best else None,
            "trials": [asdict(t) for t in self.trials],
        })

    def to_json(self, path) -> str:
        """Write to_dict() as JSON (strict: no NaN); returns path."""
        with open(path, "w") as f:
            json.dump(self.to_dict(), f, indent=1, allow_nan=False, default=str)
        return path

    @classmethod
    def from_json(cls, path) -> "SearchResult":
        """Read back what to_json wrote (non-finite numbers come back as None)."""
        with open(path) as f:
            d = json.load(f)
        space = {k: Space.from_dict(s) for k, s in d["space"].items()}
        edge_space = {k: Space.from_dict(s) for k, s in d.get("edge_space", d["space"]).items()}
        return cls([Trial(**t) for t in d["trials"]], space, d["metric"], d["mode"],
                   d["kind"], d["interrupted"], d["n_planned"], edge_space)


# --------------------------------------------------------------------------- running


class _Progress:
    """done/total and the best metric so far: tqdm when importable, else one stderr line."""

    def __init__(self, total, desc, metric, enabled):
        self.total, self.desc, self.metric, self.done = total, desc, metric, 0
        self.bar = None
        self.enabled = enabled
        if not enabled:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return
        self.bar = tqdm(total=total, desc=desc, file=sys.stderr)

    def update(self, best_value):
        self.done += 1
        if not self.enabled:
            return
        best = "-" if best_value is None else f"{best_value:.4g}"
        if self.bar is not None:
            self.bar.set_postfix_str(f"best {self.metric}={best}", refresh=False)
            self.bar.update(1)
        else:
            sys.stderr.write(f"\r{self.desc}: {self.done}/{self.total} best {self.metric}={best}")
            sys.stderr.flush()

    def close(self):
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.close()
        else:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _check_picklable(objective, dumps=pickle.dumps):
    name = getattr(objective, "__qualname__", None) or repr(objective)
    try:
        dumps(objective)
    except Exception as e:
        raise TypeError(
            f"objective {name!r} cannot be pickled ({type(e).__name__}: {e}); worker processes "
            f"and Dask need a module-level function: no lambdas or nested functions "
            f"(or pass executor='serial' to run in this process)") from e


def _failed(trial_id, config, exc) -> Trial:
    return Trial(id=trial_id, config=dict(config), status="failed",
                 error=f"{type(exc).__name__}: {exc}")


def _execute(objective, configs, *, executor, client, workers, abort_factor, progress, desc,
             metric, mode):
    """Run every config; returns (trials, interrupted)."""
    trials: list[Trial] = []
    probe = SearchResult([], {}, metric, mode)  # only for probe.value()
    bar = _Progress(len(configs), desc, metric, progress)
    best = [None]  # the best metric so far, for the progress bar

    def record(trial):
        trials.append(trial)
        v = probe.value(trial) if trial.status == "ok" else None
        if v is not None and (best[0] is None or (v < best[0] if mode == "min" else v > best[0])):
            best[0] = v
        bar.update(best[0])

    serial = executor == "serial" or (executor is None and client is None and workers == 1)
    interrupted = False
    try:
        if serial:
            for i, config in enumerate(configs):
                try:
                    record(run_trial(objective, i, config, abort_factor))
                except KeyboardInterrupt:
                    interrupted = True
                    break
        elif client is not None:
            interrupted = _execute_dask(objective, configs, client, abort_factor, record)
        else:
            interrupted = _execute_futures(objective, configs, executor, workers,
                                           abort_factor, record)
    finally:
        bar.close()
    return trials, interrupted


def _execute_futures(objective, configs, executor, workers, abort_factor, record):
    from concurrent.futures import as_completed

    own = executor is None
    if own:
        _check_picklable(objective)
        n = workers or os.cpu_count() or 1
        executor = ProcessPoolExecutor(max_workers=max(1, min(n, len(configs))))
    elif not isinstance(executor, Executor):
        raise TypeError(f"executor must be None, 'serial' or a concurrent.futures.Executor, "
                        f"got {executor!r}")
    elif isinstance(executor, ProcessPoolExecutor):
        _check_picklable(objective)
    futures = {}
    interrupted = False
    try:
        for i, config in enumerate(configs):
            futures[executor.submit(run_trial, objective, i, config, abort_factor)] = (i, config)
        seen = set()
        for fut in as_completed(futures):
            seen.add(fut)
            try:
                record(fut.result())
            except KeyboardInterrupt:
                raise
            except BaseException as e:  # the worker died (BrokenProcessPool, ...): keep going
                record(_failed(*futures[fut], e))
    except KeyboardInterrupt:
        interrupted = True
        for fut in futures:
            fut.cancel()
        # keep the trials that finished but were not yet collected
        for fut, (i, config) in futures.items():
            if fut in seen or not fut.done() or fut.cancelled():
                continue
            if fut.exception() is None:
                record(fut.result())
    finally:
        if own:
            executor.shutdown(wait=not interrupted, cancel_futures=True)
    return interrupted


def _execute_dask(objective, configs, client, abort_factor, record):
    from distributed import as_completed

    try:
        import cloudpickle  # what Dask uses: lambdas pass, objects holding locks do not
        _check_picklable(objective, cloudpickle.dumps)
    except ImportError:
        _check_picklable(objective)
    futures = {}
    seen = set()
    try:
        for i, config in enumerate(configs):
            fut = client.submit(run_trial, objective, i, config, abort_factor, pure=False)
            futures[fut] = (i, config)
        for fut in as_completed(list(futures)):
            seen.add(fut)
            try:
                record(fut.result())
            except KeyboardInterrupt:
                raise
            except Exception as e:  # KilledWorker and friends
                record(_failed(*futures[fut], e))
    except KeyboardInterrupt:
        pending = [f for f in futures if f not in seen and f.status != "finished"]
        client.cancel(pending)
        for fut in futures:
            if fut not in seen and fut.status == "finished":
                record(fut.result())
        return True
    return False


def _search(objective, space, configs, *, kind, metric, mode, executor, client, workers,
            abort_factor, progress, warn_edges, stacklevel, edge_space=None):
    if mode not in ("min", "max"):
        raise ValueError(f"{kind}_search: mode must be 'min' or 'max', got {mode!r}")
    if abort_factor is not None and not abort_factor > 1:
        raise ValueError(f"{kind}_search: abort_factor must be > 1 or None, got {abort_factor!r}")
    if executor is not None and client is not None:
        raise ValueError(f"{kind}_search: pass executor= or client=, not both")
    trials, interrupted = _execute(
        objective, configs, executor=executor, client=client, workers=workers,
        abort_factor=abort_factor, progress=progress, desc=f"{kind} search",
        metric=metric, mode=mode)
    result = SearchResult(trials, space, metric, mode, kind, interrupted, len(configs),
                          edge_space)
    if interrupted:
        warnings.warn(f"{kind} search interrupted: kept {len(trials)} finished trials of "
                      f"{len(configs)}", UserWarning, stacklevel=stacklevel)
    ok = [t for t in result.trials if t.status == "ok"]
    if ok and result.best is None:
        seen = sorted({k for t in ok for k in t.metrics})
        warnings.warn(f"{kind} search: no ok trial reported metric {metric!r} "
                      f"(metrics seen: {seen})", UserWarning, stacklevel=stacklevel)
    if warn_edges:
        for text in result.edge_warnings():
            warnings.warn(text, EdgeWarning, stacklevel=stacklevel)
    return result


def _check_space(space, who):
    if not isinstance(space, Mapping) or not space:
        raise TypeError(f"{who}: space must be a non-empty dict of name -> Space, got {space!r}")
    for k, s in space.items():
        if not isinstance(s, Space):
            raise TypeError(f"{who}: space[{k!r}] must be a Space (LogUniform, Uniform, "
                            f"IntUniform, Choice), got {s!r}; put constants in fixed=")


def random_search(objective: Callable, space: Mapping[str, Space], n_trials: int, seed: int = 0,
                  *, metric: str = "val_loss", mode: str = "min", executor=None, client=None,
                  workers: int | None = None, abort_factor: float | None = 3.0,
                  progress: bool = True, fixed: Mapping | None = None,
                  warn_edges: bool = True) -> SearchResult:
    """Sample n_trials configs from space (seeded, drawn up front), run objective on each.

    objective(config, report) -> dict of final metrics or None; report(loss, **metrics)
        aborts the trial when loss is NaN/inf or > abort_factor * the first loss
        (abort_factor=None keeps only the NaN check).
    metric, mode  the key ranking trials ("val_loss" lower wins; e.g. "val_acc", mode="max").
    executor      None: a local process pool of `workers` (default os.cpu_count()) processes;
                  "serial" (or workers=1): run in this process; or any concurrent.futures.Executor.
    client        a dask.distributed.Client: trials go to its cluster.
    fixed         constant entries added to every config (e.g. {"epochs": 5}).
    warn_edges    emit an EdgeWarning for each best value at the edge of its range.
    """
    _check_space(space, "random_search")
    configs = _random_configs(space, n_trials, seed, fixed)
    return _search(objective, space, configs, kind="random", metric=metric, mode=mode,
                   executor=executor, client=client, workers=workers,
                   abort_factor=abort_factor, progress=progress, warn_edges=warn_edges,
                   stacklevel=3)


def _random_configs(space, n_trials, seed, fixed):
    """n_trials configs drawn in id order, keys in space order, then the fixed entries."""
    if int(n_trials) != n_trials or n_trials < 1:
        raise ValueError(f"random_search: n_trials must be a positive integer, got {n_trials!r}")
    rng = np.random.default_rng(seed)
    return [{**{k: s.sample(rng) for k, s in space.items()}, **(fixed or {})}
            for _ in range(int(n_trials))]


def grid_search(objective: Callable, space: Mapping[str, Space],
                points_per_axis: int | Mapping[str, int], *, metric: str = "val_loss",
                mode: str = "min", executor=None, client=None, workers: int | None = None,
                abort_factor: float | None = 3.0, progress: bool = True,
                fixed: Mapping | None = None, warn_edges: bool = True) -> SearchResult:
    """Run objective on every combination of space[k].grid(points_per_axis) (an int, or a
    dict giving each key its count; Choice axes always use all options). Options as in
    random_search. Trial ids follow itertools.product order over the keys of space."""
    _check_space(space, "grid_search")
    if isinstance(points_per_axis, Mapping):
        counts = {k: points_per_axis.get(k, 1) for k in space}
    else:
        counts = {k: points_per_axis for k in space}
    for k, n in counts.items():
        if int(n) != n or n < 1:
            raise ValueError(f"grid_search: points for {k!r} must be a positive integer, got {n!r}")
    axes = [space[k].grid(int(counts[k])) for k in space]
    configs = [{**dict(zip(space, combo)), **(fixed or {})} for combo in itertools.product(*axes)]
    return _search(objective, space, configs, kind="grid", metric=metric, mode=mode,
                   executor=executor, client=client, workers=workers,
                   abort_factor=abort_factor, progress=progress, warn_edges=warn_edges,
                   stacklevel=3)


def coarse_to_fine(objective: Callable, space: Mapping[str, Space], rounds: int = 2,
                   n_trials: int | list[int] = 20, top_k: int = 3, seed: int = 0, *,
                   margin: float = 0.25, fixed: Mapping | list[Mapping] | None = None,
                   **options) -> list[SearchResult]:
    """Random search, then narrow every range around the top_k ok trials, and search again.

    rounds     how many searches; round r uses seed + r.
    n_trials   an int for every round, or one count per round.
    fixed      a dict for every round, or one dict per round: e.g. [{"epochs": 1}, {"epochs": 5}]
               for few epochs while coarse, more while fine.
    margin     passed to Space.narrow: padding around the good values, as a fraction of
               their spread (at least 20% of the old range); never beyond the old range.
    options    as in random_search (metric, mode, executor, client, workers, ...).

    Returns one SearchResult per round (each with its own .space). Only the last round
    emits edge warnings, measured against the space you gave (its edge_space): a best value
    near a bound that narrowing chose says nothing about your range. Stops early if a round
    has no ok trial or is interrupted."""
    _check_space(space, "coarse_to_fine")
    if rounds < 1:
        raise ValueError(f"coarse_to_fine: rounds must be >= 1, got {rounds!r}")
    counts = list(n_trials) if isinstance(n_trials, (list, tuple)) else [n_trials] * rounds
    fixeds = list(fixed) if isinstance(fixed, (list, tuple)) else [fixed] * rounds
    if len(counts) != rounds or len(fixeds) != rounds:
        raise ValueError(f"coarse_to_fine: n_trials and fixed need one entry per round "
                         f"({rounds}), got {len(counts)} and {len(fixeds)}")
    options = {"metric": "val_loss", "mode": "min", "executor": None, "client": None,
               "workers": None, "abort_factor": 3.0, "progress": True, **options}
    options.pop("warn_edges", None)
    results: list[SearchResult] = []
    current = dict(space)
    for r in range(rounds):
        last = r == rounds - 1
        configs = _random_configs(current, counts[r], seed + r, fixeds[r])
        result = _search(objective, current, configs, kind="random", warn_edges=last,
                         stacklevel=3, edge_space=space, **options)
        results.append(result)
        if result.interrupted:
            break
        top = result.top(top_k)
        if not top:
            if not last:
                warnings.warn(f"coarse_to_fine: round {r} has no ok trial with metric "
                              f"{result.metric!r}; nothing to narrow around, stopping",
                              UserWarning, stacklevel=2)
            break
        if not last:
            current = {k: s.narrow([t.config[k] for t in top], margin)
                       for k, s in current.items()}
    return results
