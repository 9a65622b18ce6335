"""Running searches: random, grid and coarse to fine, serially, in processes or on Dask."""
from __future__ import annotations

import itertools
import os
import pickle
import sys
import warnings
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future, ProcessPoolExecutor

import numpy as np

from .space import Space
from .trials import EdgeWarning, SearchResult, Trial, run_trial

__all__ = ["random_search", "grid_search", "coarse_to_fine"]


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
             metric, mode) -> tuple[list[Trial], bool]:
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


def _execute_futures(objective, configs, executor, workers, abort_factor, record) -> bool:
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
    futures: dict[Future, tuple[int, dict]] = {}
    seen: set[Future] = set()  # before any submit: a Ctrl-C while submitting still finds it
    interrupted = False
    try:
        for i, config in enumerate(configs):
            futures[executor.submit(run_trial, objective, i, config, abort_factor)] = (i, config)
        for fut in as_completed(futures):
            seen.add(fut)
            try:
                record(fut.result())
            except KeyboardInterrupt:
                raise
            except BaseException as e:  # the worker died (BrokenProcessPool, ...): keep going
                trial_id, config = futures[fut]
                record(_failed(trial_id, config, e))
    except KeyboardInterrupt:
        interrupted = True
        for fut in futures:
            fut.cancel()
        # keep the trials that finished but were not yet collected
        for fut in futures:
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
    configs = [{**dict(zip(space, combo, strict=True)), **(fixed or {})}
               for combo in itertools.product(*axes)]
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
