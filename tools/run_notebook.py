"""Execute the lecture notebook in a real kernel and store it with its outputs, or check it.

    python tools/run_notebook.py            # run examples/lecture6.ipynb top to bottom, save it
    python tools/run_notebook.py --check    # run it, compare with the stored outputs, save nothing
    python tools/run_notebook.py --check --sections   # each section in its own kernel, compare

The notebook is stored with its outputs so that a reader on a code host sees the graphs and
plots. Saving records a digest of the code cells in the notebook's metadata
(``tinygrad_lite.code_sha256``): a code cell edited (or run by hand) after the last run of this
tool no longer matches it, and ``tests/test_notebook.py`` fails, saying to run this tool.
``--check`` (and the test) also compare the numbers printed by the cells tagged
``lecture-numbers`` and the kinds of output of every cell (image/png, image/svg+xml, text/html)
with a fresh run, so outputs that went stale after a library change are caught as well.

Markdown headings split the notebook into sections: the first (the title and the setup cell)
and one per part of the lecture. ``--sections`` runs every later section in a fresh kernel
after the setup section alone, so a cell that reads a variable left by another section fails
with NameError, as it would for a reader who jumps to that section.
"""
from __future__ import annotations

import argparse
import hashlib
import math
import os
import re
import sys
import time
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "examples" / "lecture6.ipynb"
NUMBERS_TAG = "lecture-numbers"  # cells whose printed numbers are compared with a fresh run
META_KEY = "tinygrad_lite"
REGENERATE = "python tools/run_notebook.py"
REL_TOL = 0.05  # printed numbers may move this much (relative) between platforms' BLAS ...
LAST_DIGITS = 2  # ... or this many units of the last printed digit
PERCENT_POINTS = 1.5  # ... or, for a percentage, this many points (one unit of 100 flipping)
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?%?")

__all__ = ["NOTEBOOK", "NUMBERS_TAG", "REGENERATE", "code_digest", "execute", "sections",
           "SectionRun", "execute_sections", "save", "numbers_text", "output_kinds", "compare",
           "main"]


def code_digest(nb) -> str:
    """SHA-256 of the code cells' sources, in order (markdown edits do not change it)."""
    h = hashlib.sha256()
    for cell in nb.cells:
        if cell.cell_type == "code":
            h.update(cell.source.encode("utf-8"))
            h.update(b"\0")
    return h.hexdigest()


def _client(nb, path: Path, timeout: int):
    """An nbclient NotebookClient for ``nb``, and the kernel's environment.

    The kernel runs in the notebook's folder with one BLAS thread (a shared 2-core machine runs
    small matrices faster that way) and matplotlib's Agg backend.
    """
    import nbclient

    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=timeout,
                                     record_timing=False,
                                     resources={"metadata": {"path": str(path.parent)}})
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")
    env.setdefault("MPLBACKEND", "Agg")  # viz's figures display themselves; no GUI backend
    return client, env


def execute(path: str | Path = NOTEBOOK, timeout: int = 180) -> tuple[Any, float]:
    """Run the notebook at ``path`` top to bottom in a fresh "python3" kernel.

    Returns (the executed notebook, seconds). Raises nbclient's CellExecutionError, naming the
    cell, when a cell fails.
    """
    import nbformat

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    client, env = _client(nb, path, timeout)
    start = time.perf_counter()
    client.execute(env=env)
    return nb, time.perf_counter() - start


def sections(nb) -> list[list[int]]:
    """The notebook's sections: lists of cell indices, each starting at a markdown heading.

    A markdown cell whose first line starts with "#" opens a section; cells before the first
    heading belong to the first section. The first section holds the setup code.
    """
    out: list[list[int]] = [[]]
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("#") and out[-1]:
            out.append([])
        out[-1].append(i)
    return out


class SectionRun(NamedTuple):
    """What execute_sections returns.

    nb: the notebook, each cell holding the outputs of its own section's kernel.
    seconds: the wall time of all the runs.
    probes: cell id -> what the probe code run right after that cell printed (stdout).
    """

    nb: Any
    seconds: float
    probes: dict[str, str]


def _execute_aside(client, cell, index: int, **kwargs) -> None:
    """Run ``cell`` (not one of the notebook's) in the client's kernel, its outputs into it.

    nbclient stores an executed cell at its index in the notebook: the cell that was there
    is put back.
    """
    kept = client.nb.cells[index]
    try:
        client.execute_cell(cell, index, **kwargs)
    finally:
        client.nb.cells[index] = kept


def execute_sections(path: str | Path = NOTEBOOK, timeout: int = 180,
                     probes: dict[str, str] | None = None) -> SectionRun:
    """Run the first section, then each later section in a fresh kernel after the setup cells.

    Every kernel runs the first section's code cells (the setup) and then one section's, top to
    bottom; a cell that needs a variable made in another section raises there. ``probes``
    maps a cell id to code run in the same kernel right after that cell (not stored in the
    notebook; it sees the cell's variables and its result as ``_``). Raises nbclient's
    CellExecutionError, naming the cell, when a cell or a probe fails.
    """
    import nbformat

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    probes = probes or {}
    found: dict[str, str] = {}
    parts = sections(nb)
    setup = [i for i in parts[0] if nb.cells[i].cell_type == "code"]
    start = time.perf_counter()
    for n, part in enumerate(parts):
        client, env = _client(nb, path, timeout)
        code = [i for i in part if nb.cells[i].cell_type == "code"]
        with client.setup_kernel(env=env):
            if n > 0:  # the setup again, into a copy: the notebook keeps the first run's
                for i in setup:
                    _execute_aside(client, nbformat.from_dict(nb.cells[i]), i)
            for i in code:
                cell = nb.cells[i]
                client.execute_cell(cell, i)
                cid = cell.get("id")
                if cid in probes:
                    probe = nbformat.v4.new_code_cell(probes[cid])
                    _execute_aside(client, probe, i, store_history=False)
                    found[cid] = "".join(o.get("text", "") for o in probe.outputs
                                         if o.get("name") == "stdout")
    return SectionRun(nb, time.perf_counter() - start, found)


def save(nb, path: str | Path = NOTEBOOK) -> None:
    """Write an executed notebook, recording the digest of the code that made its outputs."""
    import nbformat

    nb.metadata[META_KEY] = {"code_sha256": code_digest(nb), "generated_by": REGENERATE}
    nbformat.validate(nb)
    nbformat.write(nb, str(path))


def _cells(nb) -> dict[str, Any]:
    return {cell.get("id", str(i)): cell for i, cell in enumerate(nb.cells)
            if cell.cell_type == "code"}


def numbers_text(nb) -> dict[str, str]:
    """Cell id -> the text printed (stdout) by each cell tagged ``lecture-numbers``."""
    out = {}
    for cid, cell in _cells(nb).items():
        if NUMBERS_TAG in cell.metadata.get("tags", []):
            out[cid] = "".join(o.get("text", "") for o in cell.outputs
                               if o.get("output_type") == "stream" and o.get("name") == "stdout")
    return out


def output_kinds(nb) -> dict[str, list[str]]:
    """Cell id -> the sorted MIME types its outputs display (text/plain left out), "stdout",
    "stderr" for streams and "error" for a traceback."""
    out = {}
    for cid, cell in _cells(nb).items():
        kinds = set()
        for o in cell.outputs:
            kind = o.get("output_type")
            if kind == "stream":
                kinds.add(o.get("name", "stdout"))
            elif kind == "error":
                kinds.add("error")
            else:
                kinds.update(m for m in o.get("data", {}) if m != "text/plain")
        out[cid] = sorted(kinds)
    return out


def _close(stored: str, fresh: str) -> bool:
    """Two printed numbers agree within REL_TOL, LAST_DIGITS units of the stored last digit,
    or PERCENT_POINTS for percentages ("2.0%": a dead unit or a misclassified example more on
    another platform's BLAS after a chaotic too-high learning rate)."""
    if stored.endswith("%") != fresh.endswith("%"):
        return False
    if stored.endswith("%") and abs(float(stored[:-1]) - float(fresh[:-1])) <= PERCENT_POINTS:
        return True
    stored, fresh = stored.rstrip("%"), fresh.rstrip("%")
    a, b = float(stored), float(fresh)
    mantissa = re.split(r"[eE]", stored)[0]
    exponent = int(re.split(r"[eE]", stored)[1]) if re.search(r"[eE]", stored) else 0
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    unit = 10.0 ** (exponent - decimals)
    return math.isclose(a, b, rel_tol=REL_TOL) or abs(a - b) <= LAST_DIGITS * unit


def _compare_text(cid: str, stored: str, fresh: str) -> list[str]:
    """Line by line: the same words, and numbers that agree (``_close``)."""
    s_lines, f_lines = stored.splitlines(), fresh.splitlines()
    if len(s_lines) != len(f_lines):
        return [f"cell {cid!r}: {len(s_lines)} printed lines stored, {len(f_lines)} now"]
    problems = []
    for s, f in zip(s_lines, f_lines, strict=True):
        s_nums, f_nums = _NUMBER.findall(s), _NUMBER.findall(f)
        same_words = _NUMBER.sub("#", s) == _NUMBER.sub("#", f)
        if not (same_words and len(s_nums) == len(f_nums)
                and all(_close(a, b) for a, b in zip(s_nums, f_nums, strict=True))):
            problems.append(f"cell {cid!r} printed\n    stored: {s}\n    now:    {f}")
    return problems


def compare(stored, fresh) -> list[str]:
    """What differs between the stored notebook and a fresh run of it (empty: up to date).

    Checks: the stored outputs were made by the stored code (the digest); the two have the same
    code cells; every cell shows the same kinds of output; the cells tagged lecture-numbers
    print the same lines with numbers within the tolerance.
    """
    problems = []
    recorded = stored.metadata.get(META_KEY, {}).get("code_sha256")
    if recorded != code_digest(stored):
        problems.append("the stored outputs were not made by the stored code cells (edited or "
                        "run by hand since the last run of the tool)")
    if code_digest(fresh) != code_digest(stored):
        problems.append("the executed notebook's code cells differ from the stored ones")
    s_kinds, f_kinds = output_kinds(stored), output_kinds(fresh)
    for cid in f_kinds:
        if s_kinds.get(cid) != f_kinds[cid]:
            problems.append(f"cell {cid!r} shows {f_kinds[cid]} now, {s_kinds.get(cid)} stored")
    s_text = numbers_text(stored)
    for cid, text in numbers_text(fresh).items():
        problems += _compare_text(cid, s_text.get(cid, ""), text)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", nargs="?", default=str(NOTEBOOK), help="the notebook")
    parser.add_argument("--check", action="store_true",
                        help="compare a fresh run with the stored outputs; write nothing")
    parser.add_argument("--sections", action="store_true",
                        help="with --check: run each section in its own kernel after the setup")
    args = parser.parse_args(argv)
    if args.sections and not args.check:
        parser.error("--sections only checks (the stored notebook is one top-to-bottom run): "
                     "add --check")
    import nbformat

    stored = nbformat.read(args.notebook, as_version=4)
    if args.sections:
        fresh, seconds, _ = execute_sections(args.notebook)
        print(f"executed the {len(sections(fresh))} sections of {args.notebook}, each in its "
              f"own kernel, in {seconds:.1f} s")
    else:
        fresh, seconds = execute(args.notebook)
        print(f"executed {args.notebook} in {seconds:.1f} s")
    if args.check:
        problems = compare(stored, fresh)
        for p in problems:
            print(p)
        print("up to date" if not problems else f"stale: run {REGENERATE}")
        return 1 if problems else 0
    save(fresh, args.notebook)
    size = os.path.getsize(args.notebook) / 1024
    print(f"saved {args.notebook} with its outputs ({size:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
