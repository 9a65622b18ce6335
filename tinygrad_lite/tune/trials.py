"""Trials and their results: run_trial, Trial, the report callable, SearchResult."""
from __future__ import annotations

import csv
import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field

import numpy as np

from .._json import to_jsonable
from ..files import atomic_write
from .space import Space, _num, _Range

__all__ = ["EDGE_FRACTION", "EdgeWarning", "TrialAborted", "Trial", "run_trial", "SearchResult"]

EDGE_FRACTION = 0.1  # a best value in the outer 10% of its range is "at the edge"


class EdgeWarning(UserWarning):
    """The best trial's value lies at the edge of its range: the optimum may lie outside."""


class TrialAborted(BaseException):
    """Raised by ``report`` to stop a diverging trial; the runner catches it.

    A BaseException (like KeyboardInterrupt) so that an ``except Exception`` inside the
    user's training loop does not swallow it."""


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


class SearchResult:
    """The trials of one search, sorted by id, and what to do with them.

    trials       list of Trial
    space        the dict of Space searched
    metric, mode the key that ranks trials and whether lower ("min") or higher ("max") wins
    interrupted  True when the search was stopped by Ctrl-C: trials holds the finished ones
    edge_space   the ranges edge_warnings() measures against: space itself, except in the
                 last round of coarse_to_fine, where it is the space the user gave
    """

    def __init__(self, trials, space, metric: str = "val_loss", mode: str = "min",
                 kind: str = "random", interrupted: bool = False, n_planned: int | None = None,
                 edge_space=None) -> None:
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
        return (f"SearchResult({self.kind}, {len(self.trials)}/{self.n_planned} trials: {text}; "
                f"{where}{stop})")

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
                           f"range: widen it {bound} "
                           f"{_num(space.low if side == 'lower' else space.high)}")
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
        """Write records() as CSV (None as an empty cell); returns path.

        Written atomically (a temporary file beside it, then moved into place). A text cell
        or column name that a spreadsheet would run as a formula (starting with =, +, -, @,
        a tab or a carriage return) is prefixed with an apostrophe; numbers are left alone.
        """
        rows = self.records()
        fields = list(rows[0]) if rows else ["id", "status"]
        with atomic_write(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow([_cell(k) for k in fields])
            for row in rows:
                writer.writerow([_cell(row[k]) for k in fields])
        return path

    def to_dict(self) -> dict:
        """Everything as plain JSON-able data; NaN and inf become None."""
        best = self.best
        return to_jsonable({
            "kind": self.kind, "metric": self.metric, "mode": self.mode,
            "interrupted": self.interrupted, "n_planned": self.n_planned,
            "space": {k: s.to_dict() for k, s in self.space.items()},
            "edge_space": {k: s.to_dict() for k, s in self.edge_space.items()},
            "best_id": best.id if best else None,
            "trials": [asdict(t) for t in self.trials],
        })

    def to_json(self, path) -> str:
        """Write to_dict() as JSON (strict: no NaN), atomically; returns path."""
        text = json.dumps(self.to_dict(), indent=1, allow_nan=False)
        with atomic_write(path, "w") as f:
            f.write(text)
        return path

    @classmethod
    def from_json(cls, path) -> SearchResult:
        """Read back what to_json wrote (non-finite numbers come back as None).

        A file that is not such JSON (bad JSON, NaN or Infinity, a missing key, a value of
        the wrong type, an unknown space or trial field) raises ValueError naming the file
        and what is wrong; a missing file FileNotFoundError."""
        with open(path, encoding="utf-8") as f:
            text = f.read()
        try:
            d = json.loads(text, parse_constant=_no_constant)
        except ValueError as e:  # JSONDecodeError is a ValueError
            raise ValueError(f"SearchResult.from_json: {path} is not valid JSON ({e})") from None
        try:
            return cls._from_dict(d)
        except (KeyError, TypeError, ValueError) as e:
            why = f"lacks the key {e}" if isinstance(e, KeyError) else str(e)
            raise ValueError(f"SearchResult.from_json: {path} is not a search result written "
                             f"by to_json: {why}") from None

    @classmethod
    def _from_dict(cls, d) -> SearchResult:
        _expect(d, dict, "the top level")
        for key, kind in (("space", dict), ("trials", list), ("metric", str), ("mode", str),
                          ("kind", str), ("interrupted", bool), ("n_planned", int)):
            _expect(d[key], kind, repr(key))
        if d["mode"] not in ("min", "max"):
            raise ValueError(f"'mode' is {d['mode']!r}, not 'min' or 'max'")
        if d["n_planned"] < 0:
            raise ValueError(f"'n_planned' is {d['n_planned']}, below 0")
        edge = d.get("edge_space", d["space"])
        _expect(edge, dict, "'edge_space'")
        space = {k: _space(k, s) for k, s in d["space"].items()}
        edge_space = {k: _space(k, s) for k, s in edge.items()}
        trials = [_trial(i, t) for i, t in enumerate(d["trials"])]
        return cls(trials, space, d["metric"], d["mode"], d["kind"], d["interrupted"],
                   d["n_planned"], edge_space)


_TRIAL_FIELDS = {"id": int, "config": dict, "status": str, "metrics": dict, "history": list,
                 "error": str, "seconds": (int, float)}


def _expect(value, kind, what):
    """TypeError unless value is of kind (bool is not an int here, nor NaN a number)."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    ok = isinstance(value, kinds) and (bool in kinds or not isinstance(value, bool))
    if not ok:
        names = " or ".join(k.__name__ for k in kinds)
        raise TypeError(f"{what} is {value!r:.60}, not {'a' if names[0] not in 'aeiou' else 'an'} "
                        f"{names}")


def _space(key, s):
    _expect(s, dict, f"space entry {key!r}")
    try:
        return Space.from_dict(s)
    except KeyError as e:
        raise ValueError(f"space entry {key!r} lacks a key or names an unknown type ({e})") \
            from None
    except (TypeError, ValueError) as e:
        raise ValueError(f"space entry {key!r} is not a Space: {e}") from None


def _trial(i, t):
    _expect(t, dict, f"trial {i}")
    unknown = sorted(set(t) - set(_TRIAL_FIELDS))
    if unknown:
        raise ValueError(f"trial {i} has the unknown field(s) {', '.join(map(repr, unknown))}")
    if "id" not in t or "config" not in t:
        raise ValueError(f"trial {i} lacks {'id' if 'id' not in t else 'config'}")
    for key, kind in _TRIAL_FIELDS.items():
        if key in t:
            _expect(t[key], kind, f"trial {i}'s {key!r}")
    if t.get("status", "ok") not in ("ok", "aborted", "failed"):
        raise ValueError(f"trial {i}'s status is {t['status']!r}, not ok, aborted or failed")
    for v in t.get("history", []):
        if v is not None:
            _expect(v, (int, float), f"trial {i}'s history entry")
    return Trial(**t)


def _no_constant(name):
    raise ValueError(f"{name} is not JSON (to_json writes non-finite numbers as null)")


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    """A CSV cell: None as empty; text a spreadsheet would run as a formula gets a leading
    apostrophe (OWASP's advice), so it shows as the text it is."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
