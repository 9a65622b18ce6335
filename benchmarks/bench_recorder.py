"""Recording cost: one SGD step of the lecture's 10-layer tanh net, with and without viz.Recorder.

The net: Linear(500, 500) + Tanh, ten times, then Linear(500, 10) and softmax cross-entropy;
batch 64, float64, Xavier init. The baseline is the training step alone (forward, backward,
SGD update); the case adds ``rec.record(loss, step)`` after ``backward()``, every step, with
the Recorder's forward hooks on every module. Issue 13's target: at most 1.5x the step alone.

Both cases train their own copy of the same net from the same weights; their first losses are
checked equal, and after the timing the recorded net's weights are checked to be those of a
net trained the same number of steps without a Recorder (recording never changes training).

Also measured: the explorer page for 50 recorded steps (its size in MiB; issue 13's target is
at most 5 MiB) and the time ``viz.explore`` takes to write it.

Run: python benchmarks/bench_recorder.py [--threads 1] [--rounds N] [--quick] [--json out.json]
"""
import _harness as H  # noqa: I001  (first: pins the thread count before numpy is imported)

import time  # noqa: E402

import numpy as np  # noqa: E402

DEPTH, WIDTH, CLASSES, BATCH, LR = 10, 500, 10, 64, 0.01


def make_net(seed=0):
    """The lecture's net, Xavier init, from a fixed seed."""
    from tinygrad_lite import nn

    rng = np.random.default_rng(seed)
    layers = []
    for _ in range(DEPTH):
        layers += [nn.Linear(WIDTH, WIDTH, rng=rng), nn.Tanh()]
    return nn.Sequential(*layers, nn.Linear(WIDTH, CLASSES, rng=rng))


def make_data(seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((BATCH, WIDTH)), rng.integers(0, CLASSES, BATCH)


def step_case(X, y, record=False):
    """A zero-argument training step (and the model, and the Recorder or None)."""
    import tinygrad_lite.functional as F
    import viz
    from tinygrad_lite import optim

    model = make_net()
    opt = optim.SGD(model.parameters(), lr=LR)
    rec = viz.Recorder(model) if record else None
    count = [0]

    def step():
        opt.zero_grad()
        loss = F.softmax_cross_entropy(model(X), y)
        loss.backward()
        if rec is not None:
            rec.record(loss, count[0])
        opt.step()
        count[0] += 1
        return loss.item()

    return step, model, rec, count


def check_unchanged(X, y, model, steps):
    """The recorded net's weights equal those of a net trained ``steps`` steps without."""
    plain, plain_model, _, _ = step_case(X, y)
    for _ in range(steps):
        plain()
    for (name, p), (_, q) in zip(model.named_parameters(),
                                        plain_model.named_parameters(), strict=True):
        if not np.array_equal(p.data, q.data):
            raise AssertionError(f"recorder: weights {name} differ after {steps} steps with and "
                                 f"without a Recorder")


def page_size(X, y, steps=50):
    """(MiB, seconds to write) of the explorer page for ``steps`` recorded steps."""
    import viz

    step, _, rec, _ = step_case(X, y, record=True)
    for _ in range(steps):
        step()
    t0 = time.perf_counter()
    page = viz.explore(rec, title="10 x 500 tanh")
    seconds = time.perf_counter() - t0
    return len(page.html.encode("utf-8")) / H.MiB, seconds  # (str(page) is a one-line summary)


def main(argv=None):
    args = H.parser(__doc__.splitlines()[0]).parse_args(argv)
    X, y = make_data()
    base, _, _, _ = step_case(X, y)
    rec_step, rec_model, rec, count = step_case(X, y, record=True)
    first = base(), rec_step()
    if first[0] != first[1]:
        raise AssertionError(f"recorder: first losses differ: {first[0]!r} without, {first[1]!r} "
                             f"with the Recorder")
    cases = {"training step": base, "training step + Recorder.record": rec_step}
    rows = H.compare("10 x 500 tanh, batch 64", cases, baseline="training step",
                     rounds=args.rounds or (5 if args.quick else 15),
                     min_time=0.2 if args.quick else 0.5)
    check_unchanged(X, y, rec_model, count[0])
    rec_row = H.find(rows, "training step + Recorder.record")
    ratio = rec_row.ratio
    mib, seconds = page_size(X, y, 10 if args.quick else 50)
    steps = 10 if args.quick else 50
    rows.append(H.Row("explorer page", f"viz.explore, {steps} steps", mib, unit="MiB",
                      note=f"written in {seconds:.2f} s; {len(rec.nodes)} nodes"))
    targets = [
        H.target("recorder", "step with Recorder.record / step alone", ratio, 1.5,
                 f"{count[0]} steps recorded; weights unchanged", rec_row.ratio_gc),
        H.Target("explorer", f"page of {steps} recorded steps, MiB", mib, 5.0,
                 H.ratio_ok(mib, 5.0), f"written in {seconds:.2f} s"),
    ]
    return H.finish(args, "viz.Recorder: recording cost on the 10 x 500 tanh net", rows, targets)


if __name__ == "__main__":
    main()
