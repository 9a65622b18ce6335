"""Every Python block of README.md runs as written (issue 12, item 6).

Blocks run in order in one fresh interpreter, in a temporary folder, as a reader pasting them
into one session would run them (a later block may use an earlier block's names); test
functions a block defines (``def test_...``) are called too. A block holding an
``if __name__ == "__main__":`` guard is a script: it is saved as a file and run by itself
(the tune block's local process pool and local Dask cluster import that file). Where a block
ends with ``print(...)`` followed by a comment of numbers, the printed numbers must match
them to the digits shown.
"""
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
SESSION_TIMEOUT = 600  # seconds for all the session blocks together
SCRIPT_TIMEOUT = 300  # seconds for one script block


def blocks() -> list[tuple[int, str]]:
    """(line number, code) of every ```python block of the README, in order."""
    text = README.read_text(encoding="utf-8")
    out = []
    for m in re.finditer(r"^```python\n(.*?)^```", text, flags=re.S | re.M):
        out.append((text.count("\n", 0, m.start()) + 1, m.group(1)))
    return out


def is_script(code: str) -> bool:
    return re.search(r"^if __name__ == [\"']__main__[\"']:", code, flags=re.M) is not None


BLOCKS = blocks()
SESSION = [(line, code) for line, code in BLOCKS if not is_script(code)]
SCRIPTS = [(line, code) for line, code in BLOCKS if is_script(code)]

RUNNER = textwrap.dedent('''
    import contextlib, io, json, sys, traceback
    blocks = json.load(open(sys.argv[1], encoding="utf-8"))
    namespace = {"__name__": "readme"}
    results = []
    for line, code in blocks:
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                before = set(namespace)
                exec(compile(code, f"README.md:{line}", "exec"), namespace)
                for name in sorted(set(namespace) - before):  # a block's own tests
                    if name.startswith("test_") and callable(namespace[name]):
                        namespace[name]()
            results.append({"line": line, "ok": True, "stdout": out.getvalue()})
        except BaseException:
            results.append({"line": line, "ok": False, "stdout": out.getvalue(),
                            "error": traceback.format_exc()})
    json.dump(results, open(sys.argv[2], "w", encoding="utf-8"))
''')


def env() -> dict:
    e = dict(os.environ, MPLBACKEND="Agg", PYTHONWARNINGS="ignore")
    root = str(README.parent)
    e["PYTHONPATH"] = os.pathsep.join(p for p in (e.get("PYTHONPATH"), root) if p)
    return e


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """line -> result of each session block, from one interpreter that ran them in order."""
    folder = tmp_path_factory.mktemp("readme")
    (folder / "blocks.json").write_text(json.dumps(SESSION), encoding="utf-8")
    (folder / "runner.py").write_text(RUNNER, encoding="utf-8")
    proc = subprocess.run([sys.executable, "runner.py", "blocks.json", "results.json"],
                          cwd=folder, env=env(), capture_output=True, text=True,
                          timeout=SESSION_TIMEOUT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    return {r["line"]: r for r in results}


def expected_numbers(code: str) -> list[str] | None:
    """The numbers in a comment right after the block's last print(...), if there is one."""
    lines = code.rstrip().splitlines()
    if len(lines) < 2 or not lines[-2].lstrip().startswith("print(") \
            or not lines[-1].startswith("#"):
        return None
    words = lines[-1].lstrip("#").split()
    nums = [w for w in words if re.fullmatch(r"-?\d+(\.\d+)?(e[-+]?\d+)?", w)]
    return nums if nums and len(nums) == len(words) else None


def agrees(shown: str, value: float) -> bool:
    """value rounds to ``shown`` at the digits shown (half a unit in the last place)."""
    mantissa, _, exp = shown.partition("e")
    decimals = len(mantissa.partition(".")[2])
    ulp = 10.0 ** (-decimals) * (10.0 ** int(exp) if exp else 1.0)
    return abs(value - float(shown)) <= 0.5 * ulp * (1 + 1e-9) + 1e-300


def test_the_readme_has_the_blocks_this_test_expects():
    assert len(SESSION) >= 3 and len(SCRIPTS) >= 1
    assert any("tune.random_search" in code and "Client(" in code for _, code in SCRIPTS)


@pytest.mark.parametrize("line", [line for line, _ in SESSION],
                         ids=[f"README.md:{line}" for line, _ in SESSION])
def test_session_block_runs(session, line):
    result = session[line]
    assert result["ok"], f"README.md:{line} failed:\n{result.get('error', '')}"
    code = dict(SESSION)[line]
    shown = expected_numbers(code)
    if shown is not None:
        printed = [float(w) for w in result["stdout"].split()[-len(shown):]]
        assert all(agrees(s, v) for s, v in zip(shown, printed, strict=True)), \
            f"README.md:{line} shows {shown}, the block printed {printed}"


@pytest.mark.parametrize("line", [line for line, _ in SCRIPTS],
                         ids=[f"README.md:{line}" for line, _ in SCRIPTS])
def test_script_block_runs(tmp_path, line):
    (tmp_path / "block.py").write_text(dict(SCRIPTS)[line], encoding="utf-8")
    proc = subprocess.run([sys.executable, "block.py"], cwd=tmp_path, env=env(),
                          capture_output=True, text=True, timeout=SCRIPT_TIMEOUT)
    assert proc.returncode == 0, f"README.md:{line} failed:\n{proc.stderr[-3000:]}"
    assert proc.stdout.strip(), "the block prints its results"
    if "to_csv(" in dict(SCRIPTS)[line]:
        assert (tmp_path / "trials.csv").stat().st_size > 100
