"""Where the per-op time goes, for the targets that per-op overhead bounds: (a) scalar, (d).

Not a benchmark of the issue: the evidence behind its closing notes. Four measurements:

1. Objects the cyclic garbage collector tracks per scalar op (each one is visited again by
   every full collection while the graph is alive), for tinygrad_lite, micrograd and a floor.
2. The collector's cost as a function of that count, on a synthetic graph of the size of (a).
3. Workload (a)'s scalar step split into forward, its garbage collection, and backward, for
   tinygrad_lite, micrograd and the floor.
4. Workload (d)'s time per op split into forward and backward, for tinygrad_lite, numpy by
   hand and the floor.

The floor is the leanest engine we could write in pure Python: one object per node with the
parents in slots, an op code, no context object, an iterative backward. It has none of the
engine's features (no custom Functions, no dtype rules, no checks, no drawings): it only shows
what CPython itself allows, so that the gap between it and tinygrad_lite is the engine's.

Run: python benchmarks/profile_overhead.py [--rounds N]
"""
import _harness as H  # first: pins the thread count before numpy is imported

# isort: split

import gc  # noqa: E402
import statistics  # noqa: E402

import bench_elementwise  # noqa: E402
import bench_moons  # noqa: E402
import numpy as np  # noqa: E402

ADD, MUL, RELU, TANH, SUM = 1, 2, 3, 4, 5


class FloorValue:
    """One node: data, grad, up to two parents and what backward needs, all in slots."""

    __slots__ = ("data", "grad", "a", "b", "op")
    __array_ufunc__ = None  # numpy scalars defer to the reflected operators

    def __init__(self, data, a=None, b=None, op=0):
        self.data = data
        self.grad = None
        self.a = a
        self.b = b
        self.op = op

    def __add__(self, other):
        if type(other) is not FloorValue:
            return FloorValue(self.data + other, self, None, ADD)
        return FloorValue(self.data + other.data, self, other, ADD)

    __radd__ = __add__

    def __mul__(self, other):
        if type(other) is not FloorValue:
            other = FloorValue(other if type(other) is np.ndarray else float(other))
        return FloorValue(self.data * other.data, self, other, MUL)

    __rmul__ = __mul__

    def __neg__(self):
        return self * -1.0

    def relu(self):
        d = self.data
        return FloorValue(d if d > 0 else 0.0, self, None, RELU)

    def tanh(self):
        return FloorValue(np.tanh(self.data), self, None, TANH)

    def sum(self):
        return FloorValue(self.data.sum(), self, None, SUM)

    def backward(self):
        order, seen, stack = [], set(), [(self, False)]
        while stack:  # iterative depth-first post-order
            node, done = stack.pop()
            if done:
                order.append(node)
            elif node not in seen:
                seen.add(node)
                stack.append((node, True))
                if node.a is not None:
                    stack.append((node.a, False))
                if node.b is not None:
                    stack.append((node.b, False))
        self.grad = 1.0
        for node in reversed(order):
            g, op, a, b = node.grad, node.op, node.a, node.b
            if g is None or op == 0:
                continue
            if op == ADD:
                ga, gb = g, g
            elif op == MUL:
                ga, gb = g * b.data, g * a.data
            elif op == RELU:
                ga, gb = (g if node.data > 0 else 0.0), None
            elif op == TANH:
                t = node.data
                ga, gb = g * (1.0 - t * t), None
            else:  # SUM
                ga, gb = np.broadcast_to(g, a.data.shape), None
            a.grad = ga if a.grad is None else a.grad + ga
            if b is not None and gb is not None:
                b.grad = gb if b.grad is None else b.grad + gb


def tracked_per_op(value_cls, n=10_000):
    """GC-tracked objects that stay alive per op of y = y * w + 0.1."""
    gc.collect()
    gc.disable()
    try:
        before = len(gc.get_objects())
        y = x = value_cls(0.5)
        w = value_cls(0.3)
        for _ in range(n):
            y = y * w + 0.1
        gc.collect()
        return (len(gc.get_objects()) - before) / (2 * n), x, y
    finally:
        gc.enable()


class _Node:
    __slots__ = ("a", "b")

    def __init__(self, a=None, b=None):
        self.a, self.b = a, b


def gc_cost(k, n=65_000):
    """Seconds of cyclic GC while building a chain of n ops of k tracked objects each."""
    prev = _Node()
    with H.GCTimer() as gct:
        for _ in range(n):
            if k == 1:
                prev = _Node(prev)
            elif k == 2:
                prev = _Node(prev, _Node())
            elif k == 3:
                prev = _Node((prev, _Node()))
            else:
                prev = _Node((prev, _Node()), _Node(_Node()))
    return gct.seconds


def moons_phases(make_value, model, params, X, y, zero_grad):
    """Forward (compute, GC) and backward seconds of one step of micrograd's demo."""
    now = H._now
    with H.GCTimer() as gct:
        t0 = now()
        inputs = [list(map(make_value, row)) for row in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores, strict=True)]
        total = sum(losses) * (1.0 / len(losses)) + bench_moons.ALPHA * sum(p * p for p in params)
        t1 = now()
    fwd_gc = gct.seconds
    zero_grad()
    with H.GCTimer() as gct:
        t2 = now()
        total.backward()
        t3 = now()
    return {"forward": t1 - t0 - fwd_gc, "forward GC": fwd_gc, "backward": t3 - t2,
            "backward GC": gct.seconds}


def moons_systems():
    X, y01 = bench_moons.make_moons()
    y = y01 * 2 - 1
    layers = bench_moons.initial_weights()
    systems = {}
    from tinygrad_lite import Value

    for name, cls in (("tinygrad_lite", Value), ("floor", FloorValue)):
        model = bench_moons.ScalarMLP(cls, layers)
        params = model.parameters()
        systems[name] = (cls, model, params, (lambda ps: lambda: [p.__setattr__(
            "grad", None) for p in ps])(params))
    mg = H.import_micrograd()
    if mg:
        engine, nn = mg
        model = nn.MLP(2, [16, 16, 1])
        systems["micrograd"] = (engine.Value, model, model.parameters(), model.zero_grad)
    return systems, X, y


def elementwise_phases(make_value, x0, tanh):
    now = H._now
    t0 = now()
    x = make_value(x0)
    yv = x
    for i in range(bench_elementwise.N_OPS):
        k = i % 3
        yv = yv * bench_elementwise.MUL if k == 0 else (
            yv + bench_elementwise.ADD if k == 1 else tanh(yv))
    s = yv.sum()
    t1 = now()
    s.backward()
    t2 = now()
    return {"forward": (t1 - t0) / bench_elementwise.N_OPS,
            "backward": (t2 - t1) / bench_elementwise.N_OPS}, x.grad


def main(argv=None):
    args = H.parser(__doc__.splitlines()[0]).parse_args(argv)
    rounds = args.rounds or 5
    from tinygrad_lite import Value

    print("## 1. GC-tracked objects alive per scalar op (y = y * w + 0.1)\n")
    print("| system | objects per op |\n|---|---|")
    peers = [("tinygrad_lite", Value), ("floor", FloorValue)]
    mg = H.import_micrograd()
    if mg:
        peers.append(("micrograd", mg[0].Value))
    for name, cls in peers:
        print(f"| {name} | {tracked_per_op(cls)[0]:.2f} |")

    print(f"\n## 2. Cyclic GC time while building 65k ops, by objects per op (clock: {H.CLOCK})\n")
    print("| objects per op | GC seconds |\n|---|---|")
    for k in (1, 2, 3, 4):
        gc.collect()
        print(f"| {k} | {statistics.median(gc_cost(k) for _ in range(rounds)):.3f} |")

    print("\n## 3. (a) scalar step, split (median seconds)\n")
    systems, X, y = moons_systems()
    results = {name: [] for name in systems}
    for _ in range(rounds):
        for name, (cls, model, params, zero_grad) in systems.items():
            gc.collect()
            results[name].append(moons_phases(cls, model, params, X, y, zero_grad))
    keys = ["forward", "forward GC", "backward", "backward GC"]
    print("| system | " + " | ".join(keys) + " | total |")
    print("|---" * (len(keys) + 2) + "|")
    for name, runs in results.items():
        med = {k: statistics.median(r[k] for r in runs) for k in keys}
        print(f"| {name} | " + " | ".join(f"{med[k]:.3f}" for k in keys)
              + f" | {sum(med.values()):.3f} |")

    print("\n## 4. (d) time per op on (16, 16), split (median microseconds)\n")
    x0 = np.random.default_rng(0).standard_normal(bench_elementwise.SHAPE)
    cases = {"tinygrad_lite": (Value, lambda v: v.tanh()),
             "floor": (FloorValue, lambda v: v.tanh())}
    ref = bench_elementwise.numpy_case(x0)()
    split = {name: [] for name in cases}
    hand = []
    for _ in range(rounds * 4):
        for name, (cls, tanh) in cases.items():
            phases, grad = elementwise_phases(cls, x0, tanh)
            if not np.allclose(grad, ref):
                raise AssertionError(f"profile_overhead: {name} computes a different gradient")
            split[name].append(phases)
        t0 = H._now()
        bench_elementwise.numpy_case(x0)()
        hand.append((H._now() - t0) / bench_elementwise.N_OPS)
    print("| system | forward | backward | total |\n|---|---|---|---|")
    for name, runs in split.items():
        f = statistics.median(r["forward"] for r in runs) * 1e6
        b = statistics.median(r["backward"] for r in runs) * 1e6
        print(f"| {name} | {f:.2f} | {b:.2f} | {f + b:.2f} |")
    print(f"| numpy by hand | | | {statistics.median(hand) * 1e6:.2f} |")


if __name__ == "__main__":
    main()
