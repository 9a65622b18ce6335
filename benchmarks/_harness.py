"""The timing protocol every benchmark shares: pinned threads, alternating rounds, paired ratios.

Import this module first, before numpy or torch: it pins the thread count of every BLAS and
OpenMP pool through the environment (``--threads N``, default 1) and puts the checkout's
``tinygrad_lite`` first on ``sys.path``, so the code measured is the code beside it.

Protocol (``compare``):

* each case is one zero-argument callable that runs the workload once;
* each case is warmed up, then calibrated to ``number`` calls per timing (at least
  ``min_time`` seconds, so a timing is never a single clock tick);
* ``rounds`` rounds follow; in each, every case is timed once, in an order that rotates from
  round to round, after a ``gc.collect()`` so each starts from the same heap. The garbage
  collector stays on during a timing (unlike ``timeit``): its cost is part of what users pay;
* per case: median, min and max over rounds of the time per call; the ratio against the
  baseline is the median over rounds of (case / baseline) within the same round, so slow
  drift of a shared machine cancels out;
* with ``gc_raised`` (the default), every case is also timed in every round with the
  collector's first threshold raised to ``GC_RAISED`` (``gc.set_threshold(100_000)``, restored
  after each timing), right before or after its default timing (the order alternates), and
  paired with the baseline timed the same way: ``Row.ratio_gc``. So no ratio is only a story
  about CPython's garbage collector.

Memory is measured in a fresh process per system (``run_child``): peak resident set size
(VmHWM, reset after imports through /proc/self/clear_refs where Linux allows it) minus the
resident set size after imports.
"""
from __future__ import annotations

import os
import sys

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "BLIS_NUM_THREADS")


def _threads_from_argv(argv) -> int:
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            return int(argv[i + 1])
        if a.startswith("--threads="):
            return int(a.split("=", 1)[1])
    return int(os.environ.get("BENCH_THREADS", "1"))


def _clock_from_argv(argv) -> str:
    for i, a in enumerate(argv):
        if a == "--clock" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--clock="):
            return a.split("=", 1)[1]
    return os.environ.get("BENCH_CLOCK", "wall")


THREADS = _threads_from_argv(sys.argv)
CLOCK = _clock_from_argv(sys.argv)
os.environ["BENCH_CLOCK"] = CLOCK
for _var in _THREAD_VARS:  # before numpy and torch are imported: their pools read these once
    os.environ[_var] = str(THREADS)
os.environ["BENCH_THREADS"] = str(THREADS)  # children inherit the same pinning

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

if "numpy" in sys.modules or "torch" in sys.modules:  # pragma: no cover
    import warnings

    warnings.warn("benchmarks: numpy or torch was imported before _harness; the thread "
                  "pinning may not apply", stacklevel=2)

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from dataclasses import asdict, dataclass, field  # noqa: E402

MiB = 1024 * 1024
GC_RAISED = 100_000  # the collector's first threshold for the "GC raised" figures (default 700)


class gc_threshold:
    """Within the block, the collector's first threshold is ``first`` (None: unchanged)."""

    def __init__(self, first):
        self.first = first
        self.old = None

    def __enter__(self):
        if self.first is not None:
            self.old = gc.get_threshold()
            gc.set_threshold(self.first, *self.old[1:])
        return self

    def __exit__(self, *exc):
        if self.old is not None:
            gc.set_threshold(*self.old)
        return False


# -- optional peers ----------------------------------------------------------------------------
def import_torch():
    """torch pinned to THREADS threads, or None when the bench extra is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(THREADS)
    try:
        torch.set_num_interop_threads(THREADS)
    except RuntimeError:  # already set, or parallel work already started
        pass
    return torch


def import_micrograd():
    """micrograd's (engine, nn) modules, or None when the bench extra is not installed."""
    try:
        from micrograd import engine, nn
    except ImportError:
        return None
    return engine, nn


# -- results ----------------------------------------------------------------------------------
@dataclass
class Row:
    """One line of a table: a case's time per call over the rounds, and its paired ratio."""

    workload: str
    case: str
    median: float | None  # seconds per call (or the quantity in ``unit``)
    min: float | None = None
    max: float | None = None
    ratio: float | None = None  # median over rounds of case / baseline in the same round
    baseline: str | None = None
    unit: str = "s"
    rounds: int = 0
    number: int = 0
    note: str = ""
    extra: dict = field(default_factory=dict)
    median_gc: float | None = None  # the same with gc.set_threshold(GC_RAISED) for every case
    ratio_gc: float | None = None


@dataclass
class Target:
    """A performance target of the issue, and whether this run meets it: eager (``measured``)
    and, where the issue sets one, ``jit``; each also with the collector's first threshold
    raised for every system (``gc``, ``jit_gc``: reported beside, the limits judge the
    default collector)."""

    workload: str
    text: str
    measured: float | None
    limit: float | None
    met: bool | None  # None: not measurable in this run (a peer is missing), or no limit
    note: str = ""
    gc: float | None = None
    jit: float | None = None
    jit_limit: float | None = None
    jit_met: bool | None = None
    jit_gc: float | None = None


def check_jit(name, eager, jitted, steps=5):
    """The jit's losses over ``steps`` steps (two recorded, then replays) equal eager's exactly,
    from the same weights: a broken replay stops the benchmark instead of looking fast."""
    want = [eager() for _ in range(steps)]
    got = [jitted() for _ in range(steps)]
    if got != want:
        raise AssertionError(f"{name}: jit losses {got} differ from eager's {want}")


def target(workload, text, eager, limit, note="", gc=None, jit=None, jit_limit=None,
           jit_gc=None):
    """A Target judged against its limits (eager, and jit where given)."""
    return Target(workload, text, eager, limit, ratio_ok(eager, limit), note, gc, jit, jit_limit,
                  ratio_ok(jit, jit_limit), jit_gc)


def ratio_ok(measured, limit):
    """True/False against an upper limit; None when either side is missing."""
    if measured is None or limit is None:
        return None
    return measured <= limit


# -- timing -----------------------------------------------------------------------------------
def _now():
    """The clock of the run: wall time (perf_counter), or this process's CPU time with
    ``--clock cpu`` (process_time: steadier on a shared machine, blind to time spent waiting)."""
    return time.process_time() if CLOCK == "cpu" else time.perf_counter()


def _time_once(fn, number, gc_times=None, threshold=None):
    gc.collect()
    with gc_threshold(threshold):
        return _time_calls(fn, number, gc_times)


def _time_calls(fn, number, gc_times):
    now = _now
    if gc_times is not None:
        with GCTimer() as gct:
            t0 = now()
            for _ in range(number):
                fn()
            t = now() - t0
        gc_times.append(gct.seconds / number)
        return t / number
    t0 = now()
    for _ in range(number):
        fn()
    return (now() - t0) / number


def _calibrate(fn, min_time):
    """Calls per timing so that one timing lasts at least min_time seconds."""
    number = 1
    while True:
        t = _time_once(fn, number)
        if t * number >= min_time or number >= 1 << 20:
            return number
        number = max(number * 2, int(min_time / max(t, 1e-9) * 1.2) + 1)


def compare(workload, cases, baseline=None, rounds=7, min_time=0.2, warmup=1, unit="s",
            per=1, progress=True, gc_share=False, gc_raised=True):
    """Time every case in alternating rounds; return one Row per case.

    cases: dict name -> zero-argument callable (one run). baseline: the name to divide by.
    per: divide each time by this (e.g. the number of ops, for a time per op).
    gc_share: also measure the time spent in the cyclic garbage collector (noted per row).
    gc_raised: also time every case with the collector's first threshold at GC_RAISED, in the
    same rounds (Row.median_gc, Row.ratio_gc; the times in extra["times_gc"]).
    """
    names = list(cases)
    for name in names:
        for _ in range(warmup):
            cases[name]()
    number = {name: _calibrate(cases[name], min_time) for name in names}
    times = {name: [] for name in names}
    times_gc = {name: [] for name in names}
    gc_times = {name: [] if gc_share else None for name in names}
    for r in range(rounds):
        k = r % len(names)
        order = names[k:] + names[:k]  # rotate: no case always runs first or last
        if r % 2:
            order.reverse()
        for name in order:
            if gc_raised and r % 2:  # raised first in odd rounds, second in even ones
                times_gc[name].append(_time_once(cases[name], number[name], None, GC_RAISED) / per)
            times[name].append(_time_once(cases[name], number[name], gc_times[name]) / per)
            if gc_raised and not r % 2:
                times_gc[name].append(_time_once(cases[name], number[name], None, GC_RAISED) / per)
        if progress:
            _progress(workload, r + 1, rounds)
    rows = []
    for name in names:
        ts = times[name]
        ratio = None
        if baseline is not None and baseline in times:
            ratio = statistics.median(t / b for t, b in zip(ts, times[baseline], strict=True))
        row = Row(workload, name, statistics.median(ts), min(ts), max(ts), ratio,
                  baseline, unit, rounds, number[name], extra={"times": ts})
        if gc_raised:
            tg = times_gc[name]
            row.extra["times_gc"] = tg
            row.median_gc = statistics.median(tg)
            if baseline is not None and baseline in times:
                row.ratio_gc = statistics.median(
                    t / b for t, b in zip(tg, times_gc[baseline], strict=True))
        if gc_share:
            share = statistics.median(g / per / t for g, t in zip(gc_times[name], ts, strict=True))
            row.extra["gc_share"] = share
            row.note = f"{share:.0%} in the cyclic GC"
        rows.append(row)
    return rows


def paired_median(rows, fn, key="times"):
    """Median over rounds of fn(times of each row in that round): a paired statistic.
    key="times_gc": the same over the timings with the collector's threshold raised."""
    per_round = zip(*(r.extra[key] for r in rows), strict=True)
    return statistics.median(fn(*ts) for ts in per_round)


def _progress(what, i, n):
    if not sys.stderr.isatty():
        return
    width = 30
    done = int(width * i / n)
    sys.stderr.write(f"\r{what}: [{'#' * done}{'.' * (width - done)}] {i}/{n}")
    if i == n:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _paired_ratio(values, baseline_values):
    if not baseline_values:
        return None
    pairs = [(v, b) for v, b in zip(values, baseline_values, strict=True)
             if v is not None and b]
    return statistics.median(v / b for v, b in pairs) if pairs else None


def summarize(workload, case, values, baseline_values=None, baseline=None, unit="s", note="",
              extra=None, values_gc=None, baseline_values_gc=None):
    """A Row from values measured elsewhere (e.g. one per child process), paired by round;
    values_gc: the same measured with the collector's first threshold raised."""
    vals = [v for v in values if v is not None]
    if not vals:
        return Row(workload, case, None, unit=unit, note=note, extra=extra or {})
    row = Row(workload, case, statistics.median(vals), min(vals), max(vals),
              _paired_ratio(values, baseline_values), baseline, unit, len(vals), 1, note,
              extra or {})
    if values_gc:
        gvals = [v for v in values_gc if v is not None]
        row.median_gc = statistics.median(gvals) if gvals else None
        row.ratio_gc = _paired_ratio(values_gc, baseline_values_gc)
    return row


class GCTimer:
    """Time spent in the cyclic garbage collector while active (gc.callbacks), and the
    number of full (generation 2) collections: the part of a time that is CPython's, not ours."""

    def __init__(self):
        self.seconds = 0.0
        self.full = 0
        self._t0 = 0.0

    def _cb(self, phase, info):
        if phase == "start":
            self._t0 = _now()
        else:
            self.seconds += _now() - self._t0
            self.full += info["generation"] == 2

    def __enter__(self):
        gc.callbacks.append(self._cb)
        return self

    def __exit__(self, *exc):
        gc.callbacks.remove(self._cb)
        return False


# -- memory, in a child process --------------------------------------------------------------
def _status_kib(key):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def trim():
    """Collect garbage and hand freed heap pages back to the system (glibc's malloc_trim), so
    memory freed before a measurement does not stay resident and hide or inflate its growth."""
    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


class PeakRSS:
    """Peak resident memory of this process from now on, in MiB above the current RSS.

    Uses VmHWM after resetting it through /proc/self/clear_refs (Linux >= 4.0); elsewhere falls
    back to ru_maxrss, which then includes any earlier, higher peak (reported as approximate).
    Starts with ``trim()``.
    """

    def __init__(self):
        trim()
        self.exact = False
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            self.exact = _status_kib("VmHWM") is not None
        except OSError:
            pass
        self.start_kib = _status_kib("VmRSS") if self.exact else _maxrss_kib()

    def growth_mib(self):
        peak = _status_kib("VmHWM") if self.exact else _maxrss_kib()
        return (peak - self.start_kib) / 1024


def _maxrss_kib():
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r // 1024 if sys.platform == "darwin" else r


def child_report(payload: dict):
    """In a child process: print the one JSON line run_child reads back."""
    sys.stdout.write("@@RESULT " + json.dumps(payload) + "\n")
    sys.stdout.flush()


def run_child(script, args, timeout=None):
    """Run ``python script --child args...`` in a fresh process; return its JSON payload.

    A failure (non-zero exit, timeout, no payload) comes back as {"error": "..."}.
    """
    cmd = [sys.executable, script, "--threads", str(THREADS), "--clock", CLOCK, "--child",
           *map(str, args)]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    for line in p.stdout.splitlines():
        if line.startswith("@@RESULT "):
            return json.loads(line[len("@@RESULT "):])
    tail = (p.stderr or p.stdout).strip().splitlines()[-1:] or ["no output"]
    return {"error": f"exit {p.returncode}: {tail[0][:200]}"}


# -- output -----------------------------------------------------------------------------------
def fmt_time(t):
    if t is None:
        return "n/a"
    if t >= 1:
        return f"{t:.3g} s"
    if t >= 1e-3:
        return f"{t * 1e3:.3g} ms"
    return f"{t * 1e6:.3g} us"


def fmt_value(v, unit):
    if v is None:
        return "n/a"
    if unit == "s":
        return fmt_time(v)
    if unit == "MiB":
        return f"{v:.1f} MiB"
    return f"{v:.4g} {unit}"


def table(rows) -> str:
    """Rows as a Markdown table: median, min, max, ratio against the baseline of the run."""
    lines = ["| workload | case | median | min | max | ratio | baseline | median, GC raised | "
             "ratio, GC raised | rounds x calls | note |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r.workload} | {r.case} | {fmt_value(r.median, r.unit)} | "
            f"{fmt_value(r.min, r.unit)} | {fmt_value(r.max, r.unit)} | {_x(r.ratio)} | "
            f"{r.baseline or ''} | {fmt_value(r.median_gc, r.unit) if r.median_gc else ''} | "
            f"{_x(r.ratio_gc, '')} | {r.rounds} x {r.number} | {r.note} |")
    return "\n".join(lines)


def _x(v, missing="n/a", suffix="x"):
    return missing if v is None else f"{v:.3g}{suffix}"


def _met(met, limit):
    if limit is None and met is None:
        return ""
    return {True: "yes", False: "**no**", None: "n/a"}[met]


def target_table(targets) -> str:
    """Eager and jit side by side, each against its limit, and each with the collector's first
    threshold raised for every system (GC raised)."""
    lines = ["| workload | target | eager | limit | met | jit | limit | met | eager, GC raised | "
             "jit, GC raised | note |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for t in targets:
        has_jit = t.jit is not None or t.jit_limit is not None
        lines.append(
            f"| {t.workload} | {t.text} | {_x(t.measured, suffix='')} | {_x(t.limit, '', '')} | "
            f"{_met(t.met, t.limit)} | {_x(t.jit, 'n/a' if has_jit else '', '')} | "
            f"{_x(t.jit_limit, '', '')} | {_met(t.jit_met, t.jit_limit)} | "
            f"{_x(t.gc, '', '')} | {_x(t.jit_gc, '', '')} | {t.note} |")
    return "\n".join(lines)


def parser(description):
    """The command line every benchmark accepts."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--threads", type=int, default=THREADS,
                   help="threads for every BLAS/OpenMP pool and torch (default 1)")
    p.add_argument("--rounds", type=int, default=None,
                   help="alternating rounds (default: per workload)")
    p.add_argument("--quick", action="store_true",
                   help="fewer rounds and smaller sizes (a smoke run)")
    p.add_argument("--clock", choices=("wall", "cpu"), default=CLOCK,
                   help="wall time (default) or this process's CPU time (steadier when shared)")
    p.add_argument("--json", default=None, help="also write the rows and targets to this JSON file")
    p.add_argument("--child", nargs=argparse.REMAINDER, default=None, help=argparse.SUPPRESS)
    return p


def finish(args, title, rows, targets=(), notes=()):
    """Print the tables; write JSON when asked. Returns the payload."""
    print(f"## {title}\n")
    print(f"threads: {THREADS}, clock: {CLOCK}\n")
    print(table(rows))
    if targets:
        print()
        print(target_table(targets))
    for n in notes:
        print(f"\n{n}")
    print()
    payload = {"title": title, "threads": THREADS, "clock": CLOCK,
               "rows": [asdict(r) for r in rows], "targets": [asdict(t) for t in targets],
               "notes": list(notes)}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(payload, f, indent=1)
    return payload


def find(rows, case, workload=None):
    """The row of a case, in a given workload if named (None when absent)."""
    return next((r for r in rows if r.case == case
                 and (workload is None or r.workload == workload)), None)
