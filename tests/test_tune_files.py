"""SearchResult's files: written whole or not at all, read back only when they are what
to_json wrote, and CSV cells that a spreadsheet cannot run."""
import csv
import json
import os

import pytest

from tinygrad_lite.tune import Choice, LogUniform, SearchResult, random_search
from tinygrad_lite.tune import trials as trials_module


def _objective(config, report):
    report(1.0)
    return {"val_loss": config["lr"], "note": config["name"]}


HOSTILE = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "ok"]


def _result(names=("a", "b")):
    space = {"lr": LogUniform(1e-4, 1.0), "name": Choice(list(names))}
    return random_search(_objective, space, 6, seed=0, executor="serial", progress=False,
                         warn_edges=False)


# -- nothing half-written ------------------------------------------------------------------


def test_to_csv_failing_part_way_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "sweep.csv"
    _result().to_csv(path)
    before = path.read_bytes()
    real, calls = trials_module._cell, []

    def failing(value):
        calls.append(value)
        if len(calls) == 30:  # a few rows in
            raise RuntimeError("interrupted")
        return real(value)

    monkeypatch.setattr(trials_module, "_cell", failing)
    with pytest.raises(RuntimeError, match="interrupted"):
        _result(("c", "d")).to_csv(path)
    assert path.read_bytes() == before
    assert [n for n in os.listdir(tmp_path) if n != "sweep.csv"] == []


def test_to_json_failing_part_way_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "sweep.json"
    _result().to_json(path)
    before = path.read_bytes()

    def failing(*args, **kwargs):
        raise OSError("disk full")

    from tinygrad_lite import files
    real_replace = files.os.replace
    monkeypatch.setattr(files.os, "replace", failing)  # the last step: everything else written
    with pytest.raises(OSError, match="disk full"):
        _result(("c", "d")).to_json(path)
    monkeypatch.setattr(files.os, "replace", real_replace)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["sweep.json"]


# -- formula injection ---------------------------------------------------------------------


def test_csv_cells_that_would_start_a_formula_are_neutralised(tmp_path):
    space = {"lr": LogUniform(1e-4, 1.0), "name": Choice(HOSTILE)}
    result = random_search(_objective, space, 20, seed=0, executor="serial", progress=False,
                           warn_edges=False, fixed={"=cmd|' /C calc'!A0": "-1"})
    with open(result.to_csv(tmp_path / "x.csv"), newline="") as f:
        rows = list(csv.reader(f))
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
            assert not (cell.startswith("-") and not _is_number(cell)), cell
    assert "'=cmd|' /C calc'!A0" in rows[0]
    names = {r[rows[0].index("name")] for r in rows[1:]}
    assert "'=HYPERLINK(\"http://x\",\"y\")" in names or "'+1+1" in names
    assert "ok" in names or len(names) < len(HOSTILE)


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_negative_numbers_stay_numbers(tmp_path):
    result = SearchResult([], {})
    result.trials = [trials_module.Trial(id=0, config={"x": -1.5}, metrics={"val_loss": -2})]
    with open(result.to_csv(tmp_path / "n.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["x"] == "-1.5" and rows[0]["val_loss"] == "-2"


# -- reading back ----------------------------------------------------------------------------


@pytest.fixture
def good(tmp_path):
    path = tmp_path / "good.json"
    _result().to_json(path)
    return json.loads(path.read_text())


def _write(tmp_path, text):
    path = tmp_path / "bad.json"
    path.write_text(text)
    return path


def _drop(d, key):
    return {k: v for k, v in d.items() if k != key}


def _trial0(d, **change):
    return {**d, "trials": [{**d["trials"][0], **change}] + d["trials"][1:]}


CASES = {
    "empty": (lambda d: "", "not valid JSON"),
    "truncated": (lambda d: json.dumps(d)[:50], "not valid JSON"),
    "not_json": (lambda d: "<html>", "not valid JSON"),
    "nan_interrupted": (lambda d: json.dumps(d).replace('"interrupted": false',
                                                         '"interrupted": NaN'),
                        "NaN is not JSON"),
    "infinity": (lambda d: json.dumps(d).replace('"n_planned": 6', '"n_planned": Infinity'),
                 "Infinity is not JSON"),
    "list": (lambda d: "[]", "the top level is \\[\\], not a dict"),
    "no_space": (lambda d: json.dumps(_drop(d, "space")), "lacks the key 'space'"),
    "no_trials": (lambda d: json.dumps(_drop(d, "trials")), "lacks the key 'trials'"),
    "interrupted_int": (lambda d: json.dumps({**d, "interrupted": 1}),
                        "'interrupted' is 1, not a bool"),
    "n_planned_str": (lambda d: json.dumps({**d, "n_planned": "6"}), "'n_planned' is '6'"),
    "n_planned_negative": (lambda d: json.dumps({**d, "n_planned": -1}), "below 0"),
    "mode": (lambda d: json.dumps({**d, "mode": "best"}), "not 'min' or 'max'"),
    "trials_dict": (lambda d: json.dumps({**d, "trials": {}}), "'trials' is {}, not a list"),
    "trial_string": (lambda d: json.dumps({**d, "trials": ["x"]}), "trial 0 is 'x'"),
    "trial_unknown_field": (lambda d: json.dumps(_trial0(d, evil=1)), "unknown field.*'evil'"),
    "trial_id_str": (lambda d: json.dumps(_trial0(d, id="0")), "trial 0's 'id' is '0'"),
    "trial_status": (lambda d: json.dumps(_trial0(d, status="great")), "status is 'great'"),
    "trial_history": (lambda d: json.dumps(_trial0(d, history=["x"])), "history entry"),
    "trial_no_config": (lambda d: json.dumps({**d, "trials": [{"id": 0}]}), "lacks config"),
    "space_type": (lambda d: json.dumps({**d, "space": {"lr": {"type": "Magic"}}}),
                   "space entry 'lr'"),
    "space_range": (lambda d: json.dumps({**d, "space": {"lr": {"type": "Uniform", "low": 2,
                                                                 "high": 1}}}),
                    "space entry 'lr' is not a Space"),
    "space_list": (lambda d: json.dumps({**d, "space": {"lr": [1, 2]}}), "space entry 'lr'"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_from_json_refuses_what_to_json_did_not_write(tmp_path, good, name):
    make, match = CASES[name]
    path = _write(tmp_path, make(good))
    with pytest.raises(ValueError, match=match) as err:
        SearchResult.from_json(path)
    assert str(path) in str(err.value)
    assert type(err.value) is ValueError  # not a bare KeyError, TypeError or JSONDecodeError


def test_from_json_of_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.json"):
        SearchResult.from_json(tmp_path / "nope.json")


def test_from_json_round_trips(tmp_path):
    result = _result()
    back = SearchResult.from_json(result.to_json(tmp_path / "r.json"))
    assert [t.config for t in back.trials] == [t.config for t in result.trials]
    assert back.interrupted is False and back.n_planned == 6 and back.best.id == result.best.id
