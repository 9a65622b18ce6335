"""Workload (f): peak memory of 50 training steps of the MLP of (c), with batch norm.

MLP 3072-512-512-10 with batch norm between each hidden affine layer and its ReLU, batch
256, softmax cross-entropy, SGD. Each system runs in its own process: imports, data, model
and optimizer first; then freed memory goes back to the system (malloc_trim) and the peak
resident set is reset; the figure is the peak during the 50 steps above the resident set at
that point. Lazy allocations of the first step (BLAS work buffers, a framework's caches) count.
Rounds alternate the systems; the baseline is numpy by hand. Every system also runs with the
collector's first threshold raised (gc.set_threshold(100_000)) in the same rounds: the
"GC raised" ratio. Eager only: the issue sets no jit target for memory.

Run: python benchmarks/bench_memory.py [--threads 1] [--rounds N] [--quick] [--json out.json]
"""
import _harness as H  # first: pins the thread count before numpy is imported

# isort: split

import gc  # noqa: E402
import time  # noqa: E402

import bench_mlp  # noqa: E402
import numpy as np  # noqa: E402

STEPS = 50
SYSTEMS = ("numpy by hand", "tinygrad_lite", "PyTorch")


def child(args):
    system, dtype, steps = args[0], np.dtype(args[1]), int(args[2])
    if len(args) > 3:  # the collector's first threshold for this run
        gc.set_threshold(int(args[3]), *gc.get_threshold()[1:])
    torch = None
    if system == "PyTorch":
        torch = H.import_torch()
    else:
        import tinygrad_lite.functional  # noqa: F401
        import tinygrad_lite.nn  # noqa: F401
        import tinygrad_lite.optim  # noqa: F401
    X, y, weights = bench_mlp.make_problem(dtype)
    if system == "numpy by hand":
        step = bench_mlp.numpy_case(X, y, weights, batchnorm=True)
    elif system == "tinygrad_lite":
        step = bench_mlp.ours_case(X, y, weights, batchnorm=True)
    else:
        step = bench_mlp.torch_case(torch, X, y, weights, batchnorm=True)
    peak = H.PeakRSS()
    t0 = time.perf_counter()
    losses = [step() for _ in range(steps)]
    H.child_report({"mem_mib": peak.growth_mib(), "exact_mem": peak.exact,
                    "seconds": time.perf_counter() - t0, "first_loss": losses[0],
                    "last_loss": losses[-1]})


def main(argv=None):
    args = H.parser(__doc__.splitlines()[0]).parse_args(argv)
    if args.child is not None:
        return child(args.child)
    have_torch = H.import_torch() is not None
    systems = [s for s in SYSTEMS if s != "PyTorch" or have_torch]
    rounds = args.rounds or (1 if args.quick else 3)
    steps = 5 if args.quick else STEPS
    rows, targets = [], []
    for dtype in ("float32", "float64"):
        runs = {s: [] for s in systems}
        runs_gc = {s: [] for s in systems}
        for r in range(rounds):
            k = r % len(systems)
            for s in systems[k:] + systems[:k]:
                for threshold in ((None, H.GC_RAISED) if r % 2 else (H.GC_RAISED, None)):
                    extra = [threshold] if threshold else []
                    (runs_gc if threshold else runs)[s].append(
                        H.run_child(__file__, [s, dtype, steps, *extra], timeout=900))
            H._progress(f"(f) memory {dtype}", r + 1, rounds)
        ref = [x.get("first_loss") for x in runs["numpy by hand"]]
        for s in systems:
            for x, want in zip(runs[s] + runs_gc[s], ref + ref, strict=True):
                if ("error" not in x and want is not None
                        and not np.isclose(x["first_loss"], want, rtol=1e-4)):
                    x.clear()
                    x["error"] = f"first loss {x.get('first_loss')!r} differs from numpy's {want!r}"
        base = [x.get("mem_mib") for x in runs["numpy by hand"]]
        base_gc = [x.get("mem_mib") for x in runs_gc["numpy by hand"]]
        for s in systems:
            errors = [x["error"] for x in runs[s] + runs_gc[s] if "error" in x]
            row = H.summarize(f"(f) memory, {steps} steps, {dtype}", s,
                              [x.get("mem_mib") for x in runs[s]], base, "numpy by hand", "MiB",
                              note=errors[0] if errors else "",
                              values_gc=[x.get("mem_mib") for x in runs_gc[s]],
                              baseline_values_gc=base_gc)
            rows.append(row)
        ours = H.find(rows, "tinygrad_lite", f"(f) memory, {steps} steps, {dtype}")
        pt = H.find(rows, "PyTorch", f"(f) memory, {steps} steps, {dtype}")
        targets.append(H.target("(f)", f"peak memory growth, {dtype} / numpy by hand's", ours.ratio,
                                1.3, f"PyTorch: {pt.ratio:.3g}x" if pt and pt.ratio else "",
                                ours.ratio_gc))
    return H.finish(args, "(f) peak memory of 50 steps of (c) with batch norm", rows, targets,
                    notes=["One process per system and round: peak RSS during the steps (VmHWM "
                           "reset after imports, data and model) minus the RSS at that point."])


if __name__ == "__main__":
    main()
