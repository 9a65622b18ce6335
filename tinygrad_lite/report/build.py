"""build_report: run the chosen sections in order and write index.html, results.json and files."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Iterator, Sequence

from .._json import to_jsonable
from ..files import write_bytes, write_text
from .context import Context
from .page import render_page
from .registry import RESERVED, Section, SectionSpec
from .sections import SECTIONS

__all__ = ["MissingExtraError", "OutputFolderError", "build_report", "check_out"]


class MissingExtraError(ImportError):
    """The report needs an optional dependency that is not installed."""


def _require_extras() -> None:
    missing = []
    for mod, pkg in (("matplotlib", "matplotlib"), ("graphviz", "graphviz"), ("viz", "viz"),
                     ("sklearn", "scikit-learn")):
        try:
            __import__(mod)
        except ImportError:
            missing.append(pkg)
    if missing:
        raise MissingExtraError(
            f"report: needs {', '.join(missing)}, which cannot be imported; install the viz and "
            f"data extras: from a clone, pip install -e \".[viz,data]\"; where tinygrad_lite "
            f"is installed from a wheel, pip install \"tinygrad_lite[viz,data]\"")
    try:
        from viz.render import find_dot

        find_dot()
    except Exception as e:  # any failure to find a renderer
        raise MissingExtraError(f"report: no Graphviz renderer ({e}); install the viz extra, "
                                f"which brings graphviz-pure: from a clone, "
                                f"pip install -e \".[viz]\"; from a wheel, "
                                f"pip install \"tinygrad_lite[viz]\"") from e


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    """Small matrices: one BLAS thread avoids threads spinning against each other."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _run(spec: SectionSpec, ctx: Context) -> Section:
    """spec.build on a fresh Section; a section that raises comes back holding its traceback."""
    s = spec.new()
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # overflow is the point
            spec.build(ctx, s)
    except Exception:  # shown in the report; the other sections go on
        s = spec.new()
        s.error = traceback.format_exc()
    s.seconds = time.perf_counter() - t0
    return s


class OutputFolderError(ValueError):
    """--out cannot hold the report: the message says why, in one line."""


def _problem_with(out: str) -> str | None:
    """Why `out` cannot become the report's folder, in a few words, or None."""
    if not out or not str(out).strip():
        return "--out is empty: give a folder name, such as --out report"
    if "\0" in out:
        return f"--out {out!r} holds a NUL character"
    path = os.path.abspath(out)
    if os.path.lexists(path) and not os.path.isdir(path):
        mode = os.stat(path).st_mode if os.path.exists(path) else 0
        kind = ("a file" if stat.S_ISREG(mode) else "a device" if stat.S_ISCHR(mode)
                or stat.S_ISBLK(mode) else "a link to nothing" if not mode else "not a folder")
        return f"--out {out!r} is {kind}; give a folder (it is created if missing)"
    if os.path.isdir(path):
        for name in sorted(RESERVED):
            target = os.path.join(path, name)
            if os.path.lexists(target) and not os.path.isfile(target):
                return (f"--out {out!r} holds a folder named {name}, where the report's "
                        f"{name} would go; remove it or choose another folder")
        return None
    parent = os.path.dirname(path)  # the nearest folder that exists must be a folder
    while not os.path.lexists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        return f"--out {out!r} cannot be created: {parent!r} is a file, not a folder"
    return None


def _staging_folder(out: str) -> str:
    """A fresh, empty folder for this run: inside `out` where it exists, else beside it.

    Creating it is the real test that `out` is usable (permissions, read-only or virtual file
    systems such as /proc): an OSError here becomes OutputFolderError before anything runs.
    Its name starts with '.' and says 'partial', so a run killed before its end leaves a
    folder that cannot be mistaken for a report.
    """
    path = os.path.abspath(out)
    where = path if os.path.isdir(path) else os.path.dirname(path)
    try:
        if where == path:
            return tempfile.mkdtemp(prefix=".tinygrad-lite-partial-", dir=path)
        os.makedirs(where, exist_ok=True)
        return tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.partial-", dir=where)
    except OSError as e:
        raise OutputFolderError(f"--out {out!r} is not usable: nothing can be written in "
                                f"{where!r} ({e.strerror or e})") from None


def _write_files(s: Section, folder: str) -> None:
    """Each artefact of `s` into `folder`, every one through tinygrad_lite.files (atomic)."""
    for f in s.files:
        path = os.path.join(folder, f.name)
        if callable(f.content):
            f.content(path)
        elif isinstance(f.content, bytes):
            write_bytes(path, f.content)
        else:
            write_text(path, f.content)


def _previous_files(out: str) -> set[str]:
    """The attachments the report already in `out` lists in its results.json (none if absent
    or unreadable): they are the old run's, removed once this run's page is in place."""
    try:
        with open(os.path.join(out, "results.json"), encoding="utf-8") as f:
            old = json.load(f)
        names = {n for s in old["sections"] for n in s["files"]}
    except (OSError, ValueError, KeyError, TypeError):
        return set()
    return {n for n in names if isinstance(n, str) and os.path.basename(n) == n
            and not n.startswith(".") and n.lower() not in RESERVED}


def _publish(staging: str, out: str, names: list[str]) -> None:
    """Move this run's files from `staging` into `out`, index.html last.

    `out` missing: the staging folder is renamed to it, in one step. `out` existing: each
    attachment is moved in with os.replace (atomic per file), then results.json, then
    index.html; the previous run's attachments that this run did not write go last. Until
    index.html moves, the previous page stands with its own files; no target is a folder
    (checked before anything moves).
    """
    path = os.path.abspath(out)
    if not os.path.isdir(path):
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(staging, 0o777 & ~umask)  # a folder as os.makedirs makes it, not mkdtemp's 0700
        os.rename(staging, path)
        return
    order = [n for n in names if n.lower() not in RESERVED] + ["results.json", "index.html"]
    for n in order:
        target = os.path.join(path, n)
        if os.path.lexists(target) and not os.path.isfile(target):
            raise OutputFolderError(f"--out {out!r} holds a folder named {n}, where the report's "
                                    f"file {n} would go; nothing was replaced")
    stale = _previous_files(path) - set(names)
    for n in order:
        os.replace(os.path.join(staging, n), os.path.join(path, n))
    os.rmdir(staging)
    for n in stale:
        with contextlib.suppress(OSError):
            os.remove(os.path.join(path, n))


def check_out(out: str) -> None:
    """Raise OutputFolderError (one line) if `out` cannot hold a report; creates nothing."""
    problem = _problem_with(out)
    if problem:
        raise OutputFolderError(problem)


def build_report(out: str = "report", quick: bool = False, progress: bool = True,
                 sections: Sequence[str] | None = None,
                 specs: Sequence[SectionSpec] = SECTIONS) -> str:
    """Run the experiments and write out/index.html; returns the path of index.html.

    quick: smaller experiments (for CI). progress: one line per section on stderr. sections:
    the keys to run (default: all, in the lecture's order). specs: the sections to choose
    from (default SECTIONS). A section that raises is shown with its traceback; the others
    still run. Also writes out/results.json (every check, number and file) and every
    section's attached files (out/backprop.html, out/search_*.csv, ...).

    `out` is checked before anything runs (OutputFolderError, a ValueError, says what is
    wrong). The run writes into a fresh folder of its own and moves its files into `out` only
    at the end, index.html last: an exception or a Ctrl-C part-way leaves the previous report
    in `out` as it was, and no file of this run beside it.
    """
    known = [spec.key for spec in specs]
    if sections is not None and set(sections) - set(known):
        raise ValueError(f"build_report: unknown sections {sorted(set(sections) - set(known))};"
                         f" choose from {known}")
    check_out(out)
    staging = _staging_folder(out)  # where this run writes: also the test that out is usable
    try:
        _require_extras()
        import matplotlib

        matplotlib.use("Agg")  # no window, whatever the environment says
        chosen = [spec for spec in specs if sections is None or spec.key in sections]
        path, seconds, done = _build(staging, out, quick, progress, chosen)
        _publish(staging, out, [a.name for s in done for a in s.files])
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone already unless the run stopped
    if progress:
        n_pass = sum(c.passed for s in done for c in s.checks)
        n_checks = sum(len(s.checks) for s in done)
        sys.stderr.write(f"done in {seconds:.0f} s: {n_pass}/{n_checks} checks pass; "
                         f"open {path}\n")
    return path


def _build(staging: str, out: str, quick: bool, progress: bool,
           chosen: list[SectionSpec]) -> tuple[str, float, list[Section]]:
    """Run the sections, writing every file into `staging`; (path of the future index.html,
    seconds, the sections as run)."""
    ctx = Context(out, quick)

    def say(text: str) -> None:
        if progress:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()

    done = []
    start = time.perf_counter()
    path = os.path.join(out, "index.html")
    say(f"tinygrad-lite report: {len(chosen)} sections, {'quick' if quick else 'full'} mode, "
        f"writing {path}")
    with _one_blas_thread():
        for i, spec in enumerate(chosen, 1):
            say(f"[{i}/{len(chosen)}] {spec.key} ...")
            s = _run(spec, ctx)
            _write_files(s, staging)
            done.append(s)
            passed = sum(c.passed for c in s.checks)
            status = "ERROR" if s.error else f"{passed}/{len(s.checks)} checks pass"
            say(f"[{i}/{len(chosen)}] {spec.key}: {status} ({s.seconds:.1f} s)")
            for c in s.checks:
                if not c.passed:
                    say(f"    FAIL {c.claim} -- {c.measured}")
    seconds = time.perf_counter() - start
    results = {"quick": quick, "seconds": seconds,
               "sections": [{"key": s.key, "title": s.title, "seconds": s.seconds,
                             "error": s.error, "checks": [c.to_dict() for c in s.checks],
                             "files": [a.name for a in s.files], "numbers": s.numbers}
                            for s in done]}
    write_text(os.path.join(staging, "results.json"),
               json.dumps(to_jsonable(results), indent=1, allow_nan=False))
    write_text(os.path.join(staging, "index.html"), render_page(done, quick, seconds))
    return path, seconds, done
