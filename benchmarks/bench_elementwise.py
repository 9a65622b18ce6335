"""Workload (d): 200 chained elementwise ops on a (16, 16) array: the cost of one op.

y = x; then 200 times, in turn: y = y * 1.01, y = y + 0.01, y = tanh(y); then backward from
y.sum(). On arrays this small the arithmetic is a few hundred nanoseconds, so the time per op
is the engine's overhead: building the node, dispatching forward and backward. numpy by hand
(forward, then the backward formulas written out) and PyTorch run the same chain; the
baseline is PyTorch.

tinygrad_lite also runs the chain and its backward in a ``tinygrad_lite.jit`` function. The
jit refuses a Value that requires grad made inside the function, so there x is made once,
outside, and its .grad reset outside before each call; its gradient must equal eager's exactly.

Run: python benchmarks/bench_elementwise.py [--threads 1] [--rounds N] [--quick] [--json out.json]
"""
import _harness as H  # first: pins the thread count before numpy is imported

# isort: split

import numpy as np  # noqa: E402

N_OPS = 200
SHAPE = (16, 16)
MUL, ADD = 1.01, 0.01


def chain(y):
    """The N_OPS ops, in turn: * MUL, + ADD, tanh (for a Value or a torch tensor)."""
    for i in range(N_OPS):
        k = i % 3
        if k == 0:
            y = y * MUL
        elif k == 1:
            y = y + ADD
        else:
            y = y.tanh()
    return y


def ours_case(x0):
    from tinygrad_lite import Value

    def run():
        x = Value(x0)
        chain(x).sum().backward()
        return x.grad

    return run


def ours_jit_case(x0):
    from tinygrad_lite import Value, jit

    x = Value(x0.copy())

    @jit
    def chain_backward():
        chain(x).sum().backward()

    def run():
        x.zero_grad()
        chain_backward()
        return x.grad

    return run


def torch_case(torch, x0):
    def run():
        x = torch.tensor(x0, requires_grad=True)
        chain(x).sum().backward()
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
    cases = {"numpy by hand": numpy_case(x0), "tinygrad_lite": ours_case(x0),
             "tinygrad_lite jit": ours_jit_case(x0)}
    if torch:
        cases = {"PyTorch": torch_case(torch, x0), **cases}
    ref = cases["numpy by hand"]()
    for k, run in cases.items():
        if not np.allclose(run(), ref, rtol=1e-10, atol=1e-12):
            raise AssertionError(f"elementwise: {k} computes a different gradient")
    eager = cases["tinygrad_lite"]()
    for _ in range(4):  # recorded calls, then replays: the same gradient as eager, exactly
        if not np.array_equal(np.asarray(cases["tinygrad_lite jit"]()), np.asarray(eager)):
            raise AssertionError("elementwise: the jit's gradient differs from eager's")
    rows = H.compare("(d) 200 elementwise ops (16, 16), per op", cases,
                     baseline="PyTorch" if torch else "numpy by hand",
                     rounds=args.rounds or (5 if args.quick else 21),
                     min_time=0.05 if args.quick else 0.2, per=N_OPS)
    ours, oj = H.find(rows, "tinygrad_lite"), H.find(rows, "tinygrad_lite jit")
    over = {}  # (case, key) -> overhead per op / PyTorch's
    if torch:
        hand, pt = H.find(rows, "numpy by hand"), H.find(rows, "PyTorch")
        # overhead per op: the time above the same arithmetic written out by hand, per round
        for row in (ours, oj):
            for key in ("times", "times_gc"):
                over[row.case, key] = H.paired_median(
                    [row, hand, pt], lambda o, h, p: (o - h) / (p - h), key)
            row.extra["overhead_ratio"] = over[row.case, "times"]
            row.extra["overhead_ratio_gc"] = over[row.case, "times_gc"]
            row.note = (f"overhead above numpy by hand: {over[row.case, 'times']:.3g}x "
                        f"PyTorch's (GC raised: {over[row.case, 'times_gc']:.3g}x)")
        targets = [H.target("(d)", "overhead per op (time above numpy by hand's) / PyTorch's",
                            over["tinygrad_lite", "times"], 1.0,
                            f"total time per op: eager {ours.ratio:.3g}x, jit {oj.ratio:.3g}x "
                            f"PyTorch's", over["tinygrad_lite", "times_gc"],
                            over["tinygrad_lite jit", "times"], 0.3,
                            over["tinygrad_lite jit", "times_gc"])]
    else:
        targets = [H.target("(d)", "overhead per op (time above numpy by hand's) / PyTorch's",
                            None, 1.0, "torch not installed", jit_limit=0.3)]
    return H.finish(args, "(d) 200 chained elementwise ops on (16, 16): time per op", rows,
                    targets, notes=["Times are per op: one run (forward, sum, backward) / 200. "
                                    "Overhead per op = time per op minus numpy by hand's (the "
                                    "same arithmetic written out), paired by round."])


if __name__ == "__main__":
    main()
