"""Workload (d): 200 chained elementwise ops on a (16, 16) array: the cost of one op.

y = x; then 200 times, in turn: y = y * 1.01, y = y + 0.01, y = tanh(y); then backward from
y.sum(). On arrays this small the arithmetic is a few hundred nanoseconds, so the time per op
is the engine's overhead: building the node, dispatching forward and backward. numpy by hand
(forward, then the backward formulas written out) and PyTorch run the same chain; the
baseline is PyTorch.

Run: python benchmarks/bench_elementwise.py [--threads 1] [--rounds N] [--quick] [--json out.json]
"""
import _harness as H  # first: pins the thread count before numpy is imported

# isort: split

import numpy as np  # noqa: E402

N_OPS = 200
SHAPE = (16, 16)
MUL, ADD = 1.01, 0.01


def ours_case(x0):
    from tinygrad_lite import Value

    def run():
        x = Value(x0)
        y = x
        for i in range(N_OPS):
            k = i % 3
            if k == 0:
                y = y * MUL
            elif k == 1:
                y = y + ADD
            else:
                y = y.tanh()
        y.sum().backward()
        return x.grad

    return run


def torch_case(torch, x0):
    def run():
        x = torch.tensor(x0, requires_grad=True)
        y = x
        for i in range(N_OPS):
            k = i % 3
            if k == 0:
                y = y * MUL
            elif k == 1:
                y = y + ADD
            else:
                y = y.tanh()
        y.sum().backward()
        return x.grad.numpy()

    return run


def numpy_case(x0):
    def run():
        y = x0
        outs = []  # what backward needs: tanh's outputs
        for i in range(N_OPS):
            k = i % 3
            if k == 0:
                y = y * MUL
            elif k == 1:
                y = y + ADD
            else:
                y = np.tanh(y)
                outs.append(y)
        dy = np.ones_like(y)
        for i in reversed(range(N_OPS)):
            k = i % 3
            if k == 0:
                dy = dy * MUL
            elif k == 2:
                t = outs.pop()
                dy = dy * (1 - t * t)
        return dy

    return run


def main(argv=None):
    args = H.parser(__doc__.splitlines()[0]).parse_args(argv)
    torch = H.import_torch()
    x0 = np.random.default_rng(0).standard_normal(SHAPE)
    cases = {"numpy by hand": numpy_case(x0), "tinygrad_lite": ours_case(x0)}
    if torch:
        cases = {"PyTorch": torch_case(torch, x0), **cases}
    ref = cases["numpy by hand"]()
    for k, run in cases.items():
        if not np.allclose(run(), ref, rtol=1e-10, atol=1e-12):
            raise AssertionError(f"elementwise: {k} computes a different gradient")
    rows = H.compare("(d) 200 elementwise ops (16, 16), per op", cases,
                     baseline="PyTorch" if torch else "numpy by hand",
                     rounds=args.rounds or (5 if args.quick else 21),
                     min_time=0.05 if args.quick else 0.2, per=N_OPS)
    ours = H.find(rows, "tinygrad_lite")
    overhead = None
    if torch:
        hand, pt = H.find(rows, "numpy by hand"), H.find(rows, "PyTorch")
        # overhead per op: the time above the same arithmetic written out by hand, per round
        overhead = H.paired_median([ours, hand, pt], lambda o, h, p: (o - h) / (p - h))
        ours.extra["overhead_ratio"] = overhead
        ours.note = f"overhead above numpy by hand: {overhead:.3g}x PyTorch's"
    targets = [H.Target("(d)", "overhead per op (time above numpy by hand's) / PyTorch's",
                        overhead, 0.5, H.ratio_ok(overhead, 0.5),
                        f"total time per op: {ours.ratio:.3g}x PyTorch's" if torch
                        else "torch not installed")]
    return H.finish(args, "(d) 200 chained elementwise ops on (16, 16): time per op", rows,
                    targets, notes=["Times are per op: one run (forward, sum, backward) / 200. "
                                    "Overhead per op = time per op minus numpy by hand's (the "
                                    "same arithmetic written out), paired by round."])


if __name__ == "__main__":
    main()
