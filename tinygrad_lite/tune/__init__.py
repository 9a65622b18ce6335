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
"aborted" and its loss history. ``report.trial_id`` is the trial's id (for per-trial logs).
A trial that raises is kept with status "failed" and the error text; the other trials go on.

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
from .search import coarse_to_fine, grid_search, random_search
from .space import Choice, IntUniform, LogUniform, Space, Uniform
from .trials import EDGE_FRACTION, EdgeWarning, SearchResult, Trial, TrialAborted, run_trial

__all__ = [
    "Space", "LogUniform", "Uniform", "IntUniform", "Choice",
    "Trial", "SearchResult", "TrialAborted", "EdgeWarning", "EDGE_FRACTION",
    "random_search", "grid_search", "coarse_to_fine", "run_trial",
]
