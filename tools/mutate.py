"""Mutation testing of the backward passes: inject one realistic gradient bug at a time into a
copy of the repository, run the tests against it, and count the bugs the tests catch.

Each mutant of the catalogue (``tools/mutants.py``) is one exact snippet of one file and its
replacement. The tool exports a snapshot of the repository (a git revision, HEAD by default,
or the working tree) to a temporary directory, checks every snippet (found exactly once, and
the mutated file still compiles: otherwise a catalogue error, never a survivor), runs the
unmutated copy once (it must pass), then runs each mutant in its own fresh copy with
``PYTHONPATH`` pointing there. The shared working tree is never written to.

    python tools/mutate.py                     # the catalogue against the fast subset
    python tools/mutate.py --full              # the whole suite as the killer
    python tools/mutate.py --check             # check the catalogue only (no test runs)
    python tools/mutate.py --only sigmoid- --json mutants.json
    python tools/mutate.py --worktree          # uncommitted edits included

A mutant is killed when pytest fails (or runs past the timeout) and survives when every test
passes. The report gives the score overall and per file, and each survivor with its diff.
"""
from __future__ import annotations

import argparse
import difflib
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutants import MUTANTS, Mutant  # noqa: E402  (the catalogue lives beside this script)

ROOT = Path(__file__).resolve().parent.parent

# The fast subset: the tests that exercise gradients, fastest killers first (pytest runs the
# files in this order and -x stops at the first failure).
FAST = [
    "tests/test_kinks.py",
    "tests/test_paths.py",
    "tests/test_engine.py",
    "tests/test_gradcheck.py",  # the checker the other tests trust (gradient_check.py)
    "tests/test_engine_mutants.py",  # backward's mechanics, one test per engine mutant kind
    "tests/test_fast_paths.py",
    "tests/test_extremes.py",
    "tests/test_layers.py",
    "tests/test_fuzz.py",
    "tests/test_ops.py",
]
PYTEST = ["-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
_IGNORE = shutil.ignore_patterns(".git", "__pycache__", ".hypothesis", ".pytest_cache",
                                 ".mypy_cache", ".ruff_cache", "*.egg-info", ".venv", "build",
                                 "report", "out", ".benchmarks")


@dataclass
class Result:
    """What happened to one mutant: status is killed, timeout (counted as killed), survived
    or error (a catalogue error: snippet not found, ambiguous, or not valid Python)."""

    id: str
    file: str
    kind: str
    description: str
    status: str
    seconds: float = 0.0
    killer: str = ""
    detail: str = ""
    diff: str = field(default="", repr=False)


# -- the snapshot ------------------------------------------------------------------------------

def export_snapshot(dest: Path, rev: str | None) -> str:
    """Write the repository at ``rev`` (a git revision; None: the working tree) into dest.

    Returns a description of what was exported (the commit, and "+ working tree" if any).
    """
    if rev is None:
        shutil.copytree(ROOT, dest, ignore=_IGNORE)
        head = _git("rev-parse", "--short", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no")
        return f"{head} + working tree" + (" (uncommitted changes)" if dirty else "")
    data = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", rev],
                          check=True, capture_output=True).stdout
    dest.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(dest, filter="data")
    return _git("rev-parse", "--short", rev)


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


# -- one mutant ----------------------------------------------------------------------------

def mutate_text(text: str, m: Mutant) -> tuple[str | None, str]:
    """The file's text with the mutant applied, or (None, why) for a catalogue error."""
    count = text.count(m.original)
    if count == 0:
        return None, "snippet not found"
    if count > 1:
        return None, f"snippet found {count} times (ambiguous: add context)"
    new = text.replace(m.original, m.replacement, 1)
    try:
        compile(new, m.file, "exec")
    except SyntaxError as e:
        return None, f"mutated file does not compile: {e}"
    return new, ""


def unified_diff(text: str, new: str, path: str) -> str:
    lines = difflib.unified_diff(text.splitlines(keepends=True), new.splitlines(keepends=True),
                                 f"a/{path}", f"b/{path}", n=2)
    return "".join(lines)


def run_pytest(repo: Path, tests: Sequence[str], timeout: float) -> tuple[str, float, str]:
    """Run pytest in repo with PYTHONPATH=repo: ("passed" | "failed" | "timeout" | "error:N",
    seconds, the first failing test or the output's tail)."""
    env = dict(os.environ, PYTHONPATH=str(repo), PYTHONDONTWRITEBYTECODE="1",
               HYPOTHESIS_PROFILE=os.environ.get("HYPOTHESIS_PROFILE", "ci"))
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, *PYTEST, *tests], cwd=repo, env=env,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", time.perf_counter() - t0, f"no result within {timeout:.0f} s"
    dt = time.perf_counter() - t0
    out = proc.stdout + proc.stderr
    if proc.returncode == 0:
        return "passed", dt, ""
    if proc.returncode in (1, 2):  # tests failed, or collection / import failed
        found = re.search(r"^(?:FAILED|ERROR) (\S+)", out, re.M)
        return "failed", dt, found.group(1) if found else out.strip()[-300:]
    return f"error:{proc.returncode}", dt, out.strip()[-500:]


def run_mutant(m: Mutant, base: Path, tests: Sequence[str], timeout: float) -> Result:
    text = (base / m.file).read_text()
    new, why = mutate_text(text, m)
    res = Result(m.id, m.file, m.kind, m.description, "error", detail=why)
    if new is None:
        return res
    res.diff = unified_diff(text, new, m.file)
    with tempfile.TemporaryDirectory(prefix="mutant-") as tmp:
        repo = Path(tmp) / "repo"
        shutil.copytree(base, repo, ignore=_IGNORE)
        (repo / m.file).write_text(new)
        outcome, res.seconds, res.detail = run_pytest(repo, tests, timeout)
    if outcome == "failed":
        res.status, res.killer, res.detail = "killed", res.detail, ""
    elif outcome == "timeout":
        res.status = "timeout"
    elif outcome == "passed":
        res.status = "survived"
    else:
        res.status = "error"
        res.detail = f"pytest exit {outcome}: {res.detail}"
    return res


# -- the run -------------------------------------------------------------------------------

def check_imports_from(repo: Path) -> None:
    """The copy, not the editable install, must be the package the tests import."""
    env = dict(os.environ, PYTHONPATH=str(repo))
    code = "import tinygrad_lite; print(tinygrad_lite.__file__)"
    where = subprocess.run([sys.executable, "-c", code], cwd=repo, env=env, capture_output=True,
                           text=True, check=True).stdout
    if not Path(where.strip()).resolve().is_relative_to(repo.resolve()):
        raise SystemExit(f"mutate: tinygrad_lite imports from {where.strip()}, not the copy")


def summarize(results: list[Result]) -> dict:
    """Killed (timeouts included), survived and errors, overall and per file."""
    def score(rs: list[Result]) -> dict:
        killed = sum(r.status in ("killed", "timeout") for r in rs)
        survived = sum(r.status == "survived" for r in rs)
        valid = killed + survived
        return {"mutants": len(rs), "killed": killed, "survived": survived,
                "errors": len(rs) - valid, "score": killed / valid if valid else None}

    files = sorted({r.file for r in results})
    return {"overall": score(results),
            "per_file": {f: score([r for r in results if r.file == f]) for f in files}}


def print_report(results: list[Result], summary: dict, header: dict) -> None:
    w = sys.stdout.write
    w(f"\nmutation run: {header['source']}, killer: {header['killer']}, "
      f"{header['workers']} workers, {header['seconds']:.0f} s "
      f"(baseline test run {header['baseline_s']:.1f} s)\n\n")
    w(f"{'file':40s} {'mutants':>8s} {'killed':>7s} {'survived':>9s} {'errors':>7s} "
      f"{'score':>7s}\n")
    rows = list(summary["per_file"].items()) + [("overall", summary["overall"])]
    for name, s in rows:
        pct = "-" if s["score"] is None else f"{100 * s['score']:.1f}%"
        w(f"{name:40s} {s['mutants']:8d} {s['killed']:7d} {s['survived']:9d} "
          f"{s['errors']:7d} {pct:>7s}\n")
    for r in results:
        if r.status == "error":
            w(f"\nCATALOGUE ERROR {r.id} ({r.file}): {r.detail}\n")
    for r in results:
        if r.status == "survived":
            w(f"\nSURVIVED {r.id} [{r.kind}] {r.description}\n{r.diff}")
    w("\n")


def load_catalogue(path: str | None) -> list[Mutant]:
    """The mutants of ``tools/mutants.py``, or of another file defining ``MUTANTS`` (an older
    catalogue, for the revision it was written against)."""
    if path is None:
        return MUTANTS
    spec = importlib.util.spec_from_file_location("_catalogue", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"mutate: cannot load the catalogue {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["_catalogue"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return [Mutant(m.id, m.file, m.kind, m.description, m.original, m.replacement)
            for m in module.MUTANTS]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true",
                    help="the whole suite as the killer (the fast subset's files first)")
    ap.add_argument("--tests", nargs="+", help="test files to run (default: the fast subset)")
    ap.add_argument("--rev", default="HEAD", help="git revision to mutate (default HEAD)")
    ap.add_argument("--worktree", action="store_true",
                    help="mutate a copy of the working tree (uncommitted edits included)")
    ap.add_argument("--only", nargs="+", default=[], help="mutant ids starting with these")
    ap.add_argument("--file", nargs="+", default=[], help="only mutants of files containing these")
    ap.add_argument("--catalogue", metavar="FILE",
                    help="a catalogue file defining MUTANTS (default: tools/mutants.py)")
    ap.add_argument("--deselect", nargs="+", default=[], metavar="NODEID",
                    help="test ids (or id prefixes) to leave out, e.g. tests failing on an "
                         "open bug; passed to pytest --deselect and shown in the report")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds per mutant (default: 3x the baseline run, at least 60)")
    ap.add_argument("--check", action="store_true", help="check the catalogue only")
    ap.add_argument("--list", action="store_true", help="list the catalogue and exit")
    ap.add_argument("--json", metavar="PATH", help="write every result and the scores as JSON")
    args = ap.parse_args(argv)

    catalogue = load_catalogue(args.catalogue)
    mutants = [m for m in catalogue
               if (not args.only or any(m.id.startswith(p) for p in args.only))
               and (not args.file or any(f in m.file for f in args.file))]
    ids = [m.id for m in catalogue]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise SystemExit(f"mutate: duplicate mutant ids {dupes}")
    if args.list:
        for m in mutants:
            print(f"{m.id:34s} {m.file:38s} [{m.kind}] {m.description}")
        print(f"{len(mutants)} mutants")
        return 0

    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mutate-") as tmp:
        base = Path(tmp) / "base"
        source = export_snapshot(base, None if args.worktree else args.rev)
        if args.check:
            bad = 0
            for m in mutants:
                _, why = mutate_text((base / m.file).read_text(), m)
                if why:
                    bad += 1
                    print(f"CATALOGUE ERROR {m.id} ({m.file}): {why}")
            print(f"{len(mutants) - bad} of {len(mutants)} mutants apply cleanly to {source}")
            return 1 if bad else 0
        check_imports_from(base)
        if args.tests:
            tests = list(args.tests)
        elif args.full:
            rest = sorted(str(p.relative_to(base)) for p in (base / "tests").glob("test_*.py"))
            tests = [t for t in FAST if (base / t).exists()] + [t for t in rest if t not in FAST]
        else:
            tests = [t for t in FAST if (base / t).exists()]
        killer = "full suite" if args.full else " ".join(Path(t).name for t in tests)
        if args.deselect:
            killer += f" (deselected: {' '.join(args.deselect)})"
            tests = tests + [arg for d in args.deselect for arg in ("--deselect", d)]
        print(f"mutate: {len(mutants)} mutants of {source}; killer: {killer}", flush=True)
        outcome, baseline_s, detail = run_pytest(base, tests, timeout=3600)
        if outcome != "passed":
            raise SystemExit(f"mutate: the unmutated copy does not pass ({outcome}): {detail}")
        print(f"mutate: baseline passes in {baseline_s:.1f} s", flush=True)
        timeout = args.timeout or max(60.0, 3 * baseline_s)

        def one(m: Mutant) -> Result:
            r = run_mutant(m, base, tests, timeout)
            mark = {"killed": "killed  ", "timeout": "timeout ", "survived": "SURVIVED",
                    "error": "ERROR   "}[r.status]
            print(f"  {mark} {r.id:34s} {r.seconds:6.1f} s  {r.killer or r.detail[:80]}",
                  flush=True)
            return r

        with ThreadPoolExecutor(max_workers=max(1, args.workers)) as pool:
            results = list(pool.map(one, mutants))
    seconds = time.perf_counter() - t_start
    summary = summarize(results)
    header = {"source": source, "killer": killer, "tests": tests, "workers": args.workers,
              "seconds": seconds, "baseline_s": baseline_s, "timeout_s": timeout}
    print_report(results, summary, header)
    if args.json:
        Path(args.json).write_text(json.dumps(
            {**header, **summary, "results": [asdict(r) for r in results]}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
