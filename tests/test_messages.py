"""Messages that say what to do: one-hot labels are told to use argmax, and every install hint
in the package, viz and the examples works from a clone and from a wheel."""
import re
from pathlib import Path

import numpy as np
import pytest

import tinygrad_lite.functional as F
from tinygrad_lite import Value

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("loss", [F.softmax_cross_entropy, F.svm_loss])
@pytest.mark.parametrize("dtype", [np.float64, np.int64, np.float32])
def test_one_hot_labels_are_told_to_use_argmax(loss, dtype):
    scores = Value(np.zeros((4, 3)))
    one_hot = np.eye(3, dtype=dtype)[[0, 2, 1, 2]]
    with pytest.raises(ValueError, match=r"look one-hot.*y\.argmax\(axis=1\)") as info:
        loss(scores, one_hot)
    assert "astype" not in str(info.value)
    assert isinstance(info.value, TypeError)  # what float labels raised before: still caught
    loss(scores, one_hot.argmax(axis=1))  # and the advice works


def test_one_hot_labels_as_a_value_are_told_too():
    with pytest.raises(ValueError, match=r"y\.argmax\(axis=1\)"):
        F.softmax_cross_entropy(Value(np.zeros((2, 3))), Value(np.eye(3)[[1, 2]]))


def _extras() -> set[str]:
    """The extras pyproject.toml declares (its [project.optional-dependencies] keys)."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    table = text.split("[project.optional-dependencies]", 1)[1].split("\n[", 1)[0]
    return set(re.findall(r"^([A-Za-z0-9_-]+)\s*=", table, flags=re.M))


#: a pip command and its argument: quoted, or up to a space or punctuation
HINT = r"pip install (?:-e )?(?:\"[^\"]*\"|'[^']*'|[^\s;,)]+)"


def _hints():
    """(file, line number, the hint's text) of every 'pip install' in the shipped code."""
    files = [*(ROOT / "tinygrad_lite").rglob("*.py"), *(ROOT / "viz").rglob("*.py"),
             *(ROOT / "examples").glob("*.py")]
    for path in files:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            unescaped = line.replace('\\"', '"')
            for m in re.finditer(HINT, unescaped):
                yield path.relative_to(ROOT), n, m.group()


def test_every_install_hint_works_from_a_clone_and_from_a_wheel():
    extras = _extras()
    assert {"viz", "data", "dask"} <= extras
    hints = list(_hints())
    assert len(hints) >= 10  # the report, the data loader, viz, the examples
    by_file: dict = {}
    for path, n, hint in hints:
        where = f"{path}:{n}: {hint!r}"
        by_file.setdefault(path, []).append(hint)
        # the package from an index or a wheel: quoted (zsh globs [..]), extras that exist
        for names in re.findall(r"tinygrad_lite\[([^\]]*)\]", hint):
            assert '"tinygrad_lite[' in hint, f"{where}: quote it, as \"tinygrad_lite[...]\""
            assert set(names.split(",")) <= extras, where
        # from a clone: editable, quoted
        for names in re.findall(r"\.\[([^\]]*)\]", hint.replace("tinygrad_lite[", "")):
            assert '-e ".[' in hint, f"{where}: from a clone it is pip install -e \".[...]\""
            assert set(names.split(",")) <= extras, where
    for path, found in by_file.items():  # a wheel's hint always comes with a clone's
        wheel = any("tinygrad_lite[" in h for h in found)
        clone = any('-e ".[' in h for h in found)
        assert wheel == clone, (path, found)


def test_the_reports_missing_extra_gives_both_commands(monkeypatch):
    import sys

    from tinygrad_lite import report
    from tinygrad_lite.report.build import _require_extras

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(report.MissingExtraError) as info:
        _require_extras()
    text = str(info.value)
    assert 'pip install -e ".[viz,data]"' in text
    assert 'pip install "tinygrad_lite[viz,data]"' in text
