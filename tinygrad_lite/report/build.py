"""build_report: run the chosen sections in order and write index.html, results.json and files."""
from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import traceback
import warnings
from collections.abc import Iterator, Sequence

from .._json import to_jsonable
from .context import Context
from .page import render_page
from .registry import Section, SectionSpec
from .sections import SECTIONS

__all__ = ["MissingExtraError", "build_report"]


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
            f"data extras: pip install 'tinygrad_lite[viz,data]' (from a clone: pip install -e "
            f"'.[viz,data]')")
    try:
        from viz.render import find_dot

        find_dot()
    except Exception as e:  # any failure to find a renderer
        raise MissingExtraError(f"report: no Graphviz renderer ({e}); install the viz extra, "
                                f"which brings graphviz-pure: pip install 'tinygrad_lite[viz]'"
                                ) from e


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


def _write_files(s: Section, out: str) -> None:
    for f in s.files:
        path = os.path.join(out, f.name)
        if callable(f.content):
            f.content(path)
        else:
            mode, encoding = ("wb", None) if isinstance(f.content, bytes) else ("w", "utf-8")
            with open(path, mode, encoding=encoding) as fh:
                fh.write(f.content)


def build_report(out: str = "report", quick: bool = False, progress: bool = True,
                 sections: Sequence[str] | None = None,
                 specs: Sequence[SectionSpec] = SECTIONS) -> str:
    """Run the experiments and write out/index.html; returns the path of index.html.

    quick: smaller experiments (for CI: well under a minute). progress: one line per section
    on stderr. sections: the keys to run (default: all, in the lecture's order). specs: the
    sections to choose from (default SECTIONS). A section that raises is shown with its
    traceback; the others still run. Also writes out/results.json (every check, number and
    file) and every section's attached files (out/backprop.html, out/search_*.csv, ...).
    """
    known = [spec.key for spec in specs]
    if sections is not None and set(sections) - set(known):
        raise ValueError(f"build_report: unknown sections {sorted(set(sections) - set(known))};"
                         f" choose from {known}")
    _require_extras()
    import matplotlib

    matplotlib.use("Agg")  # no window, whatever the environment says
    os.makedirs(out, exist_ok=True)
    chosen = [spec for spec in specs if sections is None or spec.key in sections]
    ctx = Context(out, quick)

    def say(text: str) -> None:
        if progress:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()

    done = []
    start = time.perf_counter()
    say(f"tinygrad-lite report: {len(chosen)} sections, {'quick' if quick else 'full'} mode, "
        f"writing {os.path.join(out, 'index.html')}")
    with _one_blas_thread():
        for i, spec in enumerate(chosen, 1):
            say(f"[{i}/{len(chosen)}] {spec.key} ...")
            s = _run(spec, ctx)
            _write_files(s, out)
            done.append(s)
            passed = sum(c.passed for c in s.checks)
            status = "ERROR" if s.error else f"{passed}/{len(s.checks)} checks pass"
            say(f"[{i}/{len(chosen)}] {spec.key}: {status} ({s.seconds:.1f} s)")
            for c in s.checks:
                if not c.passed:
                    say(f"    FAIL {c.claim} -- {c.measured}")
    seconds = time.perf_counter() - start
    path = os.path.join(out, "index.html")
    with open(path, "w", encoding="utf-8") as f:
        f.write(render_page(done, quick, seconds))
    results = {"quick": quick, "seconds": seconds,
               "sections": [{"key": s.key, "title": s.title, "seconds": s.seconds,
                             "error": s.error, "checks": [c.to_dict() for c in s.checks],
                             "files": [a.name for a in s.files], "numbers": s.numbers}
                            for s in done]}
    with open(os.path.join(out, "results.json"), "w", encoding="utf-8") as f:
        json.dump(to_jsonable(results), f, indent=1, allow_nan=False)
    n_pass = sum(c.passed for s in done for c in s.checks)
    n_checks = sum(len(s.checks) for s in done)
    say(f"done in {seconds:.0f} s: {n_pass}/{n_checks} checks pass; open {path}")
    return path
