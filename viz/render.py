"""Finding a ``dot`` program and rendering DOT text to SVG, PNG or DOT.

Which program renders, in this order:

1. the one named by the environment variable ``TINYGRAD_LITE_DOT`` (a path or a command);
2. the system Graphviz ``dot`` on PATH;
3. ``graphviz-pure``, the self-contained dot-compatible program from PyPI that the viz extra
   installs (``pip install -e ".[viz]"`` from a clone, ``pip install "tinygrad_lite[viz]"``
   from a wheel), looked up on PATH and beside the running Python (a virtual environment that
   was never activated still finds it).

``find_dot(prefer=...)`` picks one explicitly: ``"system"`` or ``"graphviz-pure"``.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

__all__ = ["find_dot", "render_source", "write", "DotNotFoundError", "RenderTimeoutError",
           "FORMATS", "TIMEOUT"]

FORMATS = ("svg", "png", "dot", "gv", "jpeg", "jpg", "json", "plain")
ENV_VAR = "TINYGRAD_LITE_DOT"
TIMEOUT = 120.0  # seconds a render may take before RenderTimeoutError


class DotNotFoundError(RuntimeError):
    """Neither a system Graphviz ``dot`` nor ``graphviz-pure`` could be found."""


def _graphviz_pure() -> str | None:
    """The graphviz-pure program: on PATH, else in the running Python's scripts folder (or,
    in a venv made with --system-site-packages, the base Python's)."""
    names = ["graphviz-pure", "graphviz-pure.exe"] if os.name == "nt" else ["graphviz-pure"]
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    folders = [sysconfig.get_path("scripts"), os.path.dirname(sys.executable)]
    if sys.prefix != sys.base_prefix:  # a venv that sees the base Python's packages
        folders.append(sysconfig.get_path("scripts", vars={"base": sys.base_prefix,
                                                           "platbase": sys.base_prefix}))
    user = sysconfig.get_path("scripts", f"{os.name}_user") if os.name != "nt" else None
    if user:
        folders.append(user)
    for folder in folders:
        for name in names:
            p = Path(folder or "", name)
            if folder and p.is_file() and os.access(p, os.X_OK):
                return str(p)
    return None


def find_dot(prefer: str | None = None) -> str:
    """The path of the program that renders DOT.

    prefer: None (environment variable, then system dot, then graphviz-pure), "system"
    (only the system dot) or "graphviz-pure" (only graphviz-pure).
    Raises DotNotFoundError saying what to install.
    """
    if prefer not in (None, "system", "graphviz-pure"):
        raise ValueError(f"find_dot: prefer must be None, 'system' or 'graphviz-pure', "
                         f"not {prefer!r}")
    if prefer is None:
        env = os.environ.get(ENV_VAR)
        if env:
            found = shutil.which(env)
            if not found:
                raise DotNotFoundError(f"find_dot: {ENV_VAR}={env!r} is not an executable "
                                       f"program")
            return found
    if prefer in (None, "system"):
        found = shutil.which("dot")
        if found:
            return found
        if prefer == "system":
            raise DotNotFoundError("find_dot: no system Graphviz 'dot' on PATH")
    found = _graphviz_pure()
    if found:
        return found
    raise DotNotFoundError(
        "find_dot: no program to render graphs: pip install graphviz-pure (it comes with "
        "the viz extra: pip install -e \".[viz]\" from a clone, pip install \"tinygrad_lite[viz]\" "
        "from a wheel), or install Graphviz so that 'dot' is on PATH; "
        "draw_graph(...).source holds the DOT text meanwhile")


class RenderTimeoutError(RuntimeError):
    """The renderer ran past its time limit; the message says how to draw less."""


def render_source(source: str, format: str = "svg", prefer: str | None = None,
                  timeout: float = TIMEOUT, *, engine: str | None = None,
                  renderer: str | None = None, formatter: str | None = None,
                  neato_no_op: bool | int | None = None) -> bytes:
    """Lay out DOT text and return the rendered bytes (svg, png, json, ...).

    As the ``dot`` command line: ``-T{format}[:{renderer}[:{formatter}]]``, ``-K{engine}``
    (dot, neato, ...), ``-n{neato_no_op}``. An option the program does not support fails
    with its own message. Warnings the renderer prints (such as font-metric fallbacks) are
    dropped; a failure raises RuntimeError with the renderer's message; a render longer
    than ``timeout`` seconds raises RenderTimeoutError.
    """
    fmt = format.lower()
    if fmt in ("dot", "gv") and not (renderer or formatter or engine or neato_no_op):
        return source.encode("utf-8")
    if fmt == "jpg":
        fmt = "jpeg"
    if formatter is not None and renderer is None:
        raise ValueError("render: formatter given without renderer (graphviz's rule: "
                         "-Tformat:renderer:formatter)")
    prog = find_dot(prefer)
    t_arg = ":".join(x for x in (fmt, renderer, formatter) if x is not None)
    args = [prog, f"-T{t_arg}"]
    if engine is not None:
        args.append(f"-K{engine}")
    if neato_no_op:
        args.append(f"-n{int(neato_no_op)}")
    try:
        proc = subprocess.run(args, input=source.encode("utf-8"), capture_output=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise RenderTimeoutError(
            f"render: {os.path.basename(prog)} {' '.join(args[1:])} took longer than "
            f"{timeout:g} s") from None
    if proc.returncode != 0 or not proc.stdout:
        err = proc.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(f"render: {os.path.basename(prog)} {' '.join(args[1:])} failed "
                           f"(exit {proc.returncode}): {err[-2000:]}")
    return proc.stdout


def format_of(path: str | os.PathLike) -> str:
    """The output format named by a path's suffix: .svg, .png, .dot/.gv, .jpg, .json."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ValueError(f"write: cannot tell the format from {str(path)!r}: use a path ending "
                         f"in .svg, .png, .dot or .gv (also .jpg, .json, .plain)")
    return "dot" if suffix == "gv" else suffix


def write(source: str, path: str | os.PathLike, prefer: str | None = None,
          timeout: float = TIMEOUT) -> str:
    """Render DOT text to ``path`` in the format its suffix names; returns the path as str."""
    data = render_source(source, format_of(path), prefer=prefer, timeout=timeout)
    out = Path(path)
    if out.parent and not out.parent.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    return str(out)
