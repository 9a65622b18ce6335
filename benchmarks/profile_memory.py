"""Where the peak memory of a training step of (f) is reached, line by line.

The evidence behind (f)'s closing note. One step of the MLP of (c) with batch norm runs under
a line tracer that records, for every executed line, the peak of traced numpy/Python memory
(tracemalloc) while that line ran, above the traced memory at the start of the step (the
second step: the first allocates what later steps reuse; what it leaves, such as the
parameters' gradients kept until the next zero_grad(), is part of the start). The lines with
the highest peaks show which allocation sets the step's peak, for tinygrad_lite and for numpy
by hand. (BLAS work buffers are not traced: they are the same for both.)

Run: python benchmarks/profile_memory.py [--dtype float64] [--top 8]
"""
import _harness as H  # first: pins the thread count before numpy is imported

# isort: split

import linecache  # noqa: E402
import sys  # noqa: E402
import tracemalloc  # noqa: E402

import bench_mlp  # noqa: E402
import numpy as np  # noqa: E402


def line_peaks(step):
    """({(filename, line): peak MiB above the start}, MiB left by the first step)."""
    tracemalloc.start()  # before the first step: what the second frees was traced too
    step()  # the first step allocates what every later step reuses
    H.trim()
    base = tracemalloc.get_traced_memory()[0]
    peaks = {}
    last = [None]

    def tracer(frame, event, arg):
        if event in ("line", "return"):
            _, peak = tracemalloc.get_traced_memory()
            if last[0] is not None:
                peaks[last[0]] = max(peaks.get(last[0], 0.0), (peak - base) / H.MiB)
            tracemalloc.reset_peak()
            code = frame.f_code
            last[0] = (code.co_filename, frame.f_lineno) if event == "line" else None
        return tracer

    sys.settrace(tracer)
    try:
        step()
    finally:
        sys.settrace(None)
        tracemalloc.stop()
    return peaks, base / H.MiB


def main(argv=None):
    p = H.parser(__doc__.splitlines()[0])
    p.add_argument("--dtype", default="float64", choices=("float32", "float64"))
    p.add_argument("--top", type=int, default=6)
    args = p.parse_args(argv)
    X, y, weights = bench_mlp.make_problem(np.dtype(args.dtype))
    for name, make in (("tinygrad_lite", bench_mlp.ours_case),
                       ("numpy by hand", bench_mlp.numpy_case)):
        peaks, left = line_peaks(make(X, y, weights, batchnorm=True))
        print(f"\n## {name}, {args.dtype}: lines with the highest traced peak (MiB above the "
              f"step's start)\n")
        print(f"Left alive by the previous step (part of the start): {left:.1f} MiB\n")
        print("| peak MiB | file:line | code |\n|---|---|---|")
        for (fname, line), mib in sorted(peaks.items(), key=lambda kv: -kv[1])[:args.top]:
            code = linecache.getline(fname, line).strip().replace("|", "\\|")[:80]
            short = "/".join(fname.replace("\\", "/").split("/")[-2:])
            print(f"| {mib:.1f} | {short}:{line} | `{code}` |")


if __name__ == "__main__":
    main()
