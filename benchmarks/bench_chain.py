"""Workload (b): a deep scalar chain, y = tanh(0.9 * y + 0.1) repeated N times.

For N = 1e3 ... 1e6 (three ops per step), each system builds the chain and backpropagates
from its end, in its own process: build time, backward time and peak memory (peak resident
set above the resident set after imports). Rounds alternate the systems; the baseline is
PyTorch. micrograd's backward is recursive and stops with RecursionError past a few hundred
steps, which the table reports. At the largest N every system also runs with the collector's
first threshold raised (gc.set_threshold(100_000)), in the same rounds: the "GC raised" ratios.
Eager only: the issue sets no jit target for the chain.

Run: python benchmarks/bench_chain.py [--threads 1] [--rounds N] [--quick] [--json out.json]
"""
import _harness as H  # first: pins the thread count before numpy is imported

# isort: split

import gc  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402

SYSTEMS = ("PyTorch", "tinygrad_lite", "micrograd")


def build_and_backward(system, n):
    """Build the chain of n steps and backpropagate.

    Returns (build s, backward s, dy/dx, seconds of the build spent in the garbage collector).
    """
    if system == "tinygrad_lite":
        from tinygrad_lite import Value

        x = Value(0.5)
    elif system == "micrograd":
        from micrograd.engine import Value

        if not hasattr(Value, "tanh"):  # the pip release has relu only
            Value.tanh = _micrograd_tanh
        x = Value(0.5)
    else:
        torch = H.import_torch()
        x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    now = H._now
    with H.GCTimer() as gct:
        t0 = now()
        y = x
        for _ in range(n):
            y = (0.9 * y + 0.1).tanh()
        t1 = now()
    y.backward()
    t2 = now()
    g = float(x.grad)
    return t1 - t0, t2 - t1, g, gct.seconds


def _micrograd_tanh(self):
    """tanh for micrograd's Value, in micrograd's own pattern (as in its lecture version)."""
    import math

    from micrograd.engine import Value

    t = math.tanh(self.data)
    out = Value(t, (self,), "tanh")

    def _backward():
        self.grad += (1 - t * t) * out.grad

    out._backward = _backward
    return out


def child(args):
    system, n = args[0], int(float(args[1]))
    if len(args) > 2:  # the collector's first threshold for this run
        gc.set_threshold(int(args[2]), *gc.get_threshold()[1:])
    if system == "PyTorch":
        H.import_torch()  # imports count in the baseline, not in the growth
    elif system == "micrograd":
        import micrograd.engine  # noqa: F401
    else:
        import tinygrad_lite  # noqa: F401
    sys.setrecursionlimit(1000)  # the default: what users of micrograd get
    peak = H.PeakRSS()
    try:
        build, back, g, gc_s = build_and_backward(system, n)
    except RecursionError:
        H.child_report({"error": "RecursionError"})
        return
    H.child_report({"build": build, "build_gc": gc_s, "backward": back, "grad": g,
                    "mem_mib": peak.growth_mib(),
                    "exact_mem": peak.exact})


def expected_grad(n):
    """d y_n / d x for the chain, by the chain rule on floats (checks every system)."""
    y, g = 0.5, 1.0
    for _ in range(n):
        y = math.tanh(0.9 * y + 0.1)
        g *= 0.9 * (1.0 - y * y)
    return g


def _loglog_slope(points):
    """Least-squares slope of log(cost) against log(N)."""
    if len(points) < 2:
        return None
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(c) for _, c in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    cov = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    return cov / sum((x - mx) ** 2 for x in xs)


def main(argv=None):
    args = H.parser(__doc__.splitlines()[0]).parse_args(argv)
    if args.child is not None:
        return child(args.child)
    sizes = [1000, 10_000, 100_000] if args.quick else [1000, 10_000, 100_000, 1_000_000]
    rounds = args.rounds or (1 if args.quick else 3)
    have_torch = H.import_torch() is not None
    have_mg = H.import_micrograd() is not None
    systems = [s for s in SYSTEMS
               if (s != "PyTorch" or have_torch) and (s != "micrograd" or have_mg)]
    rows, per_op, targets = [], {}, []
    for n in sizes:
        want = expected_grad(n)
        runs = {s: [] for s in systems}
        runs_gc = {s: [] for s in systems}
        raised = n == sizes[-1]
        for r in range(rounds):
            order = systems[r % len(systems):] + systems[:r % len(systems)]
            for s in order:
                if s == "micrograd" and n > 1000:
                    continue  # it already failed at n = 1000: deeper chains fail the same way
                for threshold in ((None, H.GC_RAISED) if r % 2 else (H.GC_RAISED, None)):
                    if threshold and not raised:
                        continue
                    extra = [threshold] if threshold else []
                    res = H.run_child(__file__, [s, n, *extra], timeout=1800)
                    if "error" not in res and abs(res["grad"] - want) > 1e-6 * abs(want) + 1e-300:
                        res = {"error": f"wrong gradient {res['grad']!r} (expected {want!r})"}
                    (runs_gc if threshold else runs)[s].append(res)
            H._progress(f"(b) chain N={n}", r + 1, rounds)
        base = runs.get("PyTorch") or [{}] * rounds
        base_gc = runs_gc.get("PyTorch") or [{}] * rounds
        for s in systems:
            ok = [x for x in runs[s] if "error" not in x]
            if not runs[s]:
                continue
            if not ok:
                rows.append(H.Row(f"(b) chain N={n:.0e}", s, None, note=runs[s][0]["error"]))
                continue
            for key, unit in (("build", "s"), ("build_gc", "s"), ("backward", "s"),
                              ("mem_mib", "MiB")):
                vals = [x.get(key) for x in runs[s]]
                bvals = [x.get(key) for x in base] if have_torch else None
                gvals = [x.get(key) for x in runs_gc[s]] if raised else None
                bgvals = [x.get(key) for x in base_gc] if raised and have_torch else None
                name = {"build_gc": "build, of which cyclic GC", "mem_mib": "memory"}.get(key, key)
                row = H.summarize(f"(b) chain N={n:.0e}", f"{s} {name}",
                                  vals, bvals, "PyTorch" if bvals else None, unit,
                                  values_gc=gvals, baseline_values_gc=bgvals)
                rows.append(row)
                per_op[(s, key, n)] = row.median / n if row.median is not None else None
                per_op[(s, key, n, "ratio")] = row.ratio
                per_op[(s, key, n, "ratio_gc")] = row.ratio_gc
    big = sizes[-1]
    fit = [n for n in sizes if n >= 10_000]
    for n in fit:  # the build without the collector's share: the engine's own cost
        b = per_op.get(("tinygrad_lite", "build", n))
        g = per_op.get(("tinygrad_lite", "build_gc", n))
        per_op[("tinygrad_lite", "build_nogc", n)] = (
            b - g if b is not None and g is not None else None)
    for key, what in (("build", "build time"), ("build_nogc", "build time less cyclic GC"),
                      ("backward", "backward time"), ("mem_mib", "peak memory")):
        pts = [(n, per_op.get(("tinygrad_lite", key, n))) for n in fit]
        slope = _loglog_slope([(n, c * n) for n, c in pts if c]) if all(c for _, c in pts) else None
        targets.append(H.target("(b)", f"{what}: slope of log(cost) on log(N), N={fit[0]:.0e}.."
                                f"{fit[-1]:.0e} (linear: 1, quadratic: 2)", slope, 1.1))
    for key, what in (("build", "build time"), ("backward", "backward time"),
                      ("mem_mib", "peak memory")):
        r = per_op.get(("tinygrad_lite", key, big, "ratio"))
        targets.append(H.target("(b)", f"{what} at N={big:.0e} / PyTorch's", r, 1.0,
                                "" if have_torch else "torch not installed",
                                per_op.get(("tinygrad_lite", key, big, "ratio_gc"))))
    done = any(r.case.startswith("tinygrad_lite") and r.median is not None
               and f"{big:.0e}" in r.workload for r in rows)
    targets.insert(0, H.Target("(b)", f"chain of N={big:.0e} completes (1: yes)",
                               1.0 if done else 0.0, None, done))
    return H.finish(args, "(b) deep chain y = tanh(0.9 y + 0.1), N times", rows, targets,
                    notes=["One process per system, size and round; memory is peak RSS above the "
                           "RSS after imports. Linearity: the slope of log(cost) against log(N) "
                           "for N >= 1e4 (1e3 is dominated by fixed costs)."])


if __name__ == "__main__":
    main()
