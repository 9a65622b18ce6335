"""Backward passes in several threads through shared parameters (issue 18).

Pending gradients live in a dict local to each backward call and the one shared thing, a
Value's ``.grad``, is added to under a lock, so threads must get exactly what the same passes
run one after another get (up to the order of the float additions), as PyTorch does.
A Barrier starts the threads' passes together and a tiny switch interval makes the
interpreter switch threads often, so the passes really overlap.
"""
import sys
import threading

import numpy as np

import tinygrad_lite.functional as F
from tinygrad_lite import Value, nn

THREADS = 4


class _MLP(nn.Module):
    """3 -> 32 -> 32 -> 2, tanh then relu, float64. The middle weight has 1024 entries:
    numpy releases the GIL while adding arrays that large, so an unlocked += can lose a pass."""

    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(3, 64, rng=1)
        self.l2 = nn.Linear(64, 64, rng=2, bias_init=0.1)
        self.l3 = nn.Linear(64, 2, rng=3)

    def forward(self, x):
        h1 = self.l1(x)  # (N, 32): an interior node whose gradient each pass keeps
        return self.l3(self.l2(h1.tanh()).relu()), h1


def _loss(model, batch):
    x, target = batch
    out, h1 = model(Value(x, requires_grad=False))
    return F.mse_loss(out, target), h1


def _batches(n_threads, passes):
    rng = np.random.default_rng(18)
    return [[(rng.standard_normal((5, 3)), rng.standard_normal((5, 2))) for _ in range(passes)]
            for _ in range(n_threads)]


def _grads(model):
    return [p.grad.copy() for p in model.parameters()]


def _run_in_threads(work, n_threads):
    """Run ``work(i, barrier)`` in n_threads threads with a tiny switch interval; re-raise the
    first error a thread met."""
    barrier = threading.Barrier(n_threads)
    errors = []

    def target(i):
        try:
            work(i, barrier)
        except BaseException as e:  # noqa: BLE001 - re-raised in the main thread
            errors.append(e)
            barrier.abort()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n_threads)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        sys.setswitchinterval(interval)
    assert not any(t.is_alive() for t in threads), "a thread did not finish"
    if errors:
        raise errors[0]


def _assert_sum(got, per_pass, what):
    """got == the sum of per_pass (a list of arrays), up to float rounding of the sum's order:
    rtol 1e-12, and an absolute slack of 1e-12 times the sum of magnitudes for entries where
    the terms cancel. A lost or doubled pass moves an entry by a whole term."""
    terms = np.stack(per_pass)
    np.testing.assert_allclose(got, terms.sum(axis=0), rtol=1e-12,
                               atol=1e-12 * np.abs(terms).sum(axis=0).max(), err_msg=what)


def test_threads_building_their_own_passes_accumulate_what_sequential_passes_do():
    passes = 30
    model = _MLP()
    params = list(model.parameters())
    assert all(p.dtype == np.float64 for p in params) and len(params) == 6
    batches = _batches(THREADS, passes)

    # one after another: each pass's own gradients, and its interior node's
    per_pass, seq_h1, seq_loss = [], {}, {}
    for t in range(THREADS):
        for i, batch in enumerate(batches[t]):
            model.zero_grad()
            loss, h1 = _loss(model, batch)
            loss.backward()
            per_pass.append(_grads(model))
            seq_h1[t, i], seq_loss[t, i] = h1.grad.copy(), loss.item()

    model.zero_grad()
    got_h1, got_loss = {}, {}

    def work(t, barrier):
        for i, batch in enumerate(batches[t]):
            loss, h1 = _loss(model, batch)
            barrier.wait()  # every thread's backward starts together
            loss.backward()
            got_h1[t, i], got_loss[t, i] = h1.grad.copy(), loss.item()

    _run_in_threads(work, THREADS)
    for k, (p, name) in enumerate(zip(params, [n for n, _ in model.named_parameters()],
                                      strict=True)):
        _assert_sum(p.grad, [g[k] for g in per_pass], f"{name}'s grad")
    # each thread's own graph got its own pass's gradients, unmixed with the others'
    assert got_loss == seq_loss
    for key, g in seq_h1.items():
        np.testing.assert_array_equal(got_h1[key], g, err_msg=f"thread {key[0]}, pass {key[1]}")


def test_threads_backpropagating_one_retained_loss_accumulate_every_pass():
    passes = 10
    model = _MLP()
    batch = _batches(1, 1)[0][0]
    loss, h1 = _loss(model, batch)
    loss.backward(retain_graph=True)
    one = _grads(model)
    one_h1 = h1.grad.copy()

    for v in (*model.parameters(), h1, loss):
        v.zero_grad()

    def work(t, barrier):
        for _ in range(passes):
            barrier.wait()
            loss.backward(retain_graph=True)

    _run_in_threads(work, THREADS)
    n = THREADS * passes
    for p, g, (name, _) in zip(model.parameters(), one, model.named_parameters(), strict=True):
        _assert_sum(p.grad, [g] * n, f"{name}'s grad after {n} passes")
    _assert_sum(h1.grad, [one_h1] * n, f"the interior node's grad after {n} passes")
    assert loss.grad.item() == n  # the root accumulates its seed too
