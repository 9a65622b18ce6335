"""Tests for tinygrad_lite.tune: spaces, the trial protocol, searches, executors, outputs.

The objectives are module-level pure-python functions (picklable, fast): a fake "training"
whose loss falls fastest at lr = 10**BEST_LOG_LR and explodes when lr > 0.1.
"""
import csv
import json
import math
import sys
import warnings
from concurrent.futures import Executor, Future

import numpy as np
import pytest

from tinygrad_lite.tune import (
    Choice,
    EdgeWarning,
    IntUniform,
    LogUniform,
    SearchResult,
    Trial,
    Uniform,
    coarse_to_fine,
    grid_search,
    random_search,
    run_trial,
)

BEST_LOG_LR = -2.5
INITIAL_LOSS = 2.3


def fake_train(config, report):
    """Loss shrinks by up to half per epoch, fastest near lr = 10**BEST_LOG_LR; doubles per
    epoch for lr > 0.1. reg adds a little; optimizer "broken" raises."""
    if config.get("optimizer") == "broken":
        raise ValueError("optimizer 'broken' is not implemented")
    x = math.log10(config["lr"])
    loss = INITIAL_LOSS
    report(loss)
    for _ in range(config.get("epochs", 6)):
        if x > -1:
            loss *= 2.0
        else:
            loss *= 1 - 0.5 * math.exp(-(x - BEST_LOG_LR) ** 2)
        report(loss, val_loss=loss + 0.01 * config.get("reg", 0.0))
    val_loss = loss + 0.01 * config.get("reg", 0.0)
    return {"val_loss": val_loss, "val_acc": 1 - val_loss / INITIAL_LOSS}


def only_lr_matters(config, report):
    """val_loss depends on lr alone; reg is a distraction."""
    val_loss = (math.log10(config["lr"]) - BEST_LOG_LR) ** 2
    report(1.0)
    return {"val_loss": val_loss}


def nan_at_step_3(config, report):
    report(2.3)
    report(2.0)
    report(float("nan"))
    report(1.0)  # never reached
    return {"val_loss": 1.0}


def losses_from_config(config, report):
    for loss in config["losses"]:
        report(loss)
    return None


def interrupt_at_trial_3(config, report):
    if report.trial_id == 3:
        raise KeyboardInterrupt
    return fake_train(config, report)


def returns_a_number(config, report):
    return 0.5


SPACE = {"lr": LogUniform(1e-6, 1.0), "reg": Uniform(0.0, 1.0)}
SPACE_WITH_FAILURES = {**SPACE, "optimizer": Choice(["sgd", "sgd", "broken"])}


def comparable(result):
    """records() without the wall-clock column."""
    return [{k: v for k, v in r.items() if k != "seconds"} for r in result.records()]


def log_distance(lr):
    return abs(math.log10(lr) - BEST_LOG_LR)


# --------------------------------------------------------------------------- spaces


def test_samples_lie_in_bounds():
    rng = np.random.default_rng(0)
    spaces = [LogUniform(1e-5, 1e-1), Uniform(-1.0, 2.0), IntUniform(3, 7), Choice(["a", "b", 3])]
    for space in spaces:
        values = [space.sample(rng) for _ in range(500)]
        assert all(space.contains(v) for v in values), space
    ints = [IntUniform(3, 7).sample(rng) for _ in range(500)]
    assert set(ints) == {3, 4, 5, 6, 7}  # both ends inclusive
    assert all(type(v) is int for v in ints)
    assert type(LogUniform(1e-5, 1e-1).sample(rng)) is float


def test_log_uniform_is_uniform_in_log_space():
    rng = np.random.default_rng(1)
    space = LogUniform(1e-6, 1.0)
    logs = np.log10([space.sample(rng) for _ in range(12000)])
    counts, _ = np.histogram(logs, bins=6, range=(-6, 0))
    # each decade gets a sixth of the samples; a linear-uniform sampler would put ~90% in the
    # top one
    np.testing.assert_allclose(counts / len(logs), 1 / 6, atol=0.02)


def test_grids():
    np.testing.assert_allclose(LogUniform(1e-4, 1.0).grid(5), [1e-4, 1e-3, 1e-2, 1e-1, 1.0])
    assert Uniform(0.0, 1.0).grid(5) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert IntUniform(1, 3).grid(10) == [1, 2, 3]  # no more points than integers
    assert IntUniform(0, 100).grid(3) == [0, 50, 100]
    assert Choice(["relu", "tanh"]).grid(7) == ["relu", "tanh"]
    assert LogUniform(1e-4, 1.0).grid(1) == pytest.approx([1e-2])


def test_contains():
    assert LogUniform(1e-3, 1e-1).contains(1e-2)
    assert not LogUniform(1e-3, 1e-1).contains(1.0)
    assert IntUniform(1, 5).contains(5) and not IntUniform(1, 5).contains(2.5)
    assert not Uniform(0.0, 1.0).contains("0.5")
    assert Choice(["a"]).contains("a") and not Choice(["a"]).contains("b")


def test_narrow_in_log_space_with_margin():
    narrowed = LogUniform(1e-6, 1.0).narrow([1e-3, 1e-2])
    # one decade of good values, padded by a quarter of max(spread, 20% of 6 decades) = 0.3
    assert narrowed.low == pytest.approx(10 ** -3.3)
    assert narrowed.high == pytest.approx(10 ** -1.7)
    # never beyond the old range
    assert LogUniform(1e-6, 1.0).narrow([1e-6, 2e-6]).low == 1e-6
    middle = Uniform(0.0, 1.0).narrow([0.4, 0.6])
    assert (middle.low, middle.high) == pytest.approx((0.35, 0.65))
    ints = IntUniform(1, 100).narrow([50, 50])
    assert ints.low < 50 < ints.high and ints.high - ints.low < 20
    assert Choice(["a", "b", "c"]).narrow(["c", "a", "c"]) == Choice(["a", "c"])


def test_reprs():
    assert repr(LogUniform(1e-5, 1)) == "LogUniform(1e-05, 1)"
    assert repr(Uniform(0, 0.5)) == "Uniform(0, 0.5)"
    assert repr(IntUniform(1, 8)) == "IntUniform(1, 8)"
    assert repr(Choice(["sgd", "adam"])) == "Choice(['sgd', 'adam'])"


def test_space_validation_errors():
    with pytest.raises(ValueError, match=r"LogUniform: needs low > 0 .*low=0, high=1"):
        LogUniform(0, 1)
    with pytest.raises(ValueError, match=r"Uniform: needs low < high, got low=1.0, high=1.0"):
        Uniform(1.0, 1.0)
    with pytest.raises(ValueError, match=r"LogUniform: needs low < high, got low=0.1, high=0.001"):
        LogUniform(0.1, 0.001)
    with pytest.raises(ValueError, match=r"IntUniform: bounds must be integers, got low=1.5"):
        IntUniform(1.5, 3)
    with pytest.raises(ValueError, match=r"Choice: needs at least one option"):
        Choice([])
    with pytest.raises(ValueError, match=r"Uniform: high must be finite"):
        Uniform(0.0, float("inf"))
    with pytest.raises(TypeError, match=r"space\['lr'\] must be a Space"):
        random_search(fake_train, {"lr": 0.01}, 2, executor="serial", progress=False)


# --------------------------------------------------------------------------- trials


def test_same_seed_same_configs_different_seed_different():
    a = random_search(fake_train, SPACE, 6, seed=7, executor="serial", progress=False)
    b = random_search(fake_train, SPACE, 6, seed=7, executor="serial", progress=False)
    c = random_search(fake_train, SPACE, 6, seed=8, executor="serial", progress=False)
    assert comparable(a) == comparable(b)
    assert [t.config for t in a.trials] != [t.config for t in c.trials]
    assert [t.id for t in a.trials] == list(range(6))


def test_abort_at_three_times_initial_loss():
    result = random_search(fake_train, {"lr": LogUniform(0.2, 1.0)}, 4,
                           executor="serial", progress=False, warn_edges=False)
    for trial in result.trials:
        assert trial.status == "aborted"
        # 2.3, 4.6, 9.2: the third loss exceeds 3 * 2.3 and the other 4 epochs never run
        assert trial.history == pytest.approx([2.3, 4.6, 9.2])
        assert "exceeds 3x the first loss" in trial.error
    assert result.best is None


def test_abort_rule_edges():
    at_limit = run_trial(losses_from_config, 0, {"losses": [1.0, 2.0, 3.0, 2.0]})
    assert at_limit.status == "ok" and len(at_limit.history) == 4  # 3x exactly is allowed
    over = run_trial(losses_from_config, 1, {"losses": [1.0, 2.0, 3.5, 2.0]})
    assert over.status == "aborted" and over.history == [1.0, 2.0, 3.5]
    assert over.metrics == {"loss": 3.5}
    lenient = run_trial(losses_from_config, 2, {"losses": [1.0, 2.0, 3.5, 2.0]}, abort_factor=None)
    assert lenient.status == "ok"


def test_abort_on_nan():
    trial = run_trial(nan_at_step_3, 0, {})
    assert trial.status == "aborted"
    assert len(trial.history) == 3 and math.isnan(trial.history[-1])
    assert "nan" in trial.error


def test_failed_trial_is_recorded_and_others_finish():
    result = random_search(fake_train, SPACE_WITH_FAILURES, 12, seed=0,
                           executor="serial", progress=False, warn_edges=False)
    failed = [t for t in result.trials if t.status == "failed"]
    others = [t for t in result.trials if t.status != "failed"]
    assert failed and others and len(result.trials) == 12
    assert all(t.config["optimizer"] == "broken" for t in failed)
    assert failed[0].error == "ValueError: optimizer 'broken' is not implemented"
    assert all(t.config["optimizer"] == "sgd" for t in others)
    assert isinstance(result.best, Trial) and result.best.status == "ok"


def test_objective_returning_a_non_dict_fails_clearly():
    trial = run_trial(returns_a_number, 0, {})
    assert trial.status == "failed"
    assert trial.error == ("TypeError: objective returned float; expected a dict of final "
                           "metrics or None")


def test_missing_metric_warns():
    with pytest.warns(UserWarning, match=r"no ok trial reported metric 'val_accuracy'"):
        result = random_search(fake_train, SPACE, 3, metric="val_accuracy",
                               executor="serial", progress=False, warn_edges=False)
    assert result.best is None


# --------------------------------------------------------------------------- searches


def test_edge_warning_when_optimum_lies_outside_the_range():
    space = {"lr": LogUniform(1e-2, 1e-1)}  # the optimum 10**-2.5 lies below
    with pytest.warns(EdgeWarning, match=r"best lr=.* lower 10% of LogUniform\(0.01, 0.1\).*"
                                         r"widen it below 0.01"):
        result = random_search(fake_train, space, 12, executor="serial", progress=False)
    assert len(result.edge_warnings()) == 1


def test_no_edge_warning_when_optimum_is_interior():
    space = {"lr": LogUniform(1e-5, 1e-1), "reg": Uniform(0.0, 1.0)}
    with warnings.catch_warnings():
        warnings.simplefilter("error", EdgeWarning)
        result = random_search(only_lr_matters, {"lr": space["lr"]}, 20, seed=0,
                               executor="serial", progress=False)
    assert result.edge_warnings() == []
    assert log_distance(result.best.config["lr"]) < 0.5


def test_random_search_beats_grid_when_one_of_two_matters():
    space = {"lr": LogUniform(1e-5, 1.0), "reg": LogUniform(1e-5, 1e-1)}
    n = 16
    rand = random_search(only_lr_matters, space, n, seed=0, executor="serial",
                         progress=False, warn_edges=False)
    grid = grid_search(only_lr_matters, space, 4, executor="serial",
                       progress=False, warn_edges=False)
    assert len(rand.trials) == len(grid.trials) == n
    # random tries n distinct learning rates, the grid only sqrt(n)
    assert len({t.config["lr"] for t in rand.trials}) == n
    assert len({t.config["lr"] for t in grid.trials}) == 4
    assert log_distance(rand.best.config["lr"]) < log_distance(grid.best.config["lr"])


def test_grid_search_counts_per_axis():
    space = {"lr": LogUniform(1e-4, 1e-1), "optimizer": Choice(["sgd", "broken"])}
    result = grid_search(fake_train, space, {"lr": 3}, executor="serial", progress=False,
                         warn_edges=False, fixed={"epochs": 2})
    assert len(result.trials) == 6  # 3 learning rates x both options
    lrs = [t.config["lr"] for t in result.trials[::2]]
    assert lrs == pytest.approx([1e-4, 1e-2 / 10 ** 0.5, 1e-1])
    assert all(t.config["epochs"] == 2 for t in result.trials)


def test_coarse_to_fine_narrows_toward_the_optimum():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rounds = coarse_to_fine(fake_train, SPACE, rounds=3, n_trials=[15, 10, 10], top_k=3,
                                seed=0, fixed=[{"epochs": 2}, {"epochs": 4}, {"epochs": 6}],
                                executor="serial", progress=False)
    # the optimum is interior to the range given: no warning about lr (reg is noise)
    assert not [w for w in caught if "best lr" in str(w.message)]
    assert rounds[-1].edge_space == SPACE
    assert len(rounds) == 3
    spans = [math.log10(r.space["lr"].high / r.space["lr"].low) for r in rounds]
    assert spans[0] > spans[1] > spans[2]
    for r in rounds:
        assert r.space["lr"].contains(10 ** BEST_LOG_LR)
    assert rounds[0].space["lr"].contains(rounds[1].space["lr"].low)
    assert [r.trials[0].config["epochs"] for r in rounds] == [2, 4, 6]  # few epochs while coarse
    assert log_distance(rounds[-1].best.config["lr"]) < 0.3


def test_coarse_to_fine_warns_when_the_optimum_is_outside():
    space = {"lr": LogUniform(1e-2, 1e-1)}
    with pytest.warns(EdgeWarning, match=r"best lr=.*LogUniform\(0.01, 0.1\).*widen it below"):
        rounds = coarse_to_fine(fake_train, space, rounds=2, n_trials=8, executor="serial",
                                progress=False)
    assert rounds[1].space["lr"].low == 1e-2  # narrowing never leaves the range given


def test_interrupted_serial_sweep_keeps_finished_trials():
    with pytest.warns(UserWarning, match=r"interrupted: kept 3 finished trials of 8"):
        result = random_search(interrupt_at_trial_3, SPACE, 8, executor="serial",
                               progress=False, warn_edges=False)
    assert result.interrupted
    assert [t.id for t in result.trials] == [0, 1, 2]
    assert result.n_planned == 8


class InterruptingExecutor(Executor):
    """Runs the first 3 submissions at once, interrupts on the 4th, leaves the rest pending."""

    def __init__(self):
        self.submitted = []

    def submit(self, fn, *args, **kwargs):
        fut = Future()
        if len(self.submitted) < 3:
            fut.set_result(fn(*args, **kwargs))
        elif len(self.submitted) == 3:
            fut.set_exception(KeyboardInterrupt())
        self.submitted.append(fut)
        return fut


def test_interrupted_executor_sweep_cancels_pending_and_keeps_finished():
    executor = InterruptingExecutor()
    with pytest.warns(UserWarning, match="interrupted"):
        result = random_search(fake_train, SPACE, 8, executor=executor, progress=False,
                               warn_edges=False)
    assert result.interrupted and [t.id for t in result.trials] == [0, 1, 2]
    assert all(f.cancelled() for f in executor.submitted[4:])


class InterruptedWhileSubmitting(Executor):
    """Runs the first 3 submissions at once; Ctrl-C arrives inside the 4th submit() call."""

    def __init__(self):
        self.submitted = []

    def submit(self, fn, *args, **kwargs):
        if len(self.submitted) == 3:
            raise KeyboardInterrupt
        fut = Future()
        fut.set_result(fn(*args, **kwargs))
        self.submitted.append(fut)
        return fut


def test_ctrl_c_during_submission_returns_the_finished_trials():
    """Regression: the set of collected futures was created after the submit loop, so a
    Ctrl-C while submitting raised UnboundLocalError instead of returning what finished."""
    executor = InterruptedWhileSubmitting()
    with pytest.warns(UserWarning, match=r"interrupted: kept 3 finished trials of 8"):
        result = random_search(fake_train, SPACE, 8, executor=executor, progress=False,
                               warn_edges=False)
    assert result.interrupted and [t.id for t in result.trials] == [0, 1, 2]
    assert all(t.status == "ok" for t in result.trials)


# --------------------------------------------------------------------------- outputs


def test_records_columns():
    result = random_search(fake_train, SPACE_WITH_FAILURES, 6, seed=0, executor="serial",
                           progress=False, warn_edges=False)
    records = result.records()
    assert list(records[0]) == ["id", "status", "lr", "reg", "optimizer", "loss", "val_loss",
                                "val_acc", "steps", "seconds", "error"]
    assert all(list(r) == list(records[0]) for r in records)
    failed = [r for r in records if r["status"] == "failed"]
    assert failed and failed[0]["val_loss"] is None and failed[0]["steps"] == 0


def test_csv_and_json_hold_every_trial(tmp_path):
    result = random_search(fake_train, SPACE_WITH_FAILURES, 10, seed=1, executor="serial",
                           progress=False, warn_edges=False)
    with open(result.to_csv(tmp_path / "sweep.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["id"]) for r in rows] == list(range(10))
    assert [r["status"] for r in rows] == [t.status for t in result.trials]
    assert float(rows[0]["lr"]) == pytest.approx(result.trials[0].config["lr"])

    with open(result.to_json(tmp_path / "sweep.json")) as f:
        data = json.load(f)
    assert len(data["trials"]) == 10 and data["best_id"] == result.best.id
    assert data["space"]["lr"] == {"type": "LogUniform", "low": 1e-6, "high": 1.0}
    back = SearchResult.from_json(tmp_path / "sweep.json")
    assert comparable(back) == comparable(result) and back.space == result.space


def test_json_is_strict_with_nan(tmp_path):
    result = SearchResult([run_trial(nan_at_step_3, 0, {})], {})
    path = tmp_path / "nan.json"
    result.to_json(path)
    data = json.loads(path.read_text(), parse_constant=lambda c: pytest.fail(f"non-JSON {c}"))
    assert data["trials"][0]["history"] == [2.3, 2.0, None]  # NaN written as null


# --------------------------------------------------------------------------- execution


def test_process_pool_matches_serial():
    serial = random_search(fake_train, SPACE_WITH_FAILURES, 10, seed=4, executor="serial",
                           progress=False, warn_edges=False)
    pooled = random_search(fake_train, SPACE_WITH_FAILURES, 10, seed=4, workers=2,
                           progress=False, warn_edges=False)
    assert comparable(pooled) == comparable(serial)
    assert {t.status for t in serial.trials} >= {"ok", "aborted", "failed"}


def test_unpicklable_objective_is_refused_before_launch():
    with pytest.raises(TypeError, match=r"objective '.*<lambda>' cannot be pickled.*module-level"):
        random_search(lambda config, report: None, SPACE, 2, workers=2, progress=False)


def test_progress_fallback_line_without_tqdm(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    random_search(fake_train, SPACE, 3, executor="serial", warn_edges=False)
    err = capsys.readouterr().err
    assert "\rrandom search: 3/3 best val_loss=" in err
    random_search(fake_train, SPACE, 3, executor="serial", warn_edges=False, progress=False)
    assert capsys.readouterr().err == ""


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=":0")
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_dask_matches_local(dask_client):
    local = random_search(fake_train, SPACE_WITH_FAILURES, 8, seed=5, executor="serial",
                          progress=False, warn_edges=False)
    remote = random_search(fake_train, SPACE_WITH_FAILURES, 8, seed=5, client=dask_client,
                           progress=False, warn_edges=False)
    assert comparable(remote) == comparable(local)
